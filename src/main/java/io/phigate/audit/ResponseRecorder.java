package io.phigate.audit;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.zip.Adler32;
import java.util.zip.Deflater;

/**
 * Records one statement's response as the client received it: a SHA-256 over every byte delivered, and the first
 * {@code cap} bytes kept as a zlib stream. Past the cap the record keeps counting and hashing but stops keeping, and
 * says so, so memory per statement stays bounded whatever the result size.
 *
 * <p>Most responses are a few rows, so the kept bytes start out in a small buffer and are written at the end as one
 * zlib <em>stored</em> block; only a response that outgrows {@link #INLINE_BYTES} gets a {@link Deflater}. A Deflater
 * costs about 260 KB of native state that zlib allocates and clears when it starts: for a one-row answer that was
 * several times the work of compressing it, and its output saved a few dozen bytes. Both forms are plain zlib
 * streams, so every reader inflates them the same way.
 *
 * <p>Written by one thread (the session's response pump).
 */
public final class ResponseRecorder {
    /** Kept bytes up to this many are stored uncompressed; zlib's stored block holds at most 65,535. */
    static final int INLINE_BYTES = 1024;
    private static final int ZLIB_HEADER_FASTEST = 0x7801; // deflate, 32 KiB window, level "fastest", check bits

    private final MessageDigest sha = RecordHash.sha256();
    private final int cap;
    private byte[] inline;
    private int inlineLength;
    private Deflater deflater;
    private ByteArrayOutputStream deflated;
    private byte[] chunk;
    private long bytes;
    private boolean finished;
    private byte[] kept;

    public ResponseRecorder(int cap) {
        this.cap = cap;
    }

    public void write(byte[] b, int off, int len) {
        if (finished) {
            return;
        }
        sha.update(b, off, len);
        long room = cap - bytes;
        if (room > 0) {
            keep(b, off, (int) Math.min(len, room));
        }
        bytes += len;
    }

    private final byte[] one = new byte[1];

    public void write(int b) {
        one[0] = (byte) b;
        write(one, 0, 1);
    }

    private void keep(byte[] b, int off, int len) {
        if (deflater == null && inlineLength + len <= INLINE_BYTES) {
            if (inline == null) {
                inline = new byte[INLINE_BYTES];
            }
            System.arraycopy(b, off, inline, inlineLength, len);
            inlineLength += len;
            return;
        }
        if (deflater == null) {
            deflater = new Deflater(Deflater.BEST_SPEED);
            deflated = new ByteArrayOutputStream();
            chunk = new byte[8192];
            if (inlineLength > 0) {
                deflater.setInput(inline, 0, inlineLength);
                drain();
            }
            inline = null;
        }
        deflater.setInput(b, off, len);
        drain();
    }

    /** The finished record; further writes are ignored. */
    public AuditEvent.RecordedResponse finish() {
        if (!finished) {
            finished = true;
            if (deflater == null) {
                kept = stored(inline, inlineLength);
            } else {
                deflater.finish();
                drain();
                deflater.end();
                kept = deflated.toByteArray();
            }
            inline = null;
            deflated = null;
            chunk = null;
        }
        return new AuditEvent.RecordedResponse(bytes, RecordHash.hex(sha.digest()), kept, bytes > cap);
    }

    /** {@code data[0, length)} as a zlib stream of one final stored block (RFC 1950 around RFC 1951 §3.2.4). */
    static byte[] stored(byte[] data, int length) {
        byte[] out = new byte[2 + 5 + length + 4];
        out[0] = (byte) (ZLIB_HEADER_FASTEST >>> 8);
        out[1] = (byte) ZLIB_HEADER_FASTEST;
        out[2] = 1; // BFINAL = 1, BTYPE = 00 (stored)
        out[3] = (byte) length;
        out[4] = (byte) (length >>> 8);
        out[5] = (byte) ~length;
        out[6] = (byte) (~length >>> 8);
        Adler32 adler = new Adler32();
        if (length > 0) {
            System.arraycopy(data, 0, out, 7, length);
            adler.update(data, 0, length);
        }
        int a = (int) adler.getValue();
        int p = 7 + length;
        out[p] = (byte) (a >>> 24);
        out[p + 1] = (byte) (a >>> 16);
        out[p + 2] = (byte) (a >>> 8);
        out[p + 3] = (byte) a;
        return out;
    }

    private void drain() {
        while (true) {
            int n = deflater.deflate(chunk, 0, chunk.length, Deflater.NO_FLUSH);
            if (n > 0) {
                deflated.write(chunk, 0, n);
            }
            if (n < chunk.length && (deflater.needsInput() || deflater.finished())) {
                return;
            }
        }
    }
}
