package io.phigate.net;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Bounds the total time spent reading, not only each read: a client that trickles one byte a second still
 * times out at the deadline. Used for the handshake; {@link #clearDeadline()} lifts it once the session starts.
 * The deadline is a {@link ReadDeadline} (a timer, not a socket timeout), so the socket stays blocking and a
 * session's reads stay one system call each.
 */
public final class DeadlineInputStream extends FilterInputStream {
    private final ReadDeadline deadline;

    public DeadlineInputStream(InputStream in, ReadDeadline deadline) {
        super(in);
        this.deadline = deadline;
    }

    public void clearDeadline() throws IOException {
        deadline.clear();
    }

    @Override
    public int read() throws IOException {
        deadline.check();
        int b;
        try {
            b = super.read();
        } catch (IOException e) {
            throw deadline.timeoutOr(e);
        }
        if (b < 0) {
            deadline.check();
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        deadline.check();
        int n;
        try {
            n = super.read(b, off, len);
        } catch (IOException e) {
            throw deadline.timeoutOr(e);
        }
        if (n < 0) {
            deadline.check();
        }
        return n;
    }
}
