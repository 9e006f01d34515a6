package io.phigate.net;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * A buffered output stream whose buffer starts small and doubles, up to {@code maxBuffer}, when a write does not
 * fit: an idle session holds a few KiB, a session streaming a result gets the full buffer, and a write larger
 * than the full buffer goes straight to the socket as {@link java.io.BufferedOutputStream} does. Thread-safe as
 * that class is: each call holds this object's monitor (which no longer pins a virtual thread, JEP 491), so a
 * write racing a close cannot tear the buffer.
 */
public final class GrowingOutputStream extends OutputStream {
    private final OutputStream out;
    private final int maxBuffer;
    private byte[] buf;
    private int count;

    public GrowingOutputStream(OutputStream out, int initialBuffer, int maxBuffer) {
        if (initialBuffer < 1 || maxBuffer < initialBuffer) {
            throw new IllegalArgumentException("buffer of " + initialBuffer + " to " + maxBuffer + " bytes");
        }
        this.out = out;
        this.maxBuffer = maxBuffer;
        this.buf = new byte[initialBuffer];
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (count == buf.length) {
            makeRoom(1);
        }
        buf[count++] = (byte) b;
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len >= maxBuffer) {
            flushBuffer();
            out.write(b, off, len);
            return;
        }
        if (len > buf.length - count) {
            makeRoom(len);
        }
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    /** Grows the buffer if it is below its cap, else writes out what it holds; then {@code len} bytes fit. */
    private void makeRoom(int len) throws IOException {
        if (buf.length < maxBuffer) {
            int size = buf.length;
            while (size - count < len && size < maxBuffer) {
                size = Math.min(maxBuffer, size * 2);
            }
            buf = Arrays.copyOf(buf, size);
        }
        if (len > buf.length - count) {
            flushBuffer();
        }
    }

    private void flushBuffer() throws IOException {
        if (count > 0) {
            out.write(buf, 0, count);
            count = 0;
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        flushBuffer();
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            flush();
        } finally {
            out.close();
        }
    }
}
