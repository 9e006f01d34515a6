package io.phigate.mask;

import io.phigate.mask.WireValues.Kind;
import java.nio.charset.StandardCharsets;

/**
 * {@code redact}: the type tag ({@code [SSN]}) where the column can hold text, SQL NULL where it cannot, so a
 * masked integer column is still an integer column. A type the gateway does not know (citext, arrays, inet) is
 * re-described as text and gets the tag: NULL would hide that a value was there at all.
 * Also the fail-closed result of the other operators for values they cannot read ({@link #of}).
 */
final class Redact implements MaskOperator {
    private final byte[] tag;

    Redact(PhiType type) {
        this.tag = tag(type);
    }

    static byte[] tag(PhiType type) {
        return ("[" + type.name() + "]").getBytes(StandardCharsets.US_ASCII);
    }

    /** The tag in a form valid for the type (a JSON string for json/jsonb), or NULL for non-text types. */
    static byte[] of(byte[] tag, ValueType type) {
        return switch (WireValues.kind(type.oid())) {
            case TEXT -> tag.clone();
            case JSON -> WireValues.jsonString(tag, type);
            default -> null;
        };
    }

    @Override
    public byte[] apply(byte[] value, ValueType type, RowContext context) {
        return WireValues.kind(type.oid()) == Kind.OTHER ? tag.clone() : of(tag, type);
    }

    @Override
    public int describedType(int typeOid) {
        return WireValues.kind(typeOid) == Kind.OTHER ? WireValues.TEXT : typeOid;
    }

    @Override
    public boolean nullsEvery(int typeOid) {
        Kind kind = WireValues.kind(typeOid);
        return kind != Kind.TEXT && kind != Kind.JSON && kind != Kind.OTHER;
    }

    @Override
    public OperatorSpec spec() {
        return OperatorSpec.REDACT;
    }
}
