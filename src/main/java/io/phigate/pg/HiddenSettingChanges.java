package io.phigate.pg;

import io.phigate.pg.message.BackendMessage.ParameterStatus;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.session.SessionPolicies;
import io.phigate.sql.CatalogCache;
import io.phigate.sql.Operation;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.io.IOException;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The settings an analysed session's judgement rests on that code the gateway does not read can change and leave
 * changed (decision 0064): {@code search_path} (where masking or the rules resolve unqualified names by the
 * catalog's path), the role and the session user. A trigger, a granted function, a view, policy or default that
 * calls one may run {@code set_config('search_path', ...)}, {@code SET role} and so on; the server then reads the
 * next statement's names in another schema, or runs it as another role, while the gateway judged it as before.
 *
 * <p>Where the catalog shows no such code ({@link PgCatalog#settingCode()}) and the session ran no DDL, nothing here
 * costs anything. Otherwise, in a <em>guarded</em> session:
 * <ul>
 *   <li>before a request that follows one which may have run code, the gateway asks the server for the three
 *       settings ({@link SettingsProbe}) and ends the session if any moved from what it was at the session's first
 *       request (search_path may also have narrowed, as pg_dump's {@code set_config('search_path', '', false)});</li>
 *   <li>within one extended batch, before a Bind that {@link OpenBatch} says follows such code, it asks the same
 *       behind what went upstream ({@link #askWithinBatch}, decision 0070); within one simple Query, where nothing
 *       can be asked, names read after such code are refused ({@link OpenBatch#query}).</li>
 * </ul>
 * In every analysed session, the server's own reports back this up: session_authorization and is_superuser, and
 * search_path from PostgreSQL 18 on, reported with another value end the session ({@link #reported}).
 */
final class HiddenSettingChanges implements OpenBatch.Code {
    private final boolean catalogCode;
    /** Masking or the rules resolve unqualified names by the catalog's path (null catalog: unknown, so yes). */
    private final boolean pathMatters;
    private final PgCatalog catalog;
    private final SettingsProbe probe;
    /** Whether the catalog is still the server's, asked with the settings (decision 0075). */
    private final CatalogCheck catalogCheck;
    /** The upstream's shared fingerprint reading (decision 0075, "Shared freshness"); null: asked in-band only. */
    private final io.phigate.sql.CatalogCache.Freshness freshness;
    /** Tells the gateway's catalog cache that the upstream's catalog changed, so the next session reads it afresh. */
    private final Runnable catalogChanged;
    private final BiConsumer<String, String> endSession;
    /** The server's reports at startup and since (pump thread). */
    private final Map<String, String> reportedFirst = new HashMap<>();
    /** The session ran a DO block or CALL, DDL that stores code (a function, trigger, rule), or a statement not read. */
    private volatile boolean codeCreated;
    /** The settings at the first probe (client reader only). */
    private List<String> baseline;
    /** Code may have run since the server last said what the settings are (client reader only). */
    private boolean unverified = true;
    /** The chunk being collected holds a statement that may run code (client reader only). */
    private boolean codeInChunk;
    /** Which chunks hold only the session's own DDL, whose change the catalog check may adopt (client reader). */
    private final OwnDdlChunks ownDdl;
    /** Which statements may run code the gateway does not read. */
    private final CodeOutOfSight codeOutOfSight;

    HiddenSettingChanges(SessionPolicies.Setup setup, List<ParameterStatus> startup,
                         BiConsumer<String, String> endSession) {
        this.catalog = setup.rules().loadedCatalog();
        this.catalogCode = catalog == null || catalog.settingCode();
        this.pathMatters = setup.rules().resolvesNamesByCatalogPath()
                || setup.masking() != null && setup.masking().masksPhi();
        this.endSession = endSession;
        String fingerprint = catalog == null ? null : catalog.fingerprint();
        this.freshness = setup.freshness();
        // Without a shared reading, or where a login event trigger may run code as the session connects, the first
        // request asks in-band; else the shared reading the session was handed its catalog by answers for it.
        this.catalogCheck = new CatalogCheck(fingerprint, CatalogCheck.INTERVAL,
                freshness == null || catalog == null || catalog.eventTriggers());
        this.probe = new SettingsProbe(catalogCheck.asks());
        this.catalogChanged = setup.catalogChanged();
        this.ownDdl = new OwnDdlChunks(catalog, () -> codeCreated);
        this.codeOutOfSight = new CodeOutOfSight(catalog, () -> codeCreated,
                () -> codeInChunk || ownDdl.codeInTransaction());
        for (ParameterStatus p : startup) {
            reportedFirst.put(p.name(), p.value());
        }
    }

    /** True when this session pays for the checks: code that may change the settings exists or may now. */
    @Override
    public boolean guarded() {
        return catalogCode || codeCreated;
    }

    /** The session's analyser, noting DDL that creates code: a function, trigger, rule or policy it can then run. */
    Function<String, List<StatementAnalysis>> watching(Function<String, List<StatementAnalysis>> analyzer) {
        return sql -> {
            List<StatementAnalysis> out = analyzer.apply(sql);
            for (StatementAnalysis a : out) {
                ownDdl.joins(a);
            }
            if (!codeCreated) {
                for (StatementAnalysis a : out) {
                    if (!a.parsed() || a.kind() == StatementKind.DO || a.kind() == StatementKind.CALL
                            || a.operations().contains(Operation.DDL) && storesCode(a)) {
                        codeCreated = true;
                        break;
                    }
                }
            }
            return out;
        };
    }

    /**
     * DDL that stores code to run later: a function, trigger, rule or policy, or an expression (a view's, a
     * default's) that calls a function outside the vetted built-ins or one that changes state (query_to_xml's text
     * may call set_config).
     */
    private boolean storesCode(StatementAnalysis a) {
        return !UtilityWords.storesNoCode(a.text()) || !a.opaqueFunctions().isEmpty()
                || !a.facts().stateChanges().isEmpty() || callsUserFunction(a);
    }

    /**
     * A function the policy vetted is not opaque, yet it is code made after initdb: stored in a domain's CHECK, it
     * runs where a Bind's value of that type is converted, which {@link #valuesMayRunCode} then counts.
     */
    private boolean callsUserFunction(StatementAnalysis a) {
        for (var f : a.facts().functions()) {
            if (f.schema() != null ? !"pg_catalog".equalsIgnoreCase(f.schema())
                    : catalog == null || !java.util.Set.of("pg_catalog").equals(catalog.schemasDefining(f.name()))) {
                return true;
            }
        }
        return false;
    }

    // ---- between requests (client reader, nothing in flight) ----

    /**
     * Before a request goes upstream, with nothing else in flight: where code may have run since the server last
     * said, asks it, and ends the session if a setting moved. Not in a failed transaction, where the server answers
     * SHOW with an error and runs nothing until it ends (which a ROLLBACK of either kind alone does: a statement
     * after it in the same request is refused by the rules below).
     *
     * When it ends the session, the session is closing on return and the request is not forwarded. Before the
     * session's first request it asks in every analysed session, once: what the settings were before any code ran.
     */
    void beforeRequest(OutputStream upstream, byte transactionStatus, BooleanSupplier stop) throws IOException {
        if (transactionStatus == 'I') {
            ownDdl.betweenTransactions();
        }
        // DDL by others shows in the upstream's shared reading, between transactions and inside them (every statement
        // is read by the catalog as committed now, decision 0081): a field read, and the cache's reading again at
        // most once a second per upstream, not a round trip per session.
        CatalogCache.Reading shared = sharedReading(transactionStatus);
        if (closedBySharedReading(shared, transactionStatus)) {
            return;
        }
        if (transactionStatus == 'E') {
            return;
        }
        boolean codeUnverified = unverified && guarded();
        boolean settingsDue = baseline == null || codeUnverified;
        // In-band only what no other connection sees: after code, after the session's own DDL (uncommitted changes).
        boolean fingerprintDue = catalogCheck.asks() && (codeUnverified
                || catalogCheck.due(transactionStatus, System.nanoTime(), shared));
        if (!settingsDue && !fingerprintDue) {
            return;
        }
        // The baseline is asked for before every analysed session's first request, guarded or not: a session that
        // becomes guarded later (a DO block, a function it creates) may already have run that code by then.
        List<String> shown = probe.ask(upstream, stop, fingerprintDue);
        String problem = problem(shown, fingerprintDue);
        if (problem != null) {
            // Ends it at once (the caller then drops the request, recording it as not forwarded).
            endSession.accept(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate ended the session: " + problem);
            return;
        }
        unverified = false;
    }

    /**
     * A chunk goes upstream within an extended batch still open there (no Sync since), so inside a transaction,
     * implicit or not, with no question between requests: the shared reading alone says whether others committed DDL
     * meanwhile (decision 0081). When it ends the session, the session is closing on return.
     */
    void withinBatch() {
        closedBySharedReading(sharedReading((byte) 'T'), (byte) 'T');
    }

    /**
     * The upstream's shared reading, or null where there is none to compare. Inside a transaction a reading too old
     * is read again, waiting for one in flight: there it is the only evidence (CatalogCheck.withinTransaction).
     */
    private CatalogCache.Reading sharedReading(byte transactionStatus) {
        if (!catalogCheck.asks() || freshness == null) {
            return null;
        }
        CatalogCache.Reading shared = freshness.latest();
        if (transactionStatus != 'I' && !catalogCheck.usable(shared, System.nanoTime())) {
            shared = freshness.awaited();
        }
        return shared;
    }

    /** Ends the session where the shared reading shows its catalog is no longer the server's; true when it did. */
    private boolean closedBySharedReading(CatalogCache.Reading shared, byte transactionStatus) {
        if (freshness == null || !catalogCheck.asks()) {
            return false;
        }
        String changed = catalogCheck.shared(shared, transactionStatus, System.nanoTime());
        if (changed == null) {
            return false;
        }
        // The cache drops its catalog itself: the same reading no longer matches it.
        endSession.accept(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate ended the session: " + changed);
        return true;
    }

    /**
     * Within an open extended batch, after code of it may have run and before a message whose names the server
     * resolves (decision 0070): asks behind what went upstream so far and ends the session if a setting moved. The
     * note the statement's record carries: what the server showed, or that it skipped the question (a statement
     * before it failed, so the server skips the rest of the batch, this statement included). Null when it ended the
     * session (the caller then forwards nothing more).
     */
    String askWithinBatch(OutputStream upstream, Exchange exchange, BooleanSupplier stop) throws IOException {
        SettingsProbe.Shown shown = probe.askWithinBatch(upstream, exchange, stop);
        if (shown.batchFailed()) {
            return "\n-- phigate: asked the server for search_path and the role after code earlier in this batch;"
                    + " a statement before the question failed, so the server skips this one";
        }
        String problem = problem(shown.values(), true);
        if (problem != null) {
            endSession.accept(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate ended the session: " + problem);
            return null;
        }
        StringBuilder note = new StringBuilder("\n-- phigate: asked the server after code earlier in this batch:");
        for (int i = 0; i < SettingsProbe.SETTINGS.size(); i++) {
            note.append(i == 0 ? " " : ", ").append(SettingsProbe.SETTINGS.get(i)).append('=')
                    .append(shown.values().get(i));
        }
        if (catalogCheck.asks()) {
            note.append(", catalog unchanged");
        }
        return note.append(" (as judged)").toString();
    }

    /** A chunk went upstream: what it may have run is now unverified. A FunctionCall runs a function by OID. */
    void forwarded(List<Op> ops) {
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).kind() == Op.Kind.FUNCTION_CALL) {
                codeInChunk = true;
                ownDdl.functionCall();
            }
        }
        unverified |= codeInChunk;
        switch (ownDdl.went(codeInChunk)) {
            case OWN_DDL -> catalogCheck.ownDdl();
            case CODE_MAY_HAVE_RUN -> catalogCheck.codeMayHaveRun();
            case NOTHING -> {
            }
        }
        codeInChunk = false;
    }

    /** Why the settings the server showed are not the ones the session was judged by, or null. */
    private String problem(List<String> shown, boolean fingerprintAsked) {
        if (shown == null) {
            return "the server did not say which search_path and role the session has, and code the database holds"
                    + " may have changed them";
        }
        String catalogProblem = !fingerprintAsked ? null : catalogCheck.answer(catalogCheck.asks()
                && shown.size() > SettingsProbe.FINGERPRINT ? shown.get(SettingsProbe.FINGERPRINT) : null,
                System.nanoTime());
        if (catalogProblem != null) {
            catalogChanged.run();
            return catalogProblem;
        }
        if (baseline == null) {
            // A role default (ALTER ROLE or ALTER DATABASE ... SET role, which any session of the login may set for
            // itself) makes every later session of the login start as another role: refused as a startup role is.
            if (!"none".equals(shown.get(1))) {
                return "the server starts this session as another role than its login (a default set by ALTER ROLE"
                        + " or ALTER DATABASE ... SET role); phigate judges a session as its login, so it refuses"
                        + " sessions of this login until an administrator resets that default";
            }
            baseline = shown;
            return null;
        }
        String path = shown.get(0);
        if (pathMatters && !Objects.equals(path, baseline.get(0)) && (catalog == null || !catalog.narrowsNamesTo(path))) {
            return "code the database holds (a trigger, a function, a view's or a default's) changed search_path out"
                    + " of phigate's sight; unqualified names would no longer resolve as phigate judges them";
        }
        for (int i = 1; i < SettingsProbe.SETTINGS.size(); i++) {
            if (!Objects.equals(shown.get(i), baseline.get(i))) {
                return "code the database holds (a trigger, a function, a view's or a default's) changed "
                        + SettingsProbe.SETTINGS.get(i) + " out of phigate's sight; the session would run as another"
                        + " role upstream";
            }
        }
        return null;
    }

    /** {@link CodeOutOfSight#mayRun}: {@code a} (null: unknown) may run code the gateway does not read. */
    @Override
    public boolean mayRunCode(StatementAnalysis a) {
        return codeOutOfSight.mayRun(a);
    }

    @Override
    public boolean valuesMayRunCode() {
        return catalog == null || catalog.hasCodeTypes() || codeCreated;
    }

    @Override
    public void mayHaveRun() {
        codeInChunk = true;
    }

    /**
     * A Bind or Execute joins the chunk it goes upstream in as what it runs: the session's own DDL, executed in a
     * chunk after its Parse (pgjdbc's batch split for the in-batch question), is still the session's own change.
     */
    @Override
    public void runs(StatementAnalysis a) {
        ownDdl.joins(a);
    }

    // ---- the server's reports (pump) ----

    /**
     * Why an analysed session cannot go on after the server reported {@code name} at {@code value}, or null: the
     * session user or superuser status changed, or (PostgreSQL 18 on, where it is reported) search_path moved where
     * names resolve by it. Reported at a ReadyForQuery, so it backs up the checks above between requests.
     */
    String reported(String name, String value) {
        String first = reportedFirst.putIfAbsent(name, value);
        if (first == null || first.equals(value)) {
            return null;
        }
        return switch (name) {
            case "session_authorization", "is_superuser" -> "the server reports " + name + " changed; the session"
                    + " would run as another role upstream than the one phigate chose";
            case "search_path" -> pathMatters && (catalog == null || !catalog.narrowsNamesTo(value))
                    ? "the server reports search_path changed; unqualified names would no longer resolve as phigate"
                    + " judges them" : null;
            default -> null;
        };
    }

    SettingsProbe probe() {
        return probe;
    }
}
