package io.phigate.net;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A deadline over a socket's reads that leaves the socket blocking. The JDK reads a socket with a timeout
 * ({@code setSoTimeout}) by switching it to non-blocking mode, and it stays so for the socket's life: every later
 * blocking read is then a failed {@code read}, a {@code poll} and a second {@code read}, measured at a tenth of the
 * gateway's CPU under pgbench (docs/performance.md). Here a timer shuts the socket's input down at the deadline
 * instead: a read blocked then returns end-of-stream or fails, and the reader asks {@link #timeoutOr} whether that
 * was the deadline. Shutting down only the input keeps the output open, so the peer can still be told why. A timed
 * {@code connect} makes the socket non-blocking the same way; armed before an untimed connect, the deadline closes
 * a socket still connecting.
 */
public final class ReadDeadline {
    private static final int ARMED = 0;
    private static final int CLEARED = 1;
    private static final int FIRED = 2;

    private final AtomicInteger state = new AtomicInteger(ARMED);
    private final Thread timer;

    private ReadDeadline(Socket socket, long deadlineNanos) {
        this.timer = Thread.ofVirtual().name("read-deadline").start(() -> {
            long left;
            while ((left = deadlineNanos - System.nanoTime()) > 0) {
                if (state.get() != ARMED) {
                    return;
                }
                LockSupport.parkNanos(left);
            }
            if (state.compareAndSet(ARMED, FIRED)) {
                try {
                    if (socket.isConnected()) {
                        socket.shutdownInput();
                    } else {
                        socket.close(); // still connecting: a blocked connect ends only by closing
                    }
                } catch (IOException e) {
                    // Already closed: no read can block on it.
                }
            }
        });
    }

    /** Arms a deadline at {@code deadlineNanos} ({@link System#nanoTime()} time) over {@code socket}'s reads. */
    public static ReadDeadline arm(Socket socket, long deadlineNanos) {
        return new ReadDeadline(socket, deadlineNanos);
    }

    /** True once the deadline has passed with the deadline still armed: the socket's input is shut. */
    public boolean fired() {
        return state.get() == FIRED;
    }

    /**
     * Lifts the deadline: reads are unbounded from now on. Throws when the deadline had already fired (the input is
     * shut, so the connection cannot go on).
     */
    public void clear() throws SocketTimeoutException {
        if (!state.compareAndSet(ARMED, CLEARED) && state.get() == FIRED) {
            throw new SocketTimeoutException("deadline passed");
        }
        LockSupport.unpark(timer);
    }

    /** {@code e}, or a SocketTimeoutException for it when the deadline is why the read failed. */
    public IOException timeoutOr(IOException e) {
        if (!fired() || e instanceof SocketTimeoutException) {
            return e;
        }
        var timeout = new SocketTimeoutException("deadline passed");
        timeout.initCause(e);
        return timeout;
    }

    /** Throws a SocketTimeoutException when the deadline has fired (a read that saw end-of-stream for it). */
    public void check() throws SocketTimeoutException {
        if (fired()) {
            throw new SocketTimeoutException("deadline passed");
        }
    }
}
