package io.phigate.pg;

import java.io.IOException;
import java.io.OutputStream;

/** Counts what reaches the client's stream; only the thread writing to the client (under its lock) adds. */
final class ByteCounter extends java.io.FilterOutputStream {
    private final java.util.concurrent.atomic.LongAdder count = new java.util.concurrent.atomic.LongAdder();

    ByteCounter(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        count.increment();
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        count.add(len);
    }

    long count() {
        return count.sum();
    }
}
