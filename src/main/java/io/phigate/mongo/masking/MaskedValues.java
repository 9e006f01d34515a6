package io.phigate.mongo.masking;

import io.phigate.mask.ScalarMasking.Scalar;
import java.nio.charset.StandardCharsets;

/** A masked value as the reply masker writes it in place of the server's: its BSON type code and bytes. Pure. */
final class MaskedValues {
    private MaskedValues() {
    }

    /** The masked value as a type code followed by its BSON bytes; an int32 stays one while it fits. */
    static byte[] encode(Scalar value, int sourceType) {
        return switch (value) {
            case Scalar.Text t -> {
                byte[] s = t.value().getBytes(StandardCharsets.UTF_8);
                byte[] e = new byte[1 + 4 + s.length + 1];
                e[0] = 0x02;
                putInt32(e, 1, s.length + 1);
                System.arraycopy(s, 0, e, 5, s.length);
                yield e;
            }
            case Scalar.Int i when sourceType == 0x10 && i.value() == (int) i.value() -> {
                byte[] e = new byte[5];
                e[0] = 0x10;
                putInt32(e, 1, (int) i.value());
                yield e;
            }
            case Scalar.Int i -> longValue(0x12, i.value());
            case Scalar.Real r -> longValue(0x01, Double.doubleToRawLongBits(r.value()));
            case Scalar.Time t -> longValue(0x09, t.epochMillis());
            case Scalar.Null n -> new byte[] {0x0A};
            case Scalar.Opaque o -> new byte[] {0x0A}; // never produced by a masking; null if it were
        };
    }

    private static byte[] longValue(int type, long v) {
        byte[] e = new byte[9];
        e[0] = (byte) type;
        for (int i = 0; i < 8; i++) {
            e[1 + i] = (byte) (v >>> (8 * i));
        }
        return e;
    }

    static void putInt32(byte[] to, int at, int v) {
        to[at] = (byte) v;
        to[at + 1] = (byte) (v >>> 8);
        to[at + 2] = (byte) (v >>> 16);
        to[at + 3] = (byte) (v >>> 24);
    }
}
