package io.phigate.policy;

import io.phigate.sql.Operation;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Whether a role's allow rules cover what a statement does, decided from the statement's analysis alone and
 * independently of what the database would allow. Pure: no I/O, no clock.
 *
 * <p>The rules, each failing closed:
 * <ul>
 *   <li>No role (the policy defines none): allowed. A role without allow rules is not scope-restricted by the
 *       gateway (upstream reach, time windows, masking and the database's own grants still apply); setting
 *       {@code role} or {@code session_authorization}, by SET or set_config, is refused for every role.</li>
 *   <li>A role with allow rules may not change {@code search_path} (SET or set_config): the rules name tables by
 *       schema, and an unqualified name is resolved by the path the catalog was read with, as the server resolves
 *       it only while the path stays so. A set_config whose setting name is not a constant could be either, and is
 *       refused too.</li>
 *   <li>A statement the analyser could not parse is refused for a role with allow rules.</li>
 *   <li>A relation the catalog could not resolve (schema {@code ?}) is refused.</li>
 *   <li>Every relation read needs {@code select} (and {@code copy} when the statement is a COPY) from one allow
 *       rule whose table glob matches {@code schema.table}; every relation written needs each write operation the
 *       statement performs (insert, update, delete, truncate, copy, ddl, grant). A statement that writes two
 *       relations with two different operations needs both on each: stricter than exact, never looser. Writes the
 *       statement does not name count too: tables written by foreign-key actions, sequences nextval/setval
 *       advance, rows locked by FOR UPDATE/SHARE, tables locked by LOCK (above ACCESS SHARE) and tables VACUUM or
 *       ANALYZE process (an update each; without a table, update on {@code *}).</li>
 *   <li>An opaque function needs {@code function} on a glob matching its name as written ({@code schema.name};
 *       an unqualified name is {@code ?.name}, so only a {@code *.name} or {@code *} rule covers it, since the
 *       search path decides which schema it comes from). {@code DO} blocks need {@code function} on {@code *.*}.</li>
 *   <li>A built-in function that may change state beyond its result ({@code sql.Catalog#changesState}: a volatile
 *       pg_catalog function other than the few known to change nothing, such as set_config, pg_notify,
 *       pg_terminate_backend, pg_stat_reset, brin_summarize_range) needs {@code function} on a glob matching
 *       {@code pg_catalog.name}, whatever else the statement does (decision 0058).</li>
 *   <li>DDL or GRANT with no relation named needs some rule with that operation; so does DDL that writes no
 *       relation but reads some (ALTER DOMAIN reads every table holding the domain's values, decision 0074). A
 *       domain or composite type the catalog does not know is an unresolved relation.</li>
 *   <li>Utility statements (SET, SHOW, BEGIN, COMMIT, ...) that touch no relation are always allowed.</li>
 * </ul>
 */
public final class ScopeCheck {
    /** insufficient_privilege */
    public static final String SQLSTATE = "42501";

    private static final Set<Operation> WRITES = EnumSet.of(Operation.INSERT, Operation.UPDATE, Operation.DELETE,
            Operation.TRUNCATE, Operation.COPY, Operation.DDL, Operation.GRANT);

    /** The outcome: allowed, or refused with a message that names the rule, relation and operation. */
    public record Verdict(boolean allowed, String sqlState, String message) {
        public static final Verdict ALLOWED = new Verdict(true, null, null);

        static Verdict refused(String message) {
            return new Verdict(false, SQLSTATE, message);
        }
    }

    private ScopeCheck() {
    }

    /** Checks every statement of one request (a multi-statement query string is all or nothing). */
    public static Verdict check(Role role, List<StatementAnalysis> statements) {
        if (role == null) {
            return Verdict.ALLOWED;
        }
        for (int i = 0; i < statements.size(); i++) {
            String refusal = refusal(role, statements.get(i));
            if (refusal != null) {
                String where = statements.size() > 1 ? " (statement " + (i + 1) + " of " + statements.size() + ")" : "";
                return Verdict.refused("permission denied by phigate role \"" + role.name() + "\"" + where + ": "
                        + refusal);
            }
        }
        return Verdict.ALLOWED;
    }

    /** Most rows a statement may return to {@code role}; 0 when there is no limit (or no role). */
    public static long rowLimit(Role role) {
        return role == null ? 0 : role.rowLimit();
    }

    private static String refusal(Role role, StatementAnalysis s) {
        String switching = SettingCalls.setsAny(s, SettingCalls.ROLE_SWITCHING);
        if (switching != null) {
            return "setting " + switching + " is not allowed: the database role is chosen by the gateway";
        }
        if (role.allow().isEmpty()) {
            return null;
        }
        if (!s.parsed()) {
            return "the statement could not be analysed (" + s.error() + "), so its scope cannot be checked";
        }
        String path = searchPathChange(s);
        if (path != null) {
            return path;
        }
        String changing = stateChange(role, s);
        if (changing != null) {
            return changing;
        }
        Set<Operation> ops = s.operations();
        boolean utilityOnly = ops.stream().allMatch(o -> o == Operation.UTILITY);
        if (utilityOnly && s.reads().isEmpty() && s.writes().isEmpty() && s.opaqueFunctions().isEmpty()
                && s.kind() != StatementKind.DO) {
            return null;
        }
        for (TableRef t : s.reads()) {
            String unknown = unresolved(t);
            if (unknown != null) {
                return unknown;
            }
            Set<Operation> need = EnumSet.noneOf(Operation.class);
            if (utilityOnly) {
                String r = coveredByAny(role, t);
                if (r != null) {
                    return r;
                }
                continue;
            }
            need.add(Operation.SELECT);
            if (ops.contains(Operation.COPY) && s.kind() == StatementKind.COPY_TO) {
                need.add(Operation.COPY);
            }
            String r = covered(role, t, need, "reads");
            if (r != null) {
                return r;
            }
        }
        Set<Operation> writeOps = EnumSet.noneOf(Operation.class);
        for (Operation o : ops) {
            if (WRITES.contains(o)) {
                writeOps.add(o);
            }
        }
        for (TableRef t : s.writes()) {
            String unknown = unresolved(t);
            if (unknown != null) {
                return unknown;
            }
            if (utilityOnly) {
                String r = coveredByAny(role, t);
                if (r != null) {
                    return r;
                }
                continue;
            }
            Set<Operation> need = writeOps.isEmpty() ? EnumSet.of(Operation.INSERT) : writeOps;
            String r = covered(role, t, need, "writes");
            if (r != null) {
                return r;
            }
        }
        if (!utilityOnly) {
            // A write whose condition or SET value reads its target's rows reads them: PostgreSQL asks SELECT too.
            for (TableRef t : s.facts().targetReads()) {
                String r = covered(role, t, EnumSet.of(Operation.SELECT), "reads");
                if (r != null) {
                    return r;
                }
            }
        }
        for (String f : s.opaqueFunctions()) {
            String name = f.contains(".") ? f.toLowerCase(Locale.ROOT) : "?." + f.toLowerCase(Locale.ROOT);
            if (!functionGranted(role, s, f)) {
                return "function " + f + " is not allowed: no allow rule grants function on a name matching "
                        + name + " (" + rules(role) + ")";
            }
        }
        if (s.kind() == StatementKind.DO && !anyRule(role, Operation.FUNCTION, "*", "*")) {
            return "DO blocks run arbitrary code: they need an allow rule granting function on \"*\" ("
                    + rules(role) + ")";
        }
        if (s.kind() == StatementKind.VACUUM_ANALYZE && s.writes().isEmpty()
                && !anyRule(role, Operation.UPDATE, "*", "*")) {
            return "VACUUM or ANALYZE without a table processes every table: it needs an allow rule granting update"
                    + " on \"*\" (" + rules(role) + ")";
        }
        if (s.writes().isEmpty()) {
            for (Operation o : List.of(Operation.DDL, Operation.GRANT, Operation.FUNCTION, Operation.COPY)) {
                // DDL that writes no relation but reads some (ALTER DOMAIN tests the tables using the domain,
                // decision 0074) still changes the schema: it needs the grant as DDL that touches nothing does.
                boolean unnamed = s.reads().isEmpty() || o == Operation.DDL;
                if (unnamed && ops.contains(o) && role.allow().stream().noneMatch(a -> a.operations().contains(o))) {
                    return o.policyName() + " is not allowed: no allow rule grants " + o.policyName() + " ("
                            + rules(role) + ")";
                }
            }
        }
        return null;
    }

    /**
     * Why a built-in the statement calls that may change state is not allowed; null when each has a grant. A
     * function judged opaque is left to the rule for opaque functions, whose grant it needs instead.
     */
    private static String stateChange(Role role, StatementAnalysis s) {
        for (String f : s.facts().stateChanges()) {
            String bare = f.substring(f.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
            String name = "pg_catalog." + bare;
            if (s.opaqueFunctions().contains(f) || anyRule(role, Operation.FUNCTION, "pg_catalog", bare)) {
                continue;
            }
            return "built-in function " + f + " may change state beyond its result (a setting, a lock, a"
                    + " notification, another session, statistics, the server's files or WAL): it needs an allow"
                    + " rule granting function on a name matching " + name + " (" + rules(role) + ")";
        }
        return null;
    }

    /**
     * Why a statement that changes {@code search_path} (SET, or set_config with that or a computed name) is refused
     * where the policy judges names by schema; null when it changes no such thing. Also asked by the session's
     * rules for risk rules that name tables.
     */
    public static String searchPathChange(StatementAnalysis s) {
        String set = SettingCalls.setsAny(s, List.of(SettingCalls.SEARCH_PATH));
        if (set == null) {
            return null;
        }
        return "changing " + set + " is not allowed: phigate judges tables by schema and resolves an unqualified name"
                + " by the search path the catalog was read with, which the server follows only while it stays so;"
                + " qualify names instead (RESET search_path is allowed)";
    }

    private static String unresolved(TableRef t) {
        if ("?".equals(t.schema())) {
            return "relation " + t.table() + " could not be resolved to a schema (or, for a domain or composite type"
                    + " the catalog does not know, to the tables that use it), so its scope cannot be checked";
        }
        return null;
    }

    /** Null when one allow rule matching {@code t} grants every operation in {@code need}. */
    private static String covered(Role role, TableRef t, Set<Operation> need, String verb) {
        String name = qualified(t);
        for (Role.Allow a : role.allow()) {
            if (a.operations().containsAll(need) && names(a, t)) {
                return null;
            }
        }
        return names(need) + " on " + name + " is not allowed: no allow rule grants " + names(need)
                + " on a table matching " + name + " (" + rules(role) + ")";
    }

    private static String coveredByAny(Role role, TableRef t) {
        String name = qualified(t);
        for (Role.Allow a : role.allow()) {
            if (names(a, t)) {
                return null;
            }
        }
        return name + " is not in scope: no allow rule names a table matching it (" + rules(role) + ")";
    }

    /**
     * Whether a rule grants function on the opaque function {@code f}, judged by its schema and name apart as tables
     * are (decision 0090): the joined text {@code public.x.f} is schema {@code "public.x"}'s {@code f} or schema
     * {@code public}'s {@code "x.f"}, and a glob {@code public.*} must not take the one for the other (decision
     * 0094). The parts are the calls the analysis recorded under that text; every one must be granted, and where
     * none was recorded every split of the text at a dot must be (fail closed).
     */
    private static boolean functionGranted(Role role, StatementAnalysis s, String f) {
        List<String[]> readings = new java.util.ArrayList<>();
        for (StatementFacts.FunctionCall c : s.facts().functions()) {
            if (c.qualified().equals(f)) {
                readings.add(new String[] {c.schema() == null ? "?" : c.schema(), c.name()});
            }
        }
        boolean recorded = !readings.isEmpty();
        for (int dot = f.indexOf('.'); !recorded && dot >= 0; dot = f.indexOf('.', dot + 1)) {
            readings.add(new String[] {f.substring(0, dot), f.substring(dot + 1)});
        }
        if (readings.isEmpty()) {
            readings.add(new String[] {"?", f});
        }
        return readings.stream().allMatch(r -> anyRule(role, Operation.FUNCTION, r[0].toLowerCase(Locale.ROOT),
                r[1].toLowerCase(Locale.ROOT)));
    }

    private static boolean anyRule(Role role, Operation op, String schema, String name) {
        for (Role.Allow a : role.allow()) {
            if (a.operations().contains(op) && a.tables().stream().anyMatch(g -> Match.relation(g, schema, name))) {
                return true;
            }
        }
        return false;
    }

    /** The rule names the relation: schema and table each matched by their part of a glob (lower case). */
    private static boolean names(Role.Allow a, TableRef t) {
        String schema = t.schema().toLowerCase(Locale.ROOT);
        String table = t.table().toLowerCase(Locale.ROOT);
        return a.tables().stream().anyMatch(g -> Match.relation(g, schema, table));
    }

    private static String qualified(TableRef t) {
        return (t.schema() + "." + t.table()).toLowerCase(Locale.ROOT);
    }

    private static String names(Set<Operation> ops) {
        return String.join("+", ops.stream().map(Operation::policyName).toList()).toUpperCase(Locale.ROOT);
    }

    /** The role's rules as the policy file spells them, so the refusal names the rule that did not fit. */
    static String rules(Role role) {
        StringBuilder b = new StringBuilder("roles[").append(role.name()).append("].allow:");
        for (int i = 0; i < role.allow().size(); i++) {
            Role.Allow a = role.allow().get(i);
            b.append(i == 0 ? " " : "; ").append('[').append(i).append("] ")
                    .append(String.join(",", a.tables())).append(' ')
                    .append(a.operations().stream().map(Operation::policyName).toList());
        }
        return b.toString();
    }
}
