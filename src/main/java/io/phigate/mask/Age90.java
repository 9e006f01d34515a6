package io.phigate.mask;

import java.nio.charset.StandardCharsets;

/**
 * {@code age90}: ages of 90 and over are reported as 90 (numbers, same type) or {@code 90+} (text), as Safe
 * Harbor requires; younger ages are what this operator is for and pass as they are. A value that is not a
 * plain age (text that is not a whole number, NaN, infinity) is masked: redacted in text, NULL otherwise.
 */
final class Age90 extends ValueOperator {
    private static final byte[] NINETY_PLUS = "90+".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NINETY = "90".getBytes(StandardCharsets.US_ASCII);
    /** numeric 90 in binary: ndigits 1, weight 0, sign +, dscale 0, one base-10000 digit 90. */
    private static final byte[] NUMERIC_NINETY = {0, 1, 0, 0, 0, 0, 0, 0, 0, 90};


    Age90(OperatorSpec spec, PhiType type) {
        super(spec, type);
    }

    @Override
    byte[] mask(byte[] value, ValueType type, RowContext context) {
        return switch (WireValues.kind(type.oid())) {
            case TEXT -> {
                int end = WireValues.textEnd(value, type.oid());
                yield WireValues.parseDecimal(value, 0, end) >= 90 ? NINETY_PLUS.clone() : value;
            }
            case INTEGER -> WireValues.readInteger(value, type) >= 90 ? WireValues.writeInteger(90, type) : value;
            case FLOAT -> {
                double x = WireValues.readFloat(value, type);
                if (Double.isNaN(x)) {
                    yield null;
                }
                yield x >= 90 ? WireValues.writeFloat(90, type) : value;
            }
            case NUMERIC -> type.binary() ? binaryNumeric(value) : textNumeric(value);
            default -> null;
        };
    }

    private static byte[] textNumeric(byte[] v) {
        int i = 0;
        if (v.length > 0 && v[0] == '-') {
            i = 1;
        }
        int start = i;
        while (i < v.length && v[i] == '0') {
            i++;
        }
        int leadingZerosEnd = i;
        while (i < v.length && v[i] >= '0' && v[i] <= '9') {
            i++;
        }
        int integerDigits = i - leadingZerosEnd;
        if (i == start) {
            return null; // NaN, Infinity, or not a number
        }
        if (i < v.length) {
            if (v[i] != '.') {
                return null;
            }
            for (int j = i + 1; j < v.length; j++) {
                if (v[j] < '0' || v[j] > '9') {
                    return null;
                }
            }
        }
        boolean atLeast90 = start == 0
                && (integerDigits > 2 || (integerDigits == 2 && v[leadingZerosEnd] == '9'));
        return atLeast90 ? NINETY.clone() : v;
    }

    private static byte[] binaryNumeric(byte[] v) {
        if (v.length < 8) {
            return null;
        }
        int ndigits = ((v[0] & 0xff) << 8) | (v[1] & 0xff);
        short weight = (short) (((v[2] & 0xff) << 8) | (v[3] & 0xff));
        int sign = ((v[4] & 0xff) << 8) | (v[5] & 0xff);
        if (v.length != 8 + 2 * ndigits || (sign != 0 && sign != 0x4000)) {
            return null; // malformed, NaN or infinity
        }
        if (sign == 0x4000 || ndigits == 0 || weight < 0) {
            return v; // negative, zero, or below 1
        }
        int firstDigit = ((v[8] & 0xff) << 8) | (v[9] & 0xff);
        return weight > 0 || firstDigit >= 90 ? NUMERIC_NINETY.clone() : v;
    }
}
