package io.phigate.mask;

import io.phigate.mask.MaskOperator.ValueType;
import java.nio.charset.StandardCharsets;

/**
 * The PostgreSQL types the operators understand, and their values in both transfer formats. Parsing is
 * strict and allocation-free: a value of an unexpected shape throws {@link Unreadable} (one shared instance,
 * no stack trace), and the operator masks it more instead.
 */
final class WireValues {
    static final int BOOL = 16, BYTEA = 17, NAME = 19, INT8 = 20, INT2 = 21, INT4 = 23, TEXT = 25, JSON = 114,
            FLOAT4 = 700, FLOAT8 = 701, BPCHAR = 1042, VARCHAR = 1043, DATE = 1082, TIMESTAMP = 1114,
            TIMESTAMPTZ = 1184, NUMERIC = 1700, UUID = 2950, JSONB = 3802;

    /** What an operator can do with a type; OTHER is every type it must fail closed on. */
    enum Kind { TEXT, JSON, INTEGER, FLOAT, NUMERIC, DATE, TIMESTAMP, UUID, OPAQUE, OTHER }

    /** Days from 1970-01-01 (java.time's epoch) to 2000-01-01 (PostgreSQL's). */
    static final long PG_EPOCH_DAY = 10_957;
    static final long MICROS_PER_DAY = 86_400_000_000L;
    /** PostgreSQL's finite timestamp range (MIN_TIMESTAMP, END_TIMESTAMP in datatype/timestamp.h). */
    static final long MIN_TIMESTAMP = -211_813_488_000_000_000L, END_TIMESTAMP = 9_223_371_331_200_000_000L;

    private WireValues() {
    }

    static Kind kind(int oid) {
        return switch (oid) {
            case TEXT, VARCHAR, BPCHAR, NAME -> Kind.TEXT;
            case JSON, JSONB -> Kind.JSON;
            case INT2, INT4, INT8 -> Kind.INTEGER;
            case FLOAT4, FLOAT8 -> Kind.FLOAT;
            case NUMERIC -> Kind.NUMERIC;
            case DATE -> Kind.DATE;
            case TIMESTAMP, TIMESTAMPTZ -> Kind.TIMESTAMP;
            case UUID -> Kind.UUID;
            case BYTEA, BOOL -> Kind.OPAQUE;
            default -> Kind.OTHER;
        };
    }

    /** Thrown for a value the operator cannot read; one instance, so failing closed costs no allocation. */
    static final class Unreadable extends RuntimeException {
        static final Unreadable INSTANCE = new Unreadable();

        private Unreadable() {
            super("unreadable value", null, false, false);
        }
    }

    static Unreadable unreadable() {
        return Unreadable.INSTANCE;
    }

    // ---- text-like values (text, varchar, bpchar, name: the binary form is the text's bytes) ----

    /** The end of a text value without bpchar's blank padding, which PostgreSQL treats as insignificant. */
    static int textEnd(byte[] v, int oid) {
        int end = v.length;
        if (oid == BPCHAR) {
            while (end > 0 && v[end - 1] == ' ') {
                end--;
            }
        }
        return end;
    }

    /** A JSON string holding {@code s} in the column's format (jsonb's binary form has a version byte). */
    static byte[] jsonString(byte[] ascii, ValueType type) {
        int prefix = type.oid() == JSONB && type.binary() ? 1 : 0;
        byte[] out = new byte[ascii.length + 2 + prefix];
        if (prefix == 1) {
            out[0] = 1;
        }
        out[prefix] = '"';
        System.arraycopy(ascii, 0, out, prefix + 1, ascii.length);
        out[out.length - 1] = '"';
        return out;
    }

    /** Where the JSON text of a json/jsonb value starts. */
    static int jsonStart(byte[] v, ValueType type) {
        if (type.oid() == JSONB && type.binary()) {
            if (v.length == 0 || v[0] != 1) {
                throw unreadable();
            }
            return 1;
        }
        return 0;
    }

    // ---- integers ----

    static long maxInteger(int oid) {
        return switch (oid) {
            case INT2 -> Short.MAX_VALUE;
            case INT4 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
    }

    static int width(int oid) {
        return switch (oid) {
            case INT2 -> 2;
            case INT4, FLOAT4, DATE -> 4;
            default -> 8;
        };
    }

    static long readInteger(byte[] v, ValueType type) {
        if (type.binary()) {
            return switch (type.oid()) {
                case INT2 -> (short) readBigEndian(v, 2);
                case INT4 -> (int) readBigEndian(v, 4);
                default -> readBigEndian(v, 8);
            };
        }
        return parseDecimal(v, 0, v.length);
    }

    static byte[] writeInteger(long x, ValueType type) {
        return type.binary() ? writeBigEndian(x, width(type.oid())) : decimal(x);
    }

    static long readBigEndian(byte[] v, int width) {
        if (v.length != width) {
            throw unreadable();
        }
        long x = 0;
        for (byte b : v) {
            x = (x << 8) | (b & 0xff);
        }
        return x;
    }

    static byte[] writeBigEndian(long x, int width) {
        byte[] out = new byte[width];
        for (int i = width - 1; i >= 0; i--) {
            out[i] = (byte) x;
            x >>= 8;
        }
        return out;
    }

    /** A decimal integer: optional '-', then 1 to 19 digits, nothing else; overflow is unreadable. */
    static long parseDecimal(byte[] v, int from, int to) {
        boolean negative = from < to && v[from] == '-';
        int i = negative ? from + 1 : from;
        if (i == to || to - i > 19) {
            throw unreadable();
        }
        long x = 0;
        for (; i < to; i++) {
            int d = v[i] - '0';
            if (d < 0 || d > 9) {
                throw unreadable();
            }
            x = x * 10 - d; // accumulate negatively so Long.MIN_VALUE parses
            if (x > 0) {
                throw unreadable();
            }
        }
        if (!negative) {
            if (x == Long.MIN_VALUE) {
                throw unreadable();
            }
            x = -x;
        }
        return x;
    }

    static byte[] decimal(long x) {
        if (x == Long.MIN_VALUE) {
            return "-9223372036854775808".getBytes(StandardCharsets.US_ASCII);
        }
        int len = digitCount(Math.abs(x)) + (x < 0 ? 1 : 0);
        byte[] out = new byte[len];
        long r = Math.abs(x);
        for (int i = len - 1; i >= (x < 0 ? 1 : 0); i--) {
            out[i] = (byte) ('0' + r % 10);
            r /= 10;
        }
        if (x < 0) {
            out[0] = '-';
        }
        return out;
    }

    /** Decimal digits of a non-negative number (0 has one). */
    static int digitCount(long nonNegative) {
        int n = 1;
        while (nonNegative >= 10) {
            nonNegative /= 10;
            n++;
        }
        return n;
    }

    static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) {
            POW10[i] = POW10[i - 1] * 10;
        }
    }

    // ---- floats ----

    static double readFloat(byte[] v, ValueType type) {
        if (type.binary()) {
            return type.oid() == FLOAT4
                    ? Float.intBitsToFloat((int) readBigEndian(v, 4))
                    : Double.longBitsToDouble(readBigEndian(v, 8));
        }
        // float text is rare under masking (ages); the String round-trip is accepted here
        try {
            return Double.parseDouble(new String(v, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            throw unreadable();
        }
    }

    static byte[] writeFloat(double x, ValueType type) {
        if (!type.binary()) {
            return (x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x))
                    .getBytes(StandardCharsets.US_ASCII);
        }
        return type.oid() == FLOAT4
                ? writeBigEndian(Float.floatToIntBits((float) x), 4)
                : writeBigEndian(Double.doubleToLongBits(x), 8);
    }

    // ---- uuid ----

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** The canonical 36-character form PostgreSQL prints. */
    static byte[] uuidText(byte[] raw16) {
        byte[] out = new byte[36];
        int o = 0;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                out[o++] = '-';
            }
            out[o++] = HEX[(raw16[i] >> 4) & 0xf];
            out[o++] = HEX[raw16[i] & 0xf];
        }
        return out;
    }

    /** The 16 bytes of a uuid in either format; only the canonical text form is accepted. */
    static void readUuid(byte[] v, ValueType type, byte[] into16) {
        if (type.binary()) {
            if (v.length != 16) {
                throw unreadable();
            }
            System.arraycopy(v, 0, into16, 0, 16);
            return;
        }
        if (v.length != 36) {
            throw unreadable();
        }
        int o = 0;
        for (int i = 0; i < 36; ) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (v[i++] != '-') {
                    throw unreadable();
                }
                continue;
            }
            into16[o++] = (byte) (hex(v[i]) << 4 | hex(v[i + 1]));
            i += 2;
        }
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        int l = c | 0x20;
        if (l >= 'a' && l <= 'f') {
            return l - 'a' + 10;
        }
        throw unreadable();
    }
}
