package io.phigate.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SessionThreadsTest {

    /** A connection's thread as the listener starts it: virtual, running the handshake, then the session. */
    private static Thread connection(SessionThreads.Session<Exception> handshakeThenSession) {
        return Thread.ofVirtual().name("test-conn").start(() -> {
            try {
                handshakeThenSession.run();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void theFirstAuthenticatedSessionsRunOnPlatformThreadsAndTheRestOnTheirConnectionsThreads() throws Exception {
        SessionThreads threads = new SessionThreads(2);
        CountDownLatch started = new CountDownLatch(3);
        CountDownLatch release = new CountDownLatch(1);
        List<AtomicReference<Thread>> ranOn = List.of(new AtomicReference<>(), new AtomicReference<>(),
                new AtomicReference<>());
        Thread[] connections = new Thread[3];
        for (int i = 0; i < 3; i++) {
            AtomicReference<Thread> mine = ranOn.get(i);
            connections[i] = connection(() -> threads.runAuthenticated("session", () -> {
                mine.set(Thread.currentThread());
                started.countDown();
                release.await();
            }));
        }
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ranOn.stream().filter(t -> !t.get().isVirtual()).count()).isEqualTo(2);
        assertThat(ranOn.stream().filter(t -> !t.get().isVirtual())).allMatch(t -> t.get().isDaemon(),
                "a session never keeps the JVM from exiting");
        Thread beyond = ranOn.stream().map(AtomicReference::get).filter(Thread::isVirtual).findFirst().orElseThrow();
        assertThat(List.of(connections)).as("beyond the slots a session stays on its connection's thread")
                .contains(beyond);
        assertThat(threads.platformInUse()).isEqualTo(2);
        assertThat(List.of(connections)).as("a connection waits for its session").allMatch(Thread::isAlive);

        release.countDown();
        for (Thread c : connections) {
            assertThat(c.join(java.time.Duration.ofSeconds(5))).isTrue();
        }
        assertThat(threads.platformInUse()).as("slots come back when sessions end").isZero();
        AtomicBoolean virtual = new AtomicBoolean(true);
        threads.runAuthenticated("next", () -> virtual.set(Thread.currentThread().isVirtual()));
        assertThat(virtual).isFalse();
    }

    @Test
    void theConnectionGetsWhatItsSessionThrewAndTheSlotComesBackOnceWhateverEndsIt() throws Exception {
        SessionThreads threads = new SessionThreads(1);
        List<Throwable> endings = List.of(new IOException("client gone"), new IllegalStateException("session failed"),
                new StackOverflowError("deep"));
        for (Throwable ending : endings) {
            assertThatThrownBy(() -> threads.<IOException>runAuthenticated("fails", () -> {
                assertThat(Thread.currentThread().isVirtual()).isFalse();
                throwUnchecked(ending);
            })).isSameAs(ending);
            assertThat(threads.platformInUse()).as("after " + ending).isZero();
        }
        threads.runAuthenticated("ends", () -> { });
        assertThat(threads.platformInUse()).as("released exactly once: never below zero").isZero();
    }

    @Test
    void anInterruptOfTheConnectionReachesTheSessionAndTheConnectionStillWaitsForItsEnd() throws Exception {
        SessionThreads threads = new SessionThreads(1);
        CountDownLatch running = new CountDownLatch(1);
        AtomicBoolean sessionInterrupted = new AtomicBoolean();
        AtomicBoolean endedBeforeConnection = new AtomicBoolean();
        AtomicBoolean connectionKeptInterrupt = new AtomicBoolean();
        Thread connection = connection(() -> {
            threads.runAuthenticated("session", () -> {
                running.countDown();
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    sessionInterrupted.set(true);
                    Thread.sleep(200); // cleaning up: the connection must not release what it holds meanwhile
                    endedBeforeConnection.set(true);
                }
            });
            connectionKeptInterrupt.set(Thread.currentThread().isInterrupted());
        });
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        connection.interrupt();
        assertThat(connection.join(java.time.Duration.ofSeconds(5))).isTrue();
        assertThat(sessionInterrupted).isTrue();
        assertThat(endedBeforeConnection).as("the connection waited for the session's end").isTrue();
        assertThat(connectionKeptInterrupt).isTrue();
        assertThat(threads.platformInUse()).isZero();
    }

    @Test
    void aSessionsOwnHelperThreadTakesTheSessionsKind() throws Exception {
        for (SessionThreads threads : new SessionThreads[]{new SessionThreads(1), SessionThreads.VIRTUAL}) {
            AtomicBoolean same = new AtomicBoolean();
            AtomicBoolean platform = new AtomicBoolean();
            Thread connection = connection(() -> threads.runAuthenticated("session", () -> {
                boolean mine = Thread.currentThread().isVirtual();
                platform.set(!mine);
                Thread helper = SessionThreads.sameKindAsCaller("helper").unstarted(() -> { });
                same.set(helper.isVirtual() == mine);
            }));
            assertThat(connection.join(java.time.Duration.ofSeconds(5))).isTrue();
            assertThat(same).isTrue();
            assertThat(platform.get()).isEqualTo(threads != SessionThreads.VIRTUAL);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void throwUnchecked(Throwable t) throws T {
        throw (T) t;
    }
}
