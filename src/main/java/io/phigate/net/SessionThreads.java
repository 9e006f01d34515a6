package io.phigate.net;

import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads an authenticated session's loops run on. A session blocks in socket reads and in the wait for its
 * audit record; a platform thread is woken by the kernel directly, a virtual thread through the JDK's poller threads
 * and a carrier pool: two more hand-offs per wake-up, measured at about a third of the gateway's CPU per prepared
 * statement (docs/performance.md, decision 0056). A platform thread also keeps the stack pages it has touched, so
 * only the first {@code limits.platform_session_threads} sessions run on platform threads (a busy fleet of agents)
 * and any beyond on virtual threads (thousands of idle connections stay cheap).
 *
 * <p>Every connection starts on a virtual thread of its listener, which runs the handshake (TLS, startup,
 * authentication): a slot is taken only by a client that has proved who it is, so connections that never finish
 * their handshake cannot hold the slots and push real agents onto the slower path (decision 0061). A session keeps
 * its kind for its life, and the threads it starts for itself take the same kind ({@link #sameKindAsCaller}).
 */
public final class SessionThreads {
    private static final Logger log = LoggerFactory.getLogger(SessionThreads.class);

    /** Every session on a virtual thread, as before platform threads were measured (tests of the virtual path). */
    public static final SessionThreads VIRTUAL = new SessionThreads(0);

    /** An authenticated session, run to its end. */
    @FunctionalInterface
    public interface Session<E extends Exception> {
        void run() throws E;
    }

    private final int platformSlots;
    private final Semaphore platform;

    public SessionThreads(int platformSlots) {
        if (platformSlots < 0) {
            throw new IllegalArgumentException("platform session threads must be >= 0, got " + platformSlots);
        }
        this.platformSlots = platformSlots;
        this.platform = new Semaphore(platformSlots);
    }

    /**
     * Runs an authenticated {@code session} to its end: on a platform thread named {@code name} while one of the
     * slots is free, else on the calling thread. Either way this returns when the session has ended, and throws what
     * it threw: the calling thread, the connection's own, stays the one owner of everything the connection holds
     * and releases it as before. Its wait costs a parked virtual thread's few frames on the heap (decision 0061). The
     * slot is released by the platform thread as it ends, whatever ends the session.
     */
    public <E extends Exception> void runAuthenticated(String name, Session<E> session) throws E {
        if (!platform.tryAcquire()) {
            session.run();
            return;
        }
        Throwable[] thrown = new Throwable[1];
        Thread thread;
        try {
            thread = Thread.ofPlatform().daemon(true).name(name).start(() -> {
                try {
                    session.run();
                } catch (Throwable t) {
                    thrown[0] = t;
                } finally {
                    platform.release();
                }
            });
        } catch (RuntimeException | Error e) {
            // Out of native threads: the slot stays free and the session runs as one beyond the slots would.
            platform.release();
            log.warn("could not start a platform thread for {}, running it on its connection's thread: {}", name,
                    e.toString());
            session.run();
            return;
        }
        awaitEnd(thread);
        rethrow(thrown[0]);
    }

    /**
     * Waits for the session's thread whatever happens to the waiting one: an interrupt of the connection's thread is
     * passed on to the session's and kept, never a reason to release the connection's resources under it.
     */
    private static void awaitEnd(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
                thread.interrupt();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> void rethrow(Throwable t) throws E {
        if (t == null) {
            return;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw (E) t; // a Session<E> throws nothing else checked
    }

    /** Sessions on platform threads now. */
    public int platformInUse() {
        return platformSlots - platform.availablePermits();
    }

    /**
     * A builder of the calling thread's kind, for a thread a session starts for itself (its upstream reader): a
     * platform session's helper on a virtual thread would put the poller hand-off back on every response.
     */
    public static Thread.Builder sameKindAsCaller(String name) {
        return Thread.currentThread().isVirtual() ? Thread.ofVirtual().name(name)
                : Thread.ofPlatform().daemon(true).name(name);
    }
}
