package io.phigate.mask;

import io.phigate.mask.WireValues.Unreadable;

/**
 * The operators that read a value: they keep the declared type, and a value they cannot read ({@link Unreadable}
 * from anywhere in {@link #mask}) comes out redacted for text types and NULL for the rest, never as it was.
 */
abstract class ValueOperator implements MaskOperator {
    private final OperatorSpec spec;
    final byte[] tag;

    ValueOperator(OperatorSpec spec, PhiType type) {
        this.spec = spec;
        this.tag = Redact.tag(type);
    }

    abstract byte[] mask(byte[] value, ValueType type, RowContext context);

    @Override
    public final byte[] apply(byte[] value, ValueType type, RowContext context) {
        try {
            return mask(value, type, context);
        } catch (Unreadable e) {
            return Redact.of(tag, type);
        }
    }

    @Override
    public final int describedType(int typeOid) {
        return typeOid;
    }

    @Override
    public final OperatorSpec spec() {
        return spec;
    }
}
