package io.phigate.audit;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.zip.Deflater;

/**
 * Records one statement's response as the client received it: a SHA-256 over every byte delivered, and the first
 * {@code cap} bytes kept deflated. Past the cap the record keeps counting and hashing but stops keeping, and says
 * so, so memory per statement stays bounded whatever the result size.
 *
 * <p>Written by one thread (the session's response pump).
 */
public final class ResponseRecorder {
    private final MessageDigest sha = RecordHash.sha256();
    private final int cap;
    private final Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final byte[] chunk = new byte[8192];
    private long bytes;
    private boolean finished;

    public ResponseRecorder(int cap) {
        this.cap = cap;
    }

    public void write(byte[] b, int off, int len) {
        sha.update(b, off, len);
        long room = cap - bytes;
        if (room > 0) {
            deflater.setInput(b, off, (int) Math.min(len, room));
            drain(Deflater.NO_FLUSH);
        }
        bytes += len;
    }

    private final byte[] one = new byte[1];

    public void write(int b) {
        one[0] = (byte) b;
        write(one, 0, 1);
    }

    /** The finished record; further writes are ignored. */
    public AuditEvent.RecordedResponse finish() {
        if (!finished) {
            finished = true;
            deflater.finish();
            drain(Deflater.NO_FLUSH);
            deflater.end();
        }
        return new AuditEvent.RecordedResponse(bytes, RecordHash.hex(sha.digest()), kept.toByteArray(), bytes > cap);
    }

    private void drain(int flush) {
        while (true) {
            int n = deflater.deflate(chunk, 0, chunk.length, flush);
            if (n > 0) {
                kept.write(chunk, 0, n);
            }
            if (n < chunk.length && (deflater.needsInput() || deflater.finished())) {
                return;
            }
        }
    }
}
