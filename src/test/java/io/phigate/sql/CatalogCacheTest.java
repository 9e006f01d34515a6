package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CatalogCacheTest {
    private static final String UPSTREAM = "clinical";
    private static final long INTERVAL = CatalogCache.INTERVAL.toNanos();

    private final AtomicInteger loads = new AtomicInteger();
    private final AtomicLong now = new AtomicLong();

    private CatalogCache cache(boolean fail) {
        return new CatalogCache(u -> {
            loads.incrementAndGet();
            if (fail) {
                throw new IOException("upstream down");
            }
            return DemoCatalog.get();
        }, Duration.ofMinutes(5), now::get);
    }

    @Test
    void loadsOnceAndServesTheSameAnalyserUntilTheTtl() throws IOException {
        CatalogCache c = cache(false);
        SqlAnalyzer first = c.analyzer(UPSTREAM);
        assertThat(c.analyzer(UPSTREAM)).isSameAs(first);
        assertThat(loads).hasValue(1);
        now.addAndGet(Duration.ofMinutes(5).toNanos());
        assertThat(c.analyzer(UPSTREAM)).isNotSameAs(first);
        assertThat(loads).hasValue(2);
    }

    @Test
    void invalidateForcesAReload() throws IOException {
        CatalogCache c = cache(false);
        SqlAnalyzer first = c.analyzer(UPSTREAM);
        c.invalidate("clinical");
        assertThat(c.analyzer(UPSTREAM)).isNotSameAs(first);
        assertThat(loads).hasValue(2);
    }

    @Test
    void aFailedLoadReachesTheCallerAndIsRetried() {
        CatalogCache c = cache(true);
        assertThatThrownBy(() -> c.catalog(UPSTREAM)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> c.catalog(UPSTREAM)).isInstanceOf(IOException.class);
        assertThat(loads).hasValue(2);
    }

    @Test
    void concurrentCallersShareOneLoad() throws Exception {
        CatalogCache c = cache(false);
        Thread[] ts = new Thread[16];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = Thread.ofVirtual().start(() -> {
                try {
                    c.analyzer(UPSTREAM);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        assertThat(loads).hasValue(1);
    }

    private final AtomicReference<String> server = new AtomicReference<>("1:1");
    private final AtomicInteger asked = new AtomicInteger();

    /** A cache over a server whose fingerprint is {@link #server}, counting loads and fingerprint readings. */
    private CatalogCache fingerprinted() {
        return new CatalogCache(u -> {
            loads.incrementAndGet();
            return PgCatalog.builder().fingerprint(server.get()).build();
        }, u -> {
            asked.incrementAndGet();
            return server.get();
        }, Duration.ofMinutes(5), now::get);
    }

    @Test
    void aCatalogIsHandedOutWithoutAskingWhileTheSharedReadingIsUnderTheIntervalOld() throws IOException {
        CatalogCache c = fingerprinted();
        SqlAnalyzer first = c.analyzer(UPSTREAM);
        for (int i = 0; i < 50; i++) { // a connection storm within the second: the load's own reading answers
            assertThat(c.analyzer(UPSTREAM)).isSameAs(first);
        }
        assertThat(asked).hasValue(0);
        now.addAndGet(INTERVAL);
        for (int i = 0; i < 50; i++) {
            assertThat(c.analyzer(UPSTREAM)).isSameAs(first);
        }
        assertThat(asked).hasValue(1);
        server.set("1:2"); // DDL by someone else
        now.addAndGet(INTERVAL);
        SqlAnalyzer reread = c.analyzer(UPSTREAM);
        assertThat(reread).isNotSameAs(first);
        assertThat(PgCatalog.of(reread.catalog()).fingerprint()).isEqualTo("1:2");
        assertThat(loads).hasValue(2);
        assertThat(asked).hasValue(2);
        // The reload is itself a reading: the sessions' shared one shows the new catalog without asking again.
        assertThat(c.freshness(UPSTREAM).latest().fingerprint()).isEqualTo("1:2");
        assertThat(asked).hasValue(2);
    }

    @Test
    void sessionsBetweenTransactionsCauseOneReadingPerIntervalWhateverTheirNumber() throws IOException {
        CatalogCache c = fingerprinted();
        c.analyzer(UPSTREAM);
        CatalogCache.Freshness shared = c.freshness(UPSTREAM);
        // 20 sessions, each between transactions every 10 ms, for 10 s.
        for (int tick = 0; tick < 1000; tick++) {
            now.addAndGet(Duration.ofMillis(10).toNanos());
            for (int session = 0; session < 20; session++) {
                CatalogCache.Reading r = shared.latest();
                assertThat(now.get() - r.readAt()).isLessThan(INTERVAL);
            }
        }
        assertThat(asked.get()).isBetween(9, 10);
    }

    @Test
    void anIdleGatewayAsksNothing() throws IOException {
        CatalogCache c = fingerprinted();
        c.analyzer(UPSTREAM);
        c.freshness(UPSTREAM);
        now.addAndGet(Duration.ofHours(1).toNanos());
        assertThat(asked).hasValue(0);
    }

    @Test
    void oneSessionReadsWhileTheOthersUseTheReadingThereIs() throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CatalogCache c = new CatalogCache(u -> PgCatalog.builder().fingerprint("1:1").build(), u -> {
            asked.incrementAndGet();
            reading.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            return "1:1";
        }, Duration.ofMinutes(5), now::get);
        c.analyzer(UPSTREAM);
        now.addAndGet(INTERVAL);
        CatalogCache.Freshness shared = c.freshness(UPSTREAM);
        Thread reader = Thread.ofVirtual().start(shared::latest);
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
        Thread[] others = new Thread[19];
        AtomicInteger answered = new AtomicInteger();
        for (int i = 0; i < others.length; i++) {
            others[i] = Thread.ofVirtual().start(() -> {
                if (shared.latest().readAt() == 0) { // the reading there was, not waiting for the new one
                    answered.incrementAndGet();
                }
            });
        }
        for (Thread t : others) {
            t.join(10_000);
        }
        assertThat(answered).hasValue(19);
        release.countDown();
        reader.join(10_000);
        assertThat(asked).hasValue(1);
        assertThat(shared.latest().readAt()).isEqualTo(INTERVAL);
    }

    @Test
    void aFailedReadingLeavesTheOldOneAndIsTriedAgainOncePerInterval() throws IOException {
        AtomicInteger tries = new AtomicInteger();
        CatalogCache c = new CatalogCache(u -> PgCatalog.builder().fingerprint("1:1").build(), u -> {
            tries.incrementAndGet();
            throw new IOException("upstream down");
        }, Duration.ofMinutes(5), now::get);
        c.analyzer(UPSTREAM);
        now.addAndGet(INTERVAL);
        CatalogCache.Freshness shared = c.freshness(UPSTREAM);
        for (int i = 0; i < 20; i++) {
            assertThat(shared.latest().readAt()).isZero(); // the old reading: its age tells the session to ask in-band
        }
        assertThat(tries).hasValue(1);
        now.addAndGet(INTERVAL);
        shared.latest();
        assertThat(tries).hasValue(2);
        // A session starting cannot be handed a catalog nobody could show current: it is refused, as a failed load.
        assertThatThrownBy(() -> c.analyzer(UPSTREAM)).isInstanceOf(IOException.class);
    }

    @Test
    void aCatalogWithNoFingerprintIsNeverAskedAbout() throws IOException {
        CatalogCache c = new CatalogCache(u -> DemoCatalog.get(), u -> {
            asked.incrementAndGet();
            return "x";
        }, Duration.ofMinutes(5), now::get);
        SqlAnalyzer first = c.analyzer(UPSTREAM);
        now.addAndGet(INTERVAL * 2);
        assertThat(c.analyzer(UPSTREAM)).isSameAs(first);
        assertThat(asked).hasValue(0);
    }

    @Test
    void aSessionWithNoOtherEvidenceReadsAgainRightAfterAFailedReading() throws IOException {
        AtomicInteger tries = new AtomicInteger();
        AtomicReference<String> answer = new AtomicReference<>();
        CatalogCache c = new CatalogCache(u -> PgCatalog.builder().fingerprint("1:1").build(), u -> {
            tries.incrementAndGet();
            if (answer.get() == null) {
                throw new IOException("upstream down");
            }
            return answer.get();
        }, Duration.ofMinutes(5), now::get);
        c.analyzer(UPSTREAM);
        now.addAndGet(INTERVAL);
        CatalogCache.Freshness shared = c.freshness(UPSTREAM);
        assertThat(shared.latest().readAt()).isZero(); // failed: the old one
        assertThat(tries).hasValue(1);
        // latest() does not try again within the interval; awaited() does, and gets the new reading.
        answer.set("1:2");
        assertThat(shared.latest().readAt()).isZero();
        assertThat(shared.awaited().fingerprint()).isEqualTo("1:2");
        assertThat(tries).hasValue(2);
    }
}
