package io.phigate.net;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * Bounds the total time spent reading, not only each read: a client that trickles one byte a second still
 * times out at the deadline. Used for the handshake; {@link #clearDeadline()} lifts it once the session starts.
 */
public final class DeadlineInputStream extends FilterInputStream {
    private final Socket socket;
    private volatile long deadlineNanos;

    public DeadlineInputStream(InputStream in, Socket socket, long deadlineNanos) {
        super(in);
        this.socket = socket;
        this.deadlineNanos = deadlineNanos;
    }

    public void clearDeadline() throws IOException {
        deadlineNanos = 0;
        socket.setSoTimeout(0);
    }

    @Override
    public int read() throws IOException {
        arm();
        return super.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        arm();
        return super.read(b, off, len);
    }

    private void arm() throws IOException {
        long deadline = deadlineNanos;
        if (deadline == 0) {
            return;
        }
        long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
        if (remainingMillis <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remainingMillis));
    }
}
