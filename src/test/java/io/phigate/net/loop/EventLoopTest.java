package io.phigate.net.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The loop's mechanics: tasks from other threads, timers (and their cancelling), readiness handed to handlers. */
class EventLoopTest {

    @Test
    void tasksFromOtherThreadsRunOnTheLoopInOrder() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop")) {
            List<String> ran = new CopyOnWriteArrayList<>();
            CompletableFuture<Boolean> onLoop = new CompletableFuture<>();
            loop.execute(() -> ran.add("a"));
            loop.execute(() -> ran.add("b"));
            loop.execute(() -> onLoop.complete(loop.inLoop() && Thread.currentThread().getName().equals("test-loop")));
            assertThat(onLoop.get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(ran).containsExactly("a", "b");
            assertThat(loop.inLoop()).isFalse();
        }
    }

    @Test
    void aTimerRunsAfterItsDelayAndACancelledOneNever() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop")) {
            CompletableFuture<Long> fired = new CompletableFuture<>();
            CompletableFuture<Void> cancelledFired = new CompletableFuture<>();
            long start = System.nanoTime();
            CompletableFuture<Integer> pendingAfterCancel = new CompletableFuture<>();
            loop.execute(() -> {
                EventLoop.Timer cancelled = loop.schedule(TimeUnit.MILLISECONDS.toNanos(100),
                        () -> cancelledFired.complete(null));
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(200), () -> fired.complete(System.nanoTime() - start));
                cancelled.cancel();
                pendingAfterCancel.complete(loop.pendingTimers());
            });
            assertThat(pendingAfterCancel.get(5, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(fired.get(5, TimeUnit.SECONDS))).isGreaterThanOrEqualTo(190);
            Thread.sleep(100);
            assertThat(cancelledFired).isNotDone();
        }
    }

    @Test
    void aTimerFiresWhileTheSelectorWaitsWithNothingElseToDo() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop")) {
            CountDownLatch fired = new CountDownLatch(3);
            loop.execute(() -> {
                for (int i = 1; i <= 3; i++) {
                    loop.schedule(TimeUnit.MILLISECONDS.toNanos(50L * i), fired::countDown);
                }
            });
            assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void readinessReachesTheChannelsHandler() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop")) {
            Pipe pipe = Pipe.open();
            pipe.source().configureBlocking(false);
            CompletableFuture<String> read = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    loop.register(pipe.source(), SelectionKey.OP_READ, key -> {
                        ByteBuffer b = ByteBuffer.allocate(16);
                        try {
                            int n = pipe.source().read(b);
                            read.complete(new String(b.array(), 0, n) + (loop.inLoop() ? "@loop" : ""));
                            key.cancel();
                        } catch (Exception e) {
                            read.completeExceptionally(e);
                        }
                    });
                } catch (Exception e) {
                    read.completeExceptionally(e);
                }
            });
            pipe.sink().write(ByteBuffer.wrap("ready".getBytes()));
            assertThat(read.get(5, TimeUnit.SECONDS)).isEqualTo("ready@loop");
        }
    }

    @Test
    void aFailingTaskDoesNotStopTheLoop() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop")) {
            CompletableFuture<Void> after = new CompletableFuture<>();
            loop.execute(() -> {
                throw new IllegalStateException("injected");
            });
            loop.execute(() -> after.complete(null));
            after.get(5, TimeUnit.SECONDS);
        }
    }
}
