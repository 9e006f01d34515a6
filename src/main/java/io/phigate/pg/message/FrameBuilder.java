package io.phigate.pg.message;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds one frame: an optional type byte, the Int32 length (patched at the end) and the body. */
final class FrameBuilder {
    private byte[] buf = new byte[64];
    private int pos;
    private final int lengthAt;

    /** A typed frame. */
    FrameBuilder(byte type) {
        buf[0] = type;
        lengthAt = 1;
        pos = 5;
    }

    /** An untyped startup-phase packet. */
    FrameBuilder() {
        lengthAt = 0;
        pos = 4;
    }

    FrameBuilder int8(int v) {
        ensure(1);
        buf[pos++] = (byte) v;
        return this;
    }

    FrameBuilder int16(int v) {
        ensure(2);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
        return this;
    }

    FrameBuilder int32(int v) {
        ensure(4);
        buf[pos++] = (byte) (v >>> 24);
        buf[pos++] = (byte) (v >>> 16);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
        return this;
    }

    FrameBuilder cstring(String s) {
        bytes(s.getBytes(StandardCharsets.UTF_8));
        return int8(0);
    }

    FrameBuilder bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
        return this;
    }

    /** Int32 length then the bytes, or -1 for NULL. */
    FrameBuilder lengthPrefixed(byte[] b) {
        if (b == null) {
            return int32(-1);
        }
        return int32(b.length).bytes(b);
    }

    FrameBuilder int16s(short[] values) {
        int16(values.length);
        for (short v : values) {
            int16(v);
        }
        return this;
    }

    byte[] build() {
        int len = pos - lengthAt;
        buf[lengthAt] = (byte) (len >>> 24);
        buf[lengthAt + 1] = (byte) (len >>> 16);
        buf[lengthAt + 2] = (byte) (len >>> 8);
        buf[lengthAt + 3] = (byte) len;
        return Arrays.copyOf(buf, pos);
    }

    private void ensure(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }
}
