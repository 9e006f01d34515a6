package io.phigate.net;

import java.util.concurrent.Semaphore;

/**
 * The threads a connection's loops run on. A session blocks in socket reads and in the wait for its audit record;
 * a platform thread is woken by the kernel directly, a virtual thread through the JDK's poller threads and a
 * carrier pool: two more hand-offs per wake-up, measured at about a third of the gateway's CPU per prepared
 * statement (docs/performance.md, decision 0056). A platform thread also keeps the stack pages it has touched,
 * about 200 KiB of memory per idle session more than a virtual thread's, so the first
 * {@code limits.platform_session_threads} sessions run on platform threads (a busy fleet of agents) and any
 * beyond on virtual threads (thousands of idle connections stay cheap). A session keeps its kind for its life,
 * and the threads it starts for itself take the same kind ({@link #sameKindAsCaller}).
 */
public final class SessionThreads {
    /** Every session on a virtual thread, as before platform threads were measured (tests of the virtual path). */
    public static final SessionThreads VIRTUAL = new SessionThreads(0);

    private final int platformSlots;
    private final Semaphore platform;

    public SessionThreads(int platformSlots) {
        if (platformSlots < 0) {
            throw new IllegalArgumentException("platform session threads must be >= 0, got " + platformSlots);
        }
        this.platformSlots = platformSlots;
        this.platform = new Semaphore(platformSlots);
    }

    /** Starts {@code session} on a platform thread while one of the slots is free, else on a virtual thread. */
    public Thread start(String name, Runnable session) {
        if (platform.tryAcquire()) {
            try {
                return Thread.ofPlatform().daemon(true).name(name).start(() -> {
                    try {
                        session.run();
                    } finally {
                        platform.release();
                    }
                });
            } catch (RuntimeException | Error e) {
                platform.release(); // the thread never started (out of native threads): the slot stays free
                throw e;
            }
        }
        return Thread.ofVirtual().name(name).start(session);
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
