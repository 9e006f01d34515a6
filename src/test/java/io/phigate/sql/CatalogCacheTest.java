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
}
