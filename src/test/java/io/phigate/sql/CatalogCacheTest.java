package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CatalogCacheTest {
    private static final String UPSTREAM = "clinical";

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

    @Test
    void aCatalogIsHandedOutAgainOnlyWhileTheServersFingerprintIsItsOwn() throws IOException {
        java.util.concurrent.atomic.AtomicReference<String> server = new java.util.concurrent.atomic.AtomicReference<>("1:1");
        AtomicInteger asked = new AtomicInteger();
        CatalogCache c = new CatalogCache(u -> {
            loads.incrementAndGet();
            return PgCatalog.builder().fingerprint(server.get()).build();
        }, u -> {
            asked.incrementAndGet();
            return server.get();
        }, Duration.ofMinutes(5), now::get);
        SqlAnalyzer first = c.analyzer(UPSTREAM);
        assertThat(asked).hasValue(0); // just read
        now.addAndGet(CatalogCache.VERIFY_AFTER.toNanos());
        assertThat(c.analyzer(UPSTREAM)).isSameAs(first);
        assertThat(asked).hasValue(1);
        server.set("1:2"); // DDL by someone else
        now.addAndGet(CatalogCache.VERIFY_AFTER.toNanos());
        SqlAnalyzer reread = c.analyzer(UPSTREAM);
        assertThat(reread).isNotSameAs(first);
        assertThat(PgCatalog.of(reread.catalog()).fingerprint()).isEqualTo("1:2");
        assertThat(loads).hasValue(2);
    }

    @Test
    void aCatalogWithNoFingerprintIsNeverAskedAbout() throws IOException {
        AtomicInteger asked = new AtomicInteger();
        CatalogCache c = new CatalogCache(u -> DemoCatalog.get(), u -> {
            asked.incrementAndGet();
            return "x";
        }, Duration.ofMinutes(5), now::get);
        SqlAnalyzer first = c.analyzer(UPSTREAM);
        now.addAndGet(CatalogCache.VERIFY_AFTER.toNanos() * 2);
        assertThat(c.analyzer(UPSTREAM)).isSameAs(first);
        assertThat(asked).hasValue(0);
    }
}
