package io.phigate.pg.message;

import java.nio.charset.StandardCharsets;

/** Reads the fields of one message body, turning any overrun into a {@link ProtocolException}. */
final class BodyReader {
    private final byte[] body;
    private final String message;
    private int pos;

    BodyReader(byte[] body, String message) {
        this.body = body;
        this.message = message;
    }

    int remaining() {
        return body.length - pos;
    }

    byte int8() throws ProtocolException {
        need(1);
        return body[pos++];
    }

    short int16() throws ProtocolException {
        need(2);
        short v = (short) (((body[pos] & 0xFF) << 8) | (body[pos + 1] & 0xFF));
        pos += 2;
        return v;
    }

    int int32() throws ProtocolException {
        need(4);
        int v = ((body[pos] & 0xFF) << 24) | ((body[pos + 1] & 0xFF) << 16) | ((body[pos + 2] & 0xFF) << 8)
                | (body[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    /** A count that the protocol sends as a signed Int16 but that must not be negative. */
    int count16() throws ProtocolException {
        int n = int16() & 0xFFFF;
        // Each counted item is at least 2 bytes; a larger count cannot be honest and would allocate for nothing.
        if (n * 2L > remaining()) {
            throw new ProtocolException("malformed " + message + ": count " + n + " exceeds the message");
        }
        return n;
    }

    String cstring() throws ProtocolException {
        int end = pos;
        while (end < body.length && body[end] != 0) {
            end++;
        }
        if (end == body.length) {
            throw new ProtocolException("malformed " + message + ": unterminated string");
        }
        String s = new String(body, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    byte[] bytes(int n) throws ProtocolException {
        if (n < 0) {
            throw new ProtocolException("malformed " + message + ": negative length");
        }
        need(n);
        byte[] out = new byte[n];
        System.arraycopy(body, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** A value prefixed by its Int32 length, where -1 means NULL. */
    byte[] lengthPrefixed() throws ProtocolException {
        int n = int32();
        if (n == -1) {
            return null;
        }
        return bytes(n);
    }

    byte[] rest() throws ProtocolException {
        return bytes(remaining());
    }

    void end() throws ProtocolException {
        if (pos != body.length) {
            throw new ProtocolException("malformed " + message + ": " + (body.length - pos) + " trailing bytes");
        }
    }

    private void need(int n) throws ProtocolException {
        if (n > body.length - pos) {
            throw new ProtocolException("malformed " + message + ": truncated");
        }
    }
}
