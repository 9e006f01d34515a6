package io.phigate.net.loop;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few {@link EventLoop}s, handed out in turn to the sessions that move onto one. Threads are named
 * {@code NAME-N} (bench/threads.py counts {@code pg-session-loop-N} as session threads).
 */
public final class EventLoops implements AutoCloseable {
    private final EventLoop[] loops;
    private final AtomicInteger next = new AtomicInteger();

    /** {@code count} loops; 0 means one per available processor. */
    public EventLoops(String name, int count) {
        int n = count > 0 ? count : Runtime.getRuntime().availableProcessors();
        loops = new EventLoop[n];
        for (int i = 0; i < n; i++) {
            loops[i] = new EventLoop(name + "-" + i);
        }
    }

    public EventLoop next() {
        return loops[Math.floorMod(next.getAndIncrement(), loops.length)];
    }

    public int size() {
        return loops.length;
    }

    @Override
    public void close() {
        for (EventLoop l : loops) {
            l.close();
        }
    }
}
