package io.phigate.mongo;

import io.phigate.net.DeadlineInputStream;
import io.phigate.net.ReadDeadline;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * The client's reads before it authenticates: each message must arrive whole within the idle limit (drivers'
 * monitoring connections never authenticate and send a hello every 10 s, so the limit is per message, not for the
 * whole connection; a client trickling a byte at a time still runs out at it). The limit is a {@link ReadDeadline}
 * on the accepted socket, a timer that shuts its input (under TLS too), not a socket read timeout: the JDK reads a
 * socket with a timeout by making it non-blocking for the rest of its life, so every read of the session after would
 * be a read, a poll and a read again (net.ReadDeadline). Once authenticated, reads are unbounded. Used on the
 * connection's thread.
 */
final class UnauthenticatedReads extends InputStream {
    private final InputStream in;
    private final Socket accepted;
    private final long limitNanos;
    /** The deadline of the message being read; null between messages and once lifted. */
    private ReadDeadline deadline;
    private boolean lifted;
    /** {@code in} under the current deadline, or {@code in} itself once lifted. */
    private InputStream current;

    /** {@code first}: the deadline armed at accept, over the TLS handshake and the first message. */
    UnauthenticatedReads(InputStream in, Socket accepted, Duration limit, ReadDeadline first) {
        this.in = in;
        this.accepted = accepted;
        this.limitNanos = limit.toNanos();
        this.deadline = first;
        this.current = new DeadlineInputStream(in, first);
    }

    /** Before reading a message: it may take the whole limit (the first one's deadline was armed at accept). */
    void awaitMessage() {
        if (!lifted && deadline == null) {
            deadline = ReadDeadline.arm(accepted, System.nanoTime() + limitNanos);
            current = new DeadlineInputStream(in, deadline);
        }
    }

    /**
     * A whole message was read: answering it takes no time of the next one's. Throws when the deadline had passed
     * (its input is shut, so the connection cannot go on).
     */
    void messageRead() throws SocketTimeoutException {
        if (deadline != null) {
            ReadDeadline d = deadline;
            deadline = null;
            current = in;
            d.clear();
        }
    }

    /** Authenticated: reads are unbounded from now on. */
    void lift() throws SocketTimeoutException {
        lifted = true;
        messageRead();
    }

    /** The connection ends: the timer stops now rather than at its deadline. */
    void stop() {
        try {
            lift();
        } catch (SocketTimeoutException e) {
            // already fired: nothing left to stop
        }
    }

    @Override
    public int read() throws IOException {
        return current.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        return current.read(b, off, len);
    }

    @Override
    public int available() throws IOException {
        return current.available();
    }
}
