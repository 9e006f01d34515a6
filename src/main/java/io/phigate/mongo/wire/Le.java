package io.phigate.mongo.wire;

/** Little-endian reads and writes: every integer of the wire protocol and of BSON is little-endian. */
final class Le {
    private Le() {
    }

    static int int32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    static long int64(byte[] b, int off) {
        return (int32(b, off) & 0xFFFFFFFFL) | (long) int32(b, off + 4) << 32;
    }

    static void putInt32(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }
}
