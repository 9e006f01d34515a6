package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.sql.CatalogCache;
import io.phigate.sql.CatalogCache.Reading;
import io.phigate.sql.PgCatalog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CatalogCheckTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    /** A session whose catalog the shared reading answers for (no event triggers). */
    private final CatalogCheck check = new CatalogCheck("10:100", Duration.ofSeconds(1), false);
    /** A session asking in-band at its first request (no shared reading, or event triggers). */
    private final CatalogCheck inBand = new CatalogCheck("10:100", Duration.ofSeconds(1), true);

    @Test
    void withASharedReadingNothingIsAskedInBandBetweenTransactions() {
        Reading current = new Reading("10:100", 0);
        for (long t = 0; t < 2 * SECOND; t += SECOND / 4) {
            assertThat(check.shared(current, (byte) 'I', t)).isNull();
            assertThat(check.due((byte) 'I', t, current)).isFalse();
        }
    }

    @Test
    void twentySessionsBetweenTransactionsCauseAboutOneFingerprintQueryPerSecondAndNoneInBand() throws Exception {
        AtomicLong now = new AtomicLong();
        AtomicInteger queries = new AtomicInteger();
        CatalogCache cache = new CatalogCache(u -> PgCatalog.builder().fingerprint("10:100").build(), u -> {
            queries.incrementAndGet();
            return "10:100";
        }, Duration.ofMinutes(5), now::get);
        cache.analyzer("clinical");
        CatalogCache.Freshness shared = cache.freshness("clinical");
        List<CatalogCheck> sessions = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sessions.add(new CatalogCheck("10:100", CatalogCheck.INTERVAL, false));
        }
        // Each session between transactions every 5 ms for 10 s, as HiddenSettingChanges.beforeRequest asks.
        for (long t = 0; t < 10 * SECOND; t += SECOND / 200) {
            now.set(t);
            for (CatalogCheck session : sessions) {
                Reading r = shared.latest();
                assertThat(session.shared(r, (byte) 'I', t)).isNull();
                assertThat(session.due((byte) 'I', t, r)).isFalse();
            }
        }
        assertThat(queries.get()).isBetween(9, 10);
    }

    @Test
    void aSharedReadingShowingAnotherCatalogEndsTheSessionBetweenTransactions() {
        Reading changed = new Reading("11:150", 0);
        assertThat(check.shared(changed, (byte) 'I', 1)).contains("catalog changed");
    }

    @Test
    void aStaleOrMissingSharedReadingFallsBackToAskingInBandOncePerInterval() {
        Reading old = new Reading("10:100", 0);
        assertThat(check.shared(old, (byte) 'I', CatalogCheck.STALE.toNanos())).isNull(); // no evidence
        assertThat(check.due((byte) 'I', CatalogCheck.STALE.toNanos(), old)).isTrue();
        assertThat(check.answer("10:100", CatalogCheck.STALE.toNanos())).isNull();
        assertThat(check.due((byte) 'I', CatalogCheck.STALE.toNanos() + SECOND - 1, old)).isFalse();
        assertThat(check.due((byte) 'I', CatalogCheck.STALE.toNanos() + SECOND, null)).isTrue();
        assertThat(check.due((byte) 'E', 9 * SECOND, null)).isFalse();
    }

    @Test
    void whereAskedInBandFirstTheFirstAnswerIsComparedWithTheCatalogAsRead() {
        Reading current = new Reading("10:100", 0);
        assertThat(inBand.due((byte) 'I', 0, current)).isTrue();
        assertThat(inBand.answer("10:101", 0)).contains("catalog changed");
    }

    @Test
    void aChangeAfterCodeEndsTheSessionEvenWhenTheSessionRanDdlToo() {
        assertThat(check.shared(new Reading("10:100", 0), (byte) 'I', 0)).isNull();
        check.ownDdl();
        check.codeMayHaveRun();
        assertThat(check.answer("11:150", 1)).contains("catalog changed");
    }

    @Test
    void theSessionsOwnDdlBecomesTheBaselineAndOlderSharedReadingsAreNoMismatch() {
        Reading before = new Reading("10:100", 0);
        assertThat(check.shared(before, (byte) 'I', 0)).isNull(); // confirms the catalog as read
        check.ownDdl();
        // asked before the next request, inside its transaction too
        assertThat(check.due((byte) 'T', 1, before)).isTrue();
        // While the in-band answer is due, a reading already showing the DDL is no mismatch either.
        assertThat(check.shared(new Reading("11:150", 2), (byte) 'I', 2)).isNull();
        assertThat(check.answer("11:150", 3)).isNull(); // adopted, inside the transaction
        // Readings begun before the session was next seen between transactions (the DDL committed) say nothing.
        assertThat(check.shared(before, (byte) 'I', 4 * SECOND / 10)).isNull(); // first seen idle here
        assertThat(check.shared(before, (byte) 'I', 5 * SECOND / 10)).isNull();
        assertThat(check.shared(new Reading("10:100", 4 * SECOND / 10), (byte) 'I', 6 * SECOND / 10)).isNull();
        // A reading begun after it counts: the same catalog passes, another ends the session.
        assertThat(check.shared(new Reading("11:150", 7 * SECOND / 10), (byte) 'I', 8 * SECOND / 10)).isNull();
        assertThat(check.shared(new Reading("12:200", 9 * SECOND / 10), (byte) 'I', SECOND))
                .contains("catalog changed");
    }

    @Test
    void ownDdlIsNotAdoptedBeforeTheCatalogWasShownCurrent() {
        check.ownDdl();
        assertThat(check.answer("11:150", 1)).contains("catalog changed");
    }

    @Test
    void noAnswerEndsTheSession() {
        assertThat(check.answer(null, 0)).contains("did not show");
    }

    @Test
    void aCatalogBuiltByHandIsNeitherAskedNorCompared() {
        CatalogCheck none = new CatalogCheck(null, Duration.ofSeconds(1), true);
        assertThat(none.asks()).isFalse();
        assertThat(none.due((byte) 'I', 0, null)).isFalse();
        assertThat(none.shared(new Reading("x", 0), (byte) 'I', 0)).isNull();
        assertThat(none.answer("anything", 0)).isNull();
    }

    @Test
    void insideATransactionASharedReadingMovedByAnothersCommitEndsTheSession() {
        assertThat(check.shared(new Reading("10:100", 0), (byte) 'T', 1)).isNull();
        // a failed transaction and an open batch are transactions too: a ROLLBACK TO would run what follows
        assertThat(check.shared(new Reading("11:150", 2), (byte) 'E', 3)).contains("catalog changed");
        assertThat(check.shared(new Reading("11:150", 2), (byte) 'T', 3)).contains("catalog changed");
    }

    @Test
    void insideATransactionTheSessionsOwnUncommittedDdlIsNoMismatchNorIsItsCommit() {
        assertThat(check.shared(new Reading("10:100", 0), (byte) 'I', 0)).isNull();
        check.ownDdl();
        assertThat(check.answer("11:150", 1)).isNull(); // adopted: the session's catalog now holds its own DDL
        // Shared readings see committed state only: unmoved, the session's DDL is not there yet.
        assertThat(check.shared(new Reading("10:100", 2), (byte) 'T', 3)).isNull();
        // COMMIT AND CHAIN: committed, and the transaction goes on; the reading shows the session's own catalog.
        assertThat(check.shared(new Reading("11:150", 4), (byte) 'T', 5)).isNull();
        // From there, that is the committed state: a reading moved from it is another's.
        assertThat(check.shared(new Reading("11:150", 6), (byte) 'T', 7)).isNull();
        assertThat(check.shared(new Reading("10:100", 8), (byte) 'T', 9)).contains("catalog changed");
    }

    @Test
    void insideATransactionTheSessionsOwnDdlBesideAnothersCommitEndsTheSession() {
        assertThat(check.shared(new Reading("10:100", 0), (byte) 'I', 0)).isNull();
        check.ownDdl();
        assertThat(check.answer("11:150", 1)).isNull();
        assertThat(check.shared(new Reading("12:160", 2), (byte) 'T', 3)).contains("catalog changed");
    }

    @Test
    void insideATransactionAReadingThatIsNoEvidenceEndsTheSession() {
        // No in-band fallback there: under REPEATABLE READ it would read the catalog by the transaction's snapshot.
        assertThat(check.shared(new Reading("10:100", 0), (byte) 'T', CatalogCheck.STALE.toNanos()))
                .contains("could not read");
        assertThat(check.shared(null, (byte) 'T', 0)).contains("could not read");
        assertThat(check.shared(new Reading("10:100", 0), (byte) 'T', CatalogCheck.STALE.toNanos() - 1)).isNull();
    }
}
