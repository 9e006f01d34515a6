package io.phigate.pg;

import io.phigate.session.Refusal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Statement text in an analysed session is read as UTF-8 strictly, as the server reads it with client_encoding
 * UTF8: a malformed sequence is refused with the server's own error (22021) rather than read as U+FFFD, which
 * would analyse a statement the server never sees. The JDK's strict decoder and PostgreSQL's {@code
 * pg_utf8_islegal} agree: both refuse overlong forms, surrogates and code points above U+10FFFF.
 */
final class ClientText {
    static final String CHARACTER_NOT_IN_REPERTOIRE = "22021";

    private ClientText() {
    }

    /**
     * The server's refusal for a Query ('Q') or Parse ('P') whose statement name or text is not UTF-8, or null
     * when it is (and for every other message).
     */
    static Refusal invalidUtf8(byte type, byte[] body) {
        int strings = type == 'Q' ? 1 : type == 'P' ? 2 : 0;
        int start = 0;
        for (int i = 0; i < strings; i++) {
            int end = start;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            int bad = firstMalformed(body, start, end);
            if (bad >= 0) {
                return new Refusal(CHARACTER_NOT_IN_REPERTOIRE,
                        "invalid byte sequence for encoding \"UTF8\": " + hex(body, bad, end));
            }
            start = end + 1;
        }
        return null;
    }

    /** True when {@code value} is well-formed UTF-8, as the server with client_encoding UTF8 requires of text. */
    static boolean wellFormed(byte[] value) {
        return firstMalformed(value, 0, value.length) < 0;
    }

    /** Offset of the first malformed sequence in {@code body[start, end)}, or -1. */
    private static int firstMalformed(byte[] body, int start, int end) {
        boolean ascii = true;
        for (int i = start; i < end && ascii; i++) {
            ascii = body[i] >= 0;
        }
        if (ascii) {
            return -1;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body, start, end - start);
        CharBuffer out = CharBuffer.allocate(end - start);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            return in.position();
        }
        r = decoder.flush(out);
        return r.isError() ? in.position() : -1;
    }

    /** As PostgreSQL's report_invalid_encoding: the bytes of the offending character as far as its lead says. */
    private static String hex(byte[] body, int at, int end) {
        int lead = body[at] & 0xFF;
        int length = (lead & 0x80) == 0 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                : (lead & 0xF8) == 0xF0 ? 4 : 1;
        StringBuilder b = new StringBuilder();
        for (int i = at; i < Math.min(end, at + length); i++) {
            b.append(b.isEmpty() ? "" : " ").append(String.format("0x%02x", body[i] & 0xFF));
        }
        return b.toString();
    }
}
