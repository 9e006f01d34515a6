package io.phigate.mask;


/**
 * {@code zip3}: the first three ZIP digits, or {@code 000} for the prefixes whose area has 20,000 people or
 * fewer (Safe Harbor, 45 CFR 164.514(b)(2)(i)(B), Census 2000 list). Text accepts {@code 12345},
 * {@code 12345-6789} and {@code 123456789}; an integer column holds a 5-digit ZIP without its leading zeros
 * ({@code 2134} is 02134) and keeps the prefix as an integer. Anything else is redacted.
 */
final class Zip3 extends ValueOperator {
    private static final boolean[] RESTRICTED = new boolean[1000];

    static {
        for (int p : new int[] {36, 59, 63, 102, 203, 556, 692, 790, 821, 823, 830, 831, 878, 879, 884, 890, 893}) {
            RESTRICTED[p] = true;
        }
    }


    Zip3(OperatorSpec spec, PhiType type) {
        super(spec, type);
    }

    static int prefix(int zip5) {
        int p = zip5 / 100;
        return RESTRICTED[p] ? 0 : p;
    }

    @Override
    byte[] mask(byte[] value, ValueType type, RowContext context) {
        return switch (WireValues.kind(type.oid())) {
            case TEXT -> text(value, WireValues.textEnd(value, type.oid()));
            case INTEGER -> {
                long zip = WireValues.readInteger(value, type);
                if (zip < 0 || zip > 99_999) {
                    yield null;
                }
                yield WireValues.writeInteger(prefix((int) zip), type);
            }
            default -> Redact.of(tag, type);
        };
    }

    private byte[] text(byte[] v, int end) {
        boolean shape = switch (end) {
            case 5, 9 -> allDigits(v, 0, end);
            case 10 -> allDigits(v, 0, 5) && v[5] == '-' && allDigits(v, 6, 10);
            default -> false;
        };
        if (!shape) {
            return tag.clone();
        }
        int p = prefix((v[0] - '0') * 10_000 + (v[1] - '0') * 1000 + (v[2] - '0') * 100);
        byte[] out = new byte[3];
        CivilDates.writeDigits(out, 0, 3, p);
        return out;
    }

    private static boolean allDigits(byte[] v, int from, int to) {
        for (int i = from; i < to; i++) {
            if (v[i] < '0' || v[i] > '9') {
                return false;
            }
        }
        return true;
    }
}
