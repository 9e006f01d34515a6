package io.phigate.mask;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import java.nio.charset.StandardCharsets;

/**
 * The masking operators over protocol-neutral scalars, for protocols whose values are not PostgreSQL's (a document
 * store's strings, integers, doubles and instants). Each scalar is handed to the operator as the PostgreSQL type of
 * the same meaning in its binary form (text, int8, float8, timestamptz), so one operator masks a document's SSN
 * exactly as it masks a column's; what comes back is read as the same kind, or as text when the operator
 * re-describes the type (a redacted date is a tag). A value of any other kind (a boolean, an object id, binary,
 * a decimal) cannot be read by the operators: it becomes the type's tag, or null under {@code null}, never itself.
 * Immutable and thread-safe.
 */
public final class ScalarMasking {
    /** 2000-01-01T00:00Z in epoch milliseconds: PostgreSQL's timestamp epoch. */
    private static final long PG_EPOCH_MILLIS = 946_684_800_000L;
    private static final ValueType TEXT = new ValueType(WireValues.TEXT, -1, true);
    private static final ValueType INT8 = new ValueType(WireValues.INT8, -1, true);
    private static final ValueType FLOAT8 = new ValueType(WireValues.FLOAT8, -1, true);
    private static final ValueType TIMESTAMPTZ = new ValueType(WireValues.TIMESTAMPTZ, -1, true);

    /** A value as a document store holds it, in the kinds the operators can read, or {@link Opaque}. */
    public sealed interface Scalar {
        record Text(String value) implements Scalar {
            @Override
            public String toString() {
                return "Text[" + value.length() + " chars]";
            }
        }

        record Int(long value) implements Scalar {
            @Override
            public String toString() {
                return "Int[...]";
            }
        }

        record Real(double value) implements Scalar {
            @Override
            public String toString() {
                return "Real[...]";
            }
        }

        /** A point in time, in epoch milliseconds (a BSON date's precision). */
        record Time(long epochMillis) implements Scalar {
            @Override
            public String toString() {
                return "Time[...]";
            }
        }

        /** Any value the operators cannot read; only its presence is known here. */
        record Opaque() implements Scalar {
        }

        record Null() implements Scalar {
        }

        Null NULL = new Null();
        Opaque OPAQUE = new Opaque();
    }

    private final MaskOperator operator;
    private final String tag;

    public ScalarMasking(MaskOperator operator, PhiType type) {
        this.operator = operator;
        this.tag = "[" + type.name() + "]";
    }

    /** True when the operator is {@code none}: values pass as they are. */
    public boolean passes() {
        return operator.spec().kind() == OperatorSpec.Kind.NONE;
    }

    public OperatorSpec spec() {
        return operator.spec();
    }

    /** What stands for a whole structure (a sub-document under a tagged path), whose keys may be values too. */
    public Scalar whole() {
        if (passes()) {
            throw new IllegalStateException("none keeps values; there is nothing to stand in");
        }
        return operator.spec().kind() == OperatorSpec.Kind.NULL ? Scalar.NULL : new Scalar.Text(tag);
    }

    /** The masked value: of the same kind, text (a tag or a re-described value) or null; never the input unless none. */
    public Scalar apply(Scalar value) {
        if (passes() || value instanceof Scalar.Null) {
            return value;
        }
        return switch (value) {
            case Scalar.Text t -> text(operator.apply(t.value().getBytes(StandardCharsets.UTF_8), TEXT,
                    RowContext.NONE));
            case Scalar.Int i -> back(operator.apply(WireValues.writeBigEndian(i.value(), 8), INT8,
                    RowContext.NONE), INT8);
            case Scalar.Real f -> back(operator.apply(WireValues.writeBigEndian(Double.doubleToRawLongBits(
                    f.value()), 8), FLOAT8, RowContext.NONE), FLOAT8);
            case Scalar.Time t -> time(t.epochMillis());
            case Scalar.Opaque o -> whole();
            case Scalar.Null n -> n;
        };
    }

    private Scalar time(long epochMillis) {
        long micros;
        try {
            micros = Math.multiplyExact(epochMillis - PG_EPOCH_MILLIS, 1000L);
        } catch (ArithmeticException e) {
            return whole(); // beyond any timestamp the operators read: fail closed
        }
        return back(operator.apply(WireValues.writeBigEndian(micros, 8), TIMESTAMPTZ, RowContext.NONE), TIMESTAMPTZ);
    }

    private static Scalar text(byte[] masked) {
        return masked == null ? Scalar.NULL : new Scalar.Text(new String(masked, StandardCharsets.UTF_8));
    }

    /** Reads the operator's output as the type it was given, or as text when the operator re-described it. */
    private Scalar back(byte[] masked, ValueType type) {
        if (masked == null) {
            return Scalar.NULL;
        }
        if (operator.describedType(type.oid()) != type.oid()) {
            return text(masked);
        }
        if (masked.length != 8) {
            return whole(); // not what the type's binary form is: fail closed
        }
        long bits = WireValues.readBigEndian(masked, 8);
        return switch (type.oid()) {
            case WireValues.INT8 -> new Scalar.Int(bits);
            case WireValues.FLOAT8 -> new Scalar.Real(Double.longBitsToDouble(bits));
            default -> new Scalar.Time(Math.floorDiv(bits, 1000L) + PG_EPOCH_MILLIS);
        };
    }
}
