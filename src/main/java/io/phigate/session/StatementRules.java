package io.phigate.session;

import io.phigate.mask.CopyFormat;

import io.phigate.pg.masking.CopyMasker;
import io.phigate.mask.PhiType;

import io.phigate.policy.FunctionAllowlist;
import io.phigate.policy.PhiCatalog;
import io.phigate.policy.PredicateRule;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import io.phigate.policy.ScopeCheck;
import io.phigate.sql.Catalog;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SessionTables;
import io.phigate.sql.Operation;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts;
import io.phigate.sql.StatementKind;
import java.time.Clock;
import java.util.List;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;

/**
 * The policy's rules over analysed statements, protocol-neutral: decides, before anything is forwarded, whether a
 * statement may run for this session: the masking rules that
 * cannot be enforced on the way back (a statement that would copy PHI into an unprotected table, a function
 * that reads PHI where lineage cannot follow, a COPY format the masker cannot parse, a statement the analyser
 * cannot read) and the role's scope. Refusals name the rule, so the agent (and its operator) know what to change.
 */
public final class StatementRules {
    /** The parameters that would change what the analyser resolves names against, or who the session is upstream. */
    private static final Set<String> GUARDED_SETTINGS = Set.of("role", "session_authorization", "search_path");
    /** SET forms that name no setting of their own: transaction characteristics, the snapshot, constraint timing. */
    private static final Set<String> SET_FORMS = Set.of("transaction", "default_transaction", "transaction snapshot",
            "constraints");
    /** The COPY options the masker reads output under; any other (delimiter, quote, null, encoding ...) is refused. */
    private static final Set<String> MASKABLE_COPY_OPTIONS = Set.of("format", "header");

    /** The settings the gateway keeps and answers itself. */
    public static final Set<String> KEPT_SETTINGS = Set.of("phigate.justification", "phigate.approval");

    private final SessionMasking masking;
    private final String upstream;
    private final Role role;
    /** The role's scope check (tables and operations), or null when roles carry no allow rules. */
    private final BiFunction<Role, List<StatementAnalysis>, Refusal> scope;
    /** The policy's risk rules (deny and require_approval), in file order. */
    private final List<RiskRule> rules;
    private final Clock clock;
    /** The planner's row estimate for {@code rows_over}; -1 (or null: no estimator) matches the rule. */
    private final ToLongFunction<StatementAnalysis> estimator;
    /** The catalog names are resolved by, for a startup search_path (null: none known, so none accepted). */
    private final Catalog catalog;
    /** The request {@link #check} last judged and its hit, taken by the {@link #approvalFor} that follows it. */
    private List<StatementAnalysis> judged;
    private RiskRules.Hit judgedHit;

    StatementRules(SessionMasking masking, String upstream, Role role,
                  BiFunction<Role, List<StatementAnalysis>, Refusal> scope) {
        this(masking, upstream, role, scope, List.of(), Clock.systemUTC(), null, null);
    }

    StatementRules(SessionMasking masking, String upstream, Role role,
                  BiFunction<Role, List<StatementAnalysis>, Refusal> scope, List<RiskRule> rules, Clock clock,
                  ToLongFunction<StatementAnalysis> estimator, Catalog catalog) {
        this.catalog = catalog;
        this.masking = masking;
        this.upstream = upstream;
        this.role = role;
        this.scope = scope;
        this.rules = rules;
        this.clock = clock;
        this.estimator = estimator;
    }

    /** Null when every statement may run (perhaps after approval, see {@link #approvalFor}); else the first refusal. */
    Refusal check(List<StatementAnalysis> statements, String justification) {
        for (StatementAnalysis a : statements) {
            Refusal r = checkOne(a, justification);
            if (r != null) {
                return r;
            }
            String path = tablesByName() ? ScopeCheck.searchPathChange(a) : null;
            if (path != null) {
                return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "refused by phigate's rules: " + path);
            }
        }
        Refusal r = scope == null ? null : scope.apply(role, statements);
        if (r != null) {
            return r;
        }
        RiskRules.Hit hit = risk(statements);
        judged = statements;
        judgedHit = hit;
        if (hit != null && hit.rule().deny() != null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "refused by phigate rule \"" + hit.rule().name()
                    + "\": " + hit.rule().deny());
        }
        return null;
    }

    /**
     * A fast-path FunctionCall names its function by OID and carries no SQL, so nothing about it can be analysed.
     * It is refused outright for a session that sees PHI masked: the function may read any table, and its answer (a
     * FunctionCallResponse) is not a row phigate can mask. In every other analysed session only the large-object
     * calls of {@link FastPathFunctions} may be made (decision 0063): any other OID may be set_config of role or
     * search_path, or a function that reads files or runs SQL text, which a SELECT would show the analyser. An
     * allowed call is then judged as an unparsed statement (time windows, justification, scope, and every risk rule
     * that applies to the session fires); it cannot be held for approval.
     */
    Refusal checkFunctionCall(int functionOid, StatementAnalysis call, String justification) {
        if (masking != null && masking.masksPhi()) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "a fast-path function call names its function by"
                    + " OID, so phigate cannot tell what it reads; refused for a session that sees PHI masked (call the"
                    + " function from a SELECT)");
        }
        if (FastPathFunctions.allowed(functionOid) == null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "a fast-path function call names its function by"
                    + " OID (" + functionOid + "), which phigate cannot analyse; only the large-object functions may"
                    + " be called this way: call the function from a SELECT");
        }
        List<StatementAnalysis> statements = List.of(call);
        Refusal refusal = check(statements, justification);
        if (refusal != null) {
            return refusal;
        }
        RiskRules.Hit hit = approvalFor(statements);
        if (hit != null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "phigate rule \"" + hit.rule().name() + "\" holds"
                    + " statements it cannot analyse for approval, and a fast-path function call cannot be held; call"
                    + " the function from a SELECT");
        }
        return null;
    }

    /**
     * True when allow rules or risk rules judge tables by schema-qualified name, so the session must resolve
     * unqualified names as the catalog does: no change of search_path (decision 0058).
     */
    private boolean tablesByName() {
        return scope != null && role != null && !role.allow().isEmpty()
                || rules.stream().anyMatch(r -> !r.when().tables().isEmpty());
    }

    /** True when allow or risk rules judge tables by name as the catalog's search path resolves them. */
    public boolean resolvesNamesByCatalogPath() {
        return tablesByName();
    }

    /** The catalog the session was set up with, as read from the server (null when built by hand). */
    public PgCatalog loadedCatalog() {
        return PgCatalog.of(catalog);
    }

    /**
     * True when a search_path the client gives at startup leaves names resolving as the rules resolve them: always
     * where no rule judges tables by name, else only the path the catalog was read with.
     */
    public boolean acceptsStartupSearchPath(String value) {
        if (!tablesByName()) {
            return true;
        }
        PgCatalog pg = PgCatalog.of(catalog);
        return pg != null && pg.resolvesNamesBy(value);
    }

    /** The approval rule the request fires, or null when it needs none. Call after {@link #check} allowed it. */
    RiskRules.Hit approvalFor(List<StatementAnalysis> statements) {
        // Right after check of the same request: its verdict, so the planner is not asked twice for one statement.
        RiskRules.Hit hit = statements == judged ? judgedHit : risk(statements);
        judged = null;
        judgedHit = null;
        return hit != null && hit.rule().approval() != null ? hit : null;
    }

    private RiskRules.Hit risk(List<StatementAnalysis> statements) {
        if (rules.isEmpty() || statements.stream().allMatch(StatementRules::isGatewaySetting)) {
            return null;
        }
        return RiskRules.evaluate(rules, role, statements, new SessionFacts(), clock.instant());
    }

    /** The facts of one evaluation; the row estimate is asked of the planner at most once per statement. */
    private final class SessionFacts implements RiskRules.Facts {
        private final Map<StatementAnalysis, Long> estimates = new IdentityHashMap<>();

        @Override
        public boolean touchesPhi(StatementAnalysis s) {
            return masking != null && masking.touchesPhi(s);
        }

        @Override
        public Set<PhiType> phiRead(StatementAnalysis s) {
            return masking == null ? Set.of() : masking.phiRead(s);
        }

        @Override
        public Set<PhiType> unmaskedRead(StatementAnalysis s) {
            return masking == null ? Set.of() : masking.unmaskedRead(s);
        }

        @Override
        public Set<PhiType> phiTouched(StatementAnalysis s) {
            return masking == null ? Set.of() : masking.phiTouched(s);
        }

        @Override
        public long rowEstimate(StatementAnalysis s) {
            return estimates.computeIfAbsent(s, a -> estimator == null ? -1L : estimator.applyAsLong(a));
        }

        @Override
        public boolean runsCodeWhenTouched(StatementAnalysis s) {
            // A session that sees PHI masked can create no code, so its own temporary tables run none.
            SessionTables own = masking == null || !masking.masksPhi() ? null : masking.tables();
            return ApprovalFacts.runsCodeWhenTouched(PgCatalog.of(catalog), own, s);
        }
    }

    /** A boolean setting's value as PostgreSQL reads "on" (on, true, yes, 1, and their prefixes), quoted or not. */
    public static boolean isOn(String value) {
        if (value == null) {
            return false;
        }
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            v = v.substring(1, v.length() - 1).strip();
        }
        return v.equals("on") || v.equals("1") || (!v.isEmpty() && ("true".startsWith(v) || "yes".startsWith(v)));
    }

    /** SET / RESET of a phigate.* setting the gateway keeps itself: never forwarded, so never risky. */
    public static boolean isGatewaySetting(StatementAnalysis a) {
        return a.setting() != null && KEPT_SETTINGS.contains(a.setting())
                && (a.kind() == StatementKind.SET || a.kind() == StatementKind.RESET);
    }

    private Refusal checkOne(StatementAnalysis a, String justification) {
        if (a.syntaxError()) {
            // The server's grammar rejects the text: answer as the server would, with its own message and position.
            // A newer server might accept what PostgreSQL 15's grammar does not; phigate cannot judge it, so it is
            // refused in every analysed session (decision 0034).
            return new Refusal(StatementAnalysis.SYNTAX_ERROR, a.error(), a.errorPosition());
        }
        String closed = io.phigate.policy.Admission.outsideWindows(role, clock.instant());
        if (closed != null && !isUtility(a)) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, closed);
        }
        if (a.setting() != null && a.setting().startsWith("phigate.") && !KEPT_SETTINGS.contains(a.setting())) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "unknown phigate setting \"" + a.setting() + "\"");
        }
        if (role != null && role.justification() == Role.Justification.REQUIRED && justification == null
                && !isUtility(a)) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "role \"" + role.name() + "\" requires a justification"
                    + " before it reads or changes data: send SET phigate.justification = '...' (as a statement of"
                    + " its own), connect with options='-c phigate.justification=...', or obtain credentials with one");
        }
        Refusal misread = ReadingSettings.refusal(a);
        if (misread != null) {
            return misread;
        }
        if (masking == null || !masking.masksPhi()) {
            return null;
        }
        PhiCatalog phi = masking.catalogPolicy();
        if (!a.parsed()) {
            if (phi.unparsed() == PhiCatalog.OnUnparsed.REFUSE) {
                return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "phigate cannot analyse this statement ("
                        + a.error() + "), and upstream \"" + upstream + "\" holds PHI this session sees masked"
                        + " (policy phi." + upstream + ".unparsed: refuse)");
            }
            return null;
        }
        for (io.phigate.sql.TableRef t : a.scanned()) {
            if (io.phigate.sql.ValueBearingRelations.holdsOthersValues(t, masking.catalog())) {
                return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, t + " holds values of other tables' columns or"
                        + " other sessions' statements; refused for a session that sees PHI masked");
            }
        }
        if (a.kind() == StatementKind.DO || a.kind() == StatementKind.CALL) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, (a.kind() == StatementKind.DO ? "DO blocks" : "CALL")
                    + " can read PHI where phigate cannot follow it; refused for a session that sees PHI masked");
        }
        String denied = denyByDefault(a, phi);
        if (denied != null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, denied);
        }
        for (String fn : a.opaqueFunctions()) {
            String f = fn.toLowerCase(Locale.ROOT);
            String bare = f.contains(".") ? f.substring(f.lastIndexOf('.') + 1) : f;
            boolean inVettedForm = a.facts() != StatementFacts.NONE && FunctionAllowlist.CHECKED_FORM_FUNCTIONS.contains(f);
            if (!inVettedForm && !phi.functions().contains(f) && !phi.functions().contains(bare)) {
                return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "function " + fn + " may read PHI where phigate"
                        + " cannot follow it; a session that sees PHI masked may call only functions vetted in policy"
                        + " phi." + upstream + ".functions");
            }
        }
        if (a.dataRoute() != null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, a.dataRoute() + " can move PHI inside the server, or"
                    + " open it to others, where phigate cannot follow it (server-side code, rules, replication,"
                    + " foreign tables, grants and roles, the column comments tags are read from); refused for a"
                    + " session that sees PHI masked");
        }
        if (a.altersRelation()) {
            for (io.phigate.sql.TableRef t : a.writes()) {
                if (masking.holdsPhi(t)) {
                    return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "ALTER of " + t + ", which holds PHI,"
                            + " is refused for a session that sees PHI masked: retyping or reshaping a tagged"
                            + " column changes what masking reads; schema changes belong to a role that sees PHI");
                }
            }
        }
        String copy = PhiCopies.refusal(masking, a);
        if (copy != null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, copy);
        }
        if (a.setting() != null && GUARDED_SETTINGS.contains(a.setting())
                && (a.kind() == StatementKind.SET || a.kind() == StatementKind.RESET)) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "changing " + a.setting() + " is refused for a"
                    + " session that sees PHI masked: masking resolves names as the session started");
        }
        if (a.kind() == StatementKind.SET && !FunctionAllowlist.settable(a.setting())
                && !SET_FORMS.contains(a.setting()) && !KEPT_SETTINGS.contains(a.setting())) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "SET " + a.setting() + " is refused for a session"
                    + " that sees PHI masked: only settings phigate models may change (planner settings, for one,"
                    + " can force an index scan whose row order is a masked column's sort order); RESET is allowed");
        }
        if (a.kind() == StatementKind.COPY_TO && masking.touchesPhi(a) && copyFormat(a.facts().options()) == null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "COPY of PHI is masked row by row in text or CSV"
                    + " format with default options only; binary format and custom delimiters, quotes or NULL"
                    + " strings are refused");
        }
        return null;
    }

    /**
     * The deny-by-default rules of a session that sees PHI masked (decision 0036): no route to the server's programs
     * and files, only vetted functions and pg_catalog operators, no predicate over masked PHI beyond granted lookups.
     */
    private String denyByDefault(StatementAnalysis a, PhiCatalog phi) {
        String endpoint = a.facts().copyEndpoint();
        if ("PROGRAM".equals(endpoint) || "FILE".equals(endpoint)) {
            return "COPY " + (endpoint.equals("PROGRAM") ? "to or from a program" : "to or from a server file")
                    + " runs on the database server, out of phigate's sight; refused for a session that sees PHI"
                    + " masked (use COPY ... TO STDOUT or FROM STDIN)";
        }
        String function = FunctionAllowlist.builtIn().refusal(a, masking.catalog(), phi.functions(), upstream);
        if (function != null) {
            return function;
        }
        return PredicateRule.refusal(a, masking.catalog(), masking::maskedType,
                role == null ? Set.of() : role.lookup(), role == null ? null : role.name());
    }

    private static boolean isUtility(StatementAnalysis a) {
        return a.parsed() && !a.operations().isEmpty() && a.operations().stream().allMatch(o -> o == Operation.UTILITY)
                || a.kind() == StatementKind.EMPTY;
    }

    /** The COPY output format the masker can parse, or null when it cannot; read from the statement's own text. */
    public static CopyFormat copyFormat(String text) {
        return text == null ? null : copyFormat(io.phigate.sql.SqlAnalyzer.copyOptions(text));
    }

    /**
     * The COPY output format the masker can parse from the options as the server's grammar read them, or null:
     * only {@code format} (text or csv, compared as the server compares them, case-sensitively) and
     * {@code header}; a quoted or differently spelled name the server would refuse is refused here too.
     */
    public static CopyFormat copyFormat(Map<String, String> options) {
        if (options == null || !MASKABLE_COPY_OPTIONS.containsAll(options.keySet())) {
            return null;
        }
        String format = options.getOrDefault("format", "text");
        return switch (format) {
            case "text" -> CopyFormat.TEXT;
            case "csv" -> CopyFormat.CSV;
            default -> null;
        };
    }

    /** True when a COPY's output starts with a header line (HEADER, HEADER true/on/1, as the server reads it). */
    public static boolean copyHeader(String text) {
        return copyHeader(text == null ? null : io.phigate.sql.SqlAnalyzer.copyOptions(text));
    }

    /** As {@link #copyHeader(String)}, from the options as the statement's analysis read them. */
    public static boolean copyHeader(Map<String, String> options) {
        return options != null && options.containsKey("header") && isOn(options.get("header"));
    }
}
