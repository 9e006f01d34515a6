package io.phigate.mask;


/**
 * {@code partial}: keeps the last {@code keep} characters and writes {@code *} for each other one. Separators
 * ({@code space - ( ) . / _ : + ,}) stay in place and do not count, so {@code 123-45-6789} becomes
 * {@code ***-**-6789} and a phone keeps its punctuation: the shape says nothing about the person. A value with
 * no more than {@code keep} characters is masked whole, never returned as it was (one of only separators, or
 * empty, has nothing to mask and comes out the same). Integers keep their last
 * {@code keep} digits as a non-negative integer of the same type; other types become NULL.
 */
final class Partial extends ValueOperator {
    private final int keep;

    Partial(OperatorSpec spec, PhiType type) {
        super(spec, type);
        if (spec.keep() < 0) {
            throw new IllegalArgumentException("partial needs keep >= 0");
        }
        this.keep = spec.keep();
    }

    @Override
    byte[] mask(byte[] value, ValueType type, RowContext context) {
        return switch (WireValues.kind(type.oid())) {
            case TEXT -> text(value);
            case INTEGER -> integer(value, type);
            default -> null;
        };
    }

    private byte[] text(byte[] v) {
        int chars = 0;
        for (byte b : v) {
            if (!isContinuation(b) && !isSeparator(b)) {
                chars++;
            }
        }
        int keepFrom = chars <= keep ? chars : chars - keep;
        int length = 0, index = 0;
        for (byte b : v) {
            if (isContinuation(b)) {
                length += index > keepFrom ? 1 : 0; // a kept character keeps all its bytes
            } else if (isSeparator(b)) {
                length++;
            } else {
                length++;
                index++;
            }
        }
        byte[] out = new byte[length];
        int o = 0;
        index = 0;
        for (byte b : v) {
            if (isContinuation(b)) {
                if (index > keepFrom) {
                    out[o++] = b;
                }
            } else if (isSeparator(b)) {
                out[o++] = b;
            } else {
                out[o++] = index++ >= keepFrom ? b : (byte) '*';
            }
        }
        return out;
    }

    private byte[] integer(byte[] value, ValueType type) {
        long x = WireValues.readInteger(value, type);
        if (x == Long.MIN_VALUE) {
            return null;
        }
        long abs = Math.abs(x);
        if (WireValues.digitCount(abs) <= keep) {
            return null; // keeping every digit would be no mask at all
        }
        return WireValues.writeInteger(abs % WireValues.POW10[keep], type);
    }

    private static boolean isContinuation(byte b) {
        return (b & 0xC0) == 0x80;
    }

    private static boolean isSeparator(byte b) {
        return switch (b) {
            case ' ', '-', '(', ')', '.', '/', '_', ':', '+', ',' -> true;
            default -> false;
        };
    }
}
