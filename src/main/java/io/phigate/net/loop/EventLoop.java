package io.phigate.net.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One platform thread waiting on many non-blocking channels with one {@link Selector}, running tasks handed to it
 * from other threads (a journal's "durable", a kill) and timers of its own. A session's sockets, tasks and timers
 * all run on this one thread, so what they touch needs no lock. One wake-up serves every channel that is ready and
 * every task queued meanwhile: that is the saving over a thread per session (decision 0091).
 *
 * <p>Handlers must never block: a blocked handler stalls every session on the loop.
 */
public final class EventLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

    /** What a registered channel's readiness is handed to (the key's attachment). */
    public interface Handler {
        void ready(SelectionKey key);
    }

    private final Selector selector;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Loop-thread only. */
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private long timerSequence;

    public EventLoop(String name) {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        thread = Thread.ofPlatform().name(name).daemon().start(this::run);
    }

    /** Runs {@code task} on the loop thread, after what is queued before it. Safe from any thread. */
    public void execute(Runnable task) {
        tasks.add(task);
        if (Thread.currentThread() != thread) {
            // The JDK writes the wake-up once per select however many threads ask (an eventfd on Linux).
            selector.wakeup();
        }
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Registers {@code channel} (non-blocking) for {@code ops}; loop thread only. */
    public SelectionKey register(SelectableChannel channel, int ops, Handler handler) throws ClosedChannelException {
        requireLoop();
        return channel.register(selector, ops, handler);
    }

    /**
     * Runs {@code action} on the loop thread after {@code delayNanos}, unless {@link Timer#cancel} came first.
     * Loop thread only.
     */
    public Timer schedule(long delayNanos, Runnable action) {
        requireLoop();
        Timer t = new Timer(System.nanoTime() + delayNanos, timerSequence++, action);
        timers.add(t);
        return t;
    }

    /** Timers not yet run nor cancelled (for tests and metrics); loop thread only. */
    int pendingTimers() {
        requireLoop();
        timers.removeIf(t -> t.cancelled);
        return timers.size();
    }

    private void requireLoop() {
        if (!inLoop()) {
            throw new IllegalStateException("not on event loop " + thread.getName());
        }
    }

    private void run() {
        while (!closed) {
            try {
                runTasks();
                long wait = runDueTimers();
                if (!tasks.isEmpty()) {
                    selector.selectNow(EventLoop::ready);
                } else if (wait < 0) {
                    selector.select(EventLoop::ready);
                } else {
                    selector.select(EventLoop::ready, Math.max(1, wait / 1_000_000));
                }
            } catch (Throwable t) {
                // A handler's own failures are its own to handle; this keeps the loop (and its other sessions) alive.
                log.error("event loop {} failed a step", thread.getName(), t);
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private void runTasks() {
        // Only what is queued now: a task that queues another (a session yielding its turn) runs after the selector.
        for (int n = tasks.size(); n > 0; n--) {
            Runnable r = tasks.poll();
            if (r == null) {
                return;
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                log.error("event loop {}: a task failed", thread.getName(), e);
            }
        }
    }

    /** Runs the timers that are due; the nanoseconds to the next one, or -1 when none is left. */
    private long runDueTimers() {
        long now = System.nanoTime();
        while (!timers.isEmpty()) {
            Timer head = timers.peek();
            if (head.cancelled) {
                timers.poll();
                continue;
            }
            long left = head.deadline - now;
            if (left > 0) {
                return left;
            }
            timers.poll();
            try {
                head.action.run();
            } catch (RuntimeException e) {
                log.error("event loop {}: a timer failed", thread.getName(), e);
            }
        }
        return -1;
    }

    private static void ready(SelectionKey key) {
        ((Handler) key.attachment()).ready(key);
    }

    /** Stops the loop; the channels registered on it are the sessions' to close. */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
    }

    /** A timer on the loop; cancelled on the loop thread. */
    public static final class Timer implements Comparable<Timer> {
        private final long deadline;
        private final long sequence;
        private final Runnable action;
        private boolean cancelled;

        private Timer(long deadline, long sequence, Runnable action) {
            this.deadline = deadline;
            this.sequence = sequence;
            this.action = action;
        }

        public void cancel() {
            cancelled = true;
        }

        @Override
        public int compareTo(Timer o) {
            int c = Long.compare(deadline - o.deadline, 0);
            return c != 0 ? c : Long.compare(sequence, o.sequence);
        }
    }
}
