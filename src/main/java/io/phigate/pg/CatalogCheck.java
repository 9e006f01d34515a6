package io.phigate.pg;

import io.phigate.sql.CatalogCache;
import java.time.Duration;
import java.util.Objects;

/**
 * Whether the catalog an analysed session is judged by is still the server's (decision 0075): the
 * {@link io.phigate.sql.CatalogFingerprint} read with the catalog, compared with the server's. Pure state, fed by
 * {@link HiddenSettingChanges} on the client reader.
 *
 * <p>Two sources. <b>Shared</b> ({@link #shared}): before every request, the upstream's reading the gateway's cache
 * keeps ({@link CatalogCache.Freshness}, at most {@link #INTERVAL} old while sessions ask), which shows DDL others
 * committed; it costs the session no round trip. Between transactions it is compared with the session's catalog;
 * inside one (decision 0081) with the last reading that showed the session's catalog, since it cannot show the
 * session's own uncommitted DDL: a reading that moved from that was moved by a commit, and only a commit of the
 * session's own catalog (a reading equal to it) is no change. <b>In-band</b> ({@link #due}, asked by {@link SettingsProbe} on the
 * session's own connection, so it sees the session's uncommitted changes, which no other connection can): after code
 * that may have run (asked with the settings), right after the session's own DDL (whose answer becomes the baseline),
 * at the first request where the database has event triggers (a login trigger runs code as the session connects, at
 * the client's timing), and between transactions once {@link #INTERVAL} passed whenever the shared reading is missing
 * or older than {@link #STALE} (its reading fails: fail closed, as before the shared one).
 */
final class CatalogCheck {
    /** How stale a session's catalog may get through DDL by others, between transactions. */
    static final Duration INTERVAL = CatalogCache.INTERVAL;
    /** A shared reading older than this is no evidence: the cache failed to read it again. */
    static final Duration STALE = INTERVAL.multipliedBy(3);

    private final long intervalNanos;
    private final long staleNanos;
    /** The first request asks in-band (the catalog shows event triggers, so code may run as the session connects). */
    private final boolean firstInBand;
    /** What the catalog the session is judged by was read at; null: nothing to compare with (built by hand). */
    private String expected;
    private long answeredAt;
    private boolean answered;
    /** Some answer, in-band or a shared reading that counts, showed {@link #expected}: own DDL may then be adopted. */
    private boolean confirmed;
    private boolean ownDdl;
    /** The session adopted its own DDL as the baseline and has not been seen between transactions since. */
    private boolean adoptionPending;
    /** Since the session adopted its own DDL: shared readings begun before this do not show it and are no evidence. */
    private boolean adopted;
    private long adoptedAt;
    /**
     * The last shared reading that showed the session's catalog: committed state the session is judged by. Inside a
     * transaction {@link #expected} may hold the session's own uncommitted DDL, which no shared reading shows.
     */
    private String committed;

    CatalogCheck(String loaded, Duration interval, boolean firstInBand) {
        this.expected = loaded;
        this.committed = loaded;
        this.intervalNanos = interval.toNanos();
        this.staleNanos = interval.toNanos() * 3;
        this.firstInBand = firstInBand;
    }

    /** True when the session's catalog has a fingerprint to compare. */
    boolean asks() {
        return expected != null;
    }

    /**
     * True when the fingerprint is to be asked in-band before the next request: right after the session's own DDL
     * (its change is taken as the baseline before any code runs beside it; DDL takes a snapshot, so asking inside its
     * transaction changes nothing the client sees), at the first request where {@link #firstInBand}, and between
     * transactions once the interval passed while {@code shared} is no evidence.
     */
    boolean due(byte transactionStatus, long nanoTime, CatalogCache.Reading shared) {
        if (expected == null || transactionStatus == 'E') {
            return false;
        }
        if (ownDdl) {
            return true;
        }
        return transactionStatus == 'I' && (!answered && firstInBand
                || !usable(shared, nanoTime) && (!answered || nanoTime - answeredAt >= intervalNanos));
    }

    /**
     * Why the shared reading shows the session's catalog is no longer the server's, or null. Between transactions: a
     * reading begun before the session adopted its own DDL, or before it was next between transactions (the DDL
     * committed), does not show that DDL and says nothing; nor does one too old, nor any while the in-band answer
     * to the session's own DDL is still to be asked. Inside a transaction (or a failed one, or an open batch), see
     * {@link #withinTransaction}.
     */
    String shared(CatalogCache.Reading shared, byte transactionStatus, long nanoTime) {
        if (expected != null && transactionStatus != 'I') {
            return withinTransaction(shared, nanoTime);
        }
        if (expected == null || transactionStatus != 'I' || ownDdl) {
            // Own DDL pending: the in-band answer asked next decides, and a reading showing that DDL is no mismatch.
            return null;
        }
        if (adoptionPending) {
            adoptionPending = false;
            adopted = true;
            adoptedAt = nanoTime;
            return null;
        }
        if (!usable(shared, nanoTime) || adopted && shared.readAt() - adoptedAt <= 0) {
            return null;
        }
        if (shared.fingerprint().equals(expected)) {
            confirmed = true;
            committed = expected;
            return null;
        }
        return CHANGED;
    }

    /**
     * Inside a transaction every statement is parsed, planned and rewritten by the catalog as committed now, whatever
     * the isolation level (catalog lookups take their own catalog snapshot, not the transaction's): DDL others commit
     * meanwhile reaches the next statement. The shared reading shows committed state only, so it is compared with
     * the last one that showed the session's catalog ({@link #committed}): unmoved, nothing committed since; moved to
     * the session's own catalog (its adopted DDL, committed by COMMIT AND CHAIN), no change; moved elsewhere, a commit
     * the session is not judged by. A reading that is no evidence (too old: the cache could not read it) ends the
     * session: inside a transaction an in-band answer would be no better under REPEATABLE READ, where it reads the
     * catalog rows by the transaction's snapshot (fail closed).
     */
    private String withinTransaction(CatalogCache.Reading shared, long nanoTime) {
        if (!usable(shared, nanoTime)) {
            return "phigate could not read the database's catalog for " + staleNanos / 1_000_000_000 + " s, so it"
                    + " cannot tell whether DDL committed during this transaction changed what it masks by";
        }
        String now = shared.fingerprint();
        if (now.equals(committed)) {
            return null;
        }
        if (now.equals(expected)) {
            committed = now;
            return null;
        }
        return CHANGED;
    }

    /** {@code shared} is evidence: a reading, not older than {@link #STALE}. */
    boolean usable(CatalogCache.Reading shared, long nanoTime) {
        return shared != null && shared.fingerprint() != null && nanoTime - shared.readAt() < staleNanos;
    }

    /** The session's own DDL, running no code, went upstream alone: the catalog changes as the session said. */
    void ownDdl() {
        ownDdl = true;
    }

    /** Something that may run code went upstream: a change from here on may be that code's. */
    void codeMayHaveRun() {
        ownDdl = false;
    }

    /** The server's in-band answer; why the session cannot go on, or null. */
    String answer(String shown, long nanoTime) {
        if (expected == null) {
            return null;
        }
        if (shown == null) {
            return "the server did not show the catalog's fingerprint, so phigate cannot tell whether DDL changed what"
                    + " it masks by";
        }
        // Adopted only once the baseline was shown current: else DDL by others before it would be laundered.
        boolean adopt = ownDdl && confirmed;
        ownDdl = false;
        answered = true;
        answeredAt = nanoTime;
        if (adopt && !Objects.equals(shown, expected)) {
            expected = shown;
            adoptionPending = true;
            return null;
        }
        if (Objects.equals(shown, expected)) {
            confirmed = true;
            return null;
        }
        return CHANGED;
    }

    private static final String CHANGED = "the database's catalog changed after phigate read it (DDL run by code the"
            + " database holds, by another session or by an administrator); what it masks by may no longer be what the"
            + " server reads; reconnect to be judged by the catalog as it is now";
}
