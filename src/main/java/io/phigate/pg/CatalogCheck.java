package io.phigate.pg;

import java.time.Duration;
import java.util.Objects;

/**
 * Whether the catalog an analysed session is judged by is still the server's (decision 0075): the
 * {@link io.phigate.sql.CatalogFingerprint} read with the catalog, compared with the one the server shows the
 * session. Pure state, fed by {@link HiddenSettingChanges} on the client reader; the server is asked by
 * {@link SettingsProbe} together with the settings.
 *
 * <p>When: at the session's first probe (DDL by others since the catalog was read, up to the cache's reload); at
 * every probe after code that may have run (DDL run by a trigger or a vetted function, in this transaction or
 * committed); and, between transactions, once {@link #INTERVAL} has passed since the last answer (DDL by others
 * during the session). A statement of the session's own that the analyser saw as DDL, with no code run since the
 * last answer, changes the catalog as the session was told: the next answer, asked before the next request, becomes
 * the baseline.
 */
final class CatalogCheck {
    /** How stale a session's catalog may get through DDL by others, between transactions. */
    static final Duration INTERVAL = Duration.ofSeconds(1);

    private final long intervalNanos;
    /** What the catalog the session is judged by was read at; null: nothing to compare with (built by hand). */
    private String expected;
    private long answeredAt;
    private boolean answered;
    private boolean ownDdl;

    CatalogCheck(String loaded, Duration interval) {
        this.expected = loaded;
        this.intervalNanos = interval.toNanos();
    }

    /** True when the session's probe should carry the fingerprint question. */
    boolean asks() {
        return expected != null;
    }

    /**
     * True when the catalog is to be checked before the next request though no setting needs asking: between
     * transactions once the interval passed, and right after the session's own DDL, so that its change is taken
     * as the baseline before any code runs beside it (DDL takes a snapshot, so asking inside its transaction
     * changes nothing the client sees).
     */
    boolean due(byte transactionStatus, long nanoTime) {
        return expected != null && transactionStatus != 'E' && (ownDdl || transactionStatus == 'I'
                && (!answered || nanoTime - answeredAt >= intervalNanos));
    }

    /** The session's own DDL, running no code, went upstream alone: the catalog changes as the session said. */
    void ownDdl() {
        ownDdl = true;
    }

    /** Something that may run code went upstream: a change from here on may be that code's. */
    void codeMayHaveRun() {
        ownDdl = false;
    }

    /** The server's answer; why the session cannot go on, or null. */
    String answer(String shown, long nanoTime) {
        if (expected == null) {
            return null;
        }
        if (shown == null) {
            return "the server did not show the catalog's fingerprint, so phigate cannot tell whether DDL changed what"
                    + " it masks by";
        }
        boolean adopt = ownDdl && answered;
        ownDdl = false;
        answered = true;
        answeredAt = nanoTime;
        if (adopt || Objects.equals(shown, expected)) {
            expected = shown;
            return null;
        }
        return "the database's catalog changed after phigate read it (DDL run by code the database holds, by another"
                + " session or by an administrator); what it masks by may no longer be what the server reads;"
                + " reconnect to be judged by the catalog as it is now";
    }
}
