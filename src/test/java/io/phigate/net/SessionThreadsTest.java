package io.phigate.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class SessionThreadsTest {

    @Test
    void theFirstSessionsRunOnPlatformThreadsAndTheRestOnVirtualThreadsUntilASlotIsFree() throws Exception {
        SessionThreads threads = new SessionThreads(2);
        CountDownLatch release = new CountDownLatch(1);
        Runnable session = () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Thread first = threads.start("s1", session);
        Thread second = threads.start("s2", session);
        Thread third = threads.start("s3", session);
        assertThat(first.isVirtual()).isFalse();
        assertThat(first.isDaemon()).as("a session never keeps the JVM from exiting").isTrue();
        assertThat(second.isVirtual()).isFalse();
        assertThat(third.isVirtual()).isTrue();
        assertThat(threads.platformInUse()).isEqualTo(2);

        release.countDown();
        first.join(5_000);
        second.join(5_000);
        third.join(5_000);
        assertThat(threads.platformInUse()).as("slots come back when sessions end").isZero();
        assertThat(threads.start("s4", () -> { }).isVirtual()).isFalse();
    }

    @Test
    void aSlotComesBackWhenTheSessionFails() throws Exception {
        SessionThreads threads = new SessionThreads(1);
        Thread failing = threads.start("fails", () -> {
            throw new IllegalStateException("session failed");
        });
        failing.join(5_000);
        assertThat(threads.platformInUse()).isZero();
    }

    @Test
    void aSessionsOwnHelperThreadTakesTheSessionsKind() throws Exception {
        for (SessionThreads threads : new SessionThreads[]{new SessionThreads(1), SessionThreads.VIRTUAL}) {
            AtomicBoolean same = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            threads.start("session", () -> {
                boolean mine = Thread.currentThread().isVirtual();
                Thread helper = SessionThreads.sameKindAsCaller("helper").unstarted(() -> { });
                same.set(helper.isVirtual() == mine);
                done.countDown();
            });
            assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(same).isTrue();
        }
    }
}
