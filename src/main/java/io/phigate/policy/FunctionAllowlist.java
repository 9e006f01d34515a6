package io.phigate.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.Catalog;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts.FunctionCall;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The functions and operators a session that sees PHI masked may use: the vetted set of pg_catalog functions whose
 * lineage the analyser models ({@code sql/allowed-functions.txt}), pg_catalog's operators, and what the policy vets
 * per upstream ({@code phi.<upstream>.functions}). Everything else, in any schema, is refused, naming the function
 * and that key (decision 0036). An allow list, because a deny list over thousands of catalog functions, plus every
 * extension's, cannot be complete: one built-in that runs SQL given as text is enough.
 *
 * <p>Some functions are allowed only in forms that cannot carry PHI (issue 25): {@code current_setting} with a
 * constant name; {@code set_config} with a constant name from {@link #SETTINGS} or a custom one, a constant or bound
 * value and a constant {@code is_local}, or {@code set_config('search_path', ...)} to a path that only narrows the one
 * masking resolves names by ({@link PgCatalog#narrowsNamesTo}), as pg_dump sets it; {@code pg_notify} with a
 * constant or bound channel and payload; {@code pg_cancel_backend} and {@code pg_terminate_backend} of the
 * session's own backend.
 */
public final class FunctionAllowlist {
    /**
     * Settings set_config and SET may change in a session that sees PHI masked: none holds PHI, none changes how the
     * gateway reads statements or who runs them, none steers the planner (an index-only scan forced by
     * {@code enable_seqscan = off} or cheap random pages returns rows in a masked column's sort order; decision 0054).
     */
    static final Set<String> SETTINGS = Set.of("application_name", "statement_timeout", "lock_timeout",
            "idle_in_transaction_session_timeout", "idle_session_timeout", "work_mem", "maintenance_work_mem",
            "datestyle", "intervalstyle", "timezone", "extra_float_digits", "client_min_messages", "bytea_output",
            "default_transaction_isolation", "default_transaction_read_only", "transaction_isolation",
            "transaction_read_only", "row_security", "synchronous_commit", "jit", "quote_all_identifiers",
            "check_function_bodies", "xmloption", "lc_monetary", "lc_numeric", "lc_time",
            "client_encoding", "standard_conforming_strings",
            // pg_dump's own: a seq scan started at the table's first page, tables created where the server would
            "synchronize_seqscans", "default_tablespace", "default_table_access_method", "transaction_timeout",
            // pg_dump's: it only forbids the server to use views and foreign tables, for any value
            "restrict_nonsystem_relation_kind");
    /**
     * The functions allowed in the forms {@link #refusal} checks on the parse tree only, as written unqualified or
     * in pg_catalog. In those forms their results derive from their arguments, and lineage follows them; a catalog
     * that still counts one opaque (a test's) does not make StatementRules refuse it.
     */
    public static final Set<String> CHECKED_FORM_FUNCTIONS = Set.of("set_config", "current_setting", "pg_notify",
            "pg_cancel_backend", "pg_terminate_backend", "pg_catalog.set_config", "pg_catalog.current_setting",
            "pg_catalog.pg_notify", "pg_catalog.pg_cancel_backend", "pg_catalog.pg_terminate_backend");
    /** The bare names of {@link #CHECKED_FORM_FUNCTIONS}. */
    private static final Set<String> CHECKED_FORMS = Set.of("set_config", "current_setting", "pg_notify",
            "pg_cancel_backend", "pg_terminate_backend");
    /** The settings phigate reads statement text by: set_config sets them only to the value it reads with. */
    private static final Set<String> READ_BY = Set.of("client_encoding", "standard_conforming_strings");
    /** What client_encoding and standard_conforming_strings may be set to: the values phigate reads statements by. */
    private static final Set<String> UTF8 = Set.of("utf8", "utf-8", "unicode");
    private static final Set<String> ON = Set.of("on", "true", "yes", "1");

    private static final class Holder {
        static final FunctionAllowlist BUILT_IN = read("/sql/allowed-functions.txt");
    }

    /** pg_catalog names, and {@code schema.name} of other schemas' functions vetted by qualified name. */
    private final Set<String> names;

    FunctionAllowlist(Set<String> names) {
        this.names = Set.copyOf(names);
    }

    /** The vetted set shipped with phigate, read once. */
    public static FunctionAllowlist builtIn() {
        return Holder.BUILT_IN;
    }

    /** How many functions are vetted. */
    public int size() {
        return names.size();
    }

    /**
     * Null when every function and operator {@code a} uses may run for a session that sees PHI on {@code upstream}
     * masked; otherwise why not, naming the function and the policy key that would allow it. {@code vetted} is
     * {@code phi.<upstream>.functions} (lower case, qualified or bare).
     */
    public String refusal(StatementAnalysis a, Catalog catalog, Set<String> vetted, String upstream) {
        boolean checkedForms = false;
        for (FunctionCall call : a.facts().functions()) {
            String name = call.name().toLowerCase(Locale.ROOT);
            String schema = call.schema() == null ? null : call.schema().toLowerCase(Locale.ROOT);
            String resolved = schema == null ? onlyDefinition(name, catalog) : null;
            if (vetted.contains(name) || vetted.contains(call.qualified().toLowerCase(Locale.ROOT))
                    || (resolved != null && vetted.contains(resolved))) {
                continue;
            }
            if (!allowed(schema, name, catalog)) {
                String what = isOperator(name) ? "operator " : "function ";
                return what + call.qualified() + " is not among the functions phigate vets for a session that"
                        + " sees PHI masked (its result may come from data lineage cannot follow: a query given as"
                        + " text, a table read in its body, a server file, another database); refused. To allow it"
                        + " after vetting it, list it in policy phi." + upstream + ".functions";
            }
            checkedForms |= CHECKED_FORMS.contains(name);
        }
        PgCatalog pg = PgCatalog.of(catalog);
        boolean operators = pg != null && !pg.operatorsOutsidePgCatalog().isEmpty();
        if (!checkedForms && !operators) {
            return null;
        }
        StatementTree tree = StatementTree.of(a.text());
        if (tree == null) {
            return "phigate could not read this statement's calls with the server's grammar; refused for a session"
                    + " that sees PHI masked";
        }
        String refusal = checkedForms ? checkedFormRefusal(tree, pg) : null;
        return refusal != null || !operators ? refusal : operatorRefusal(tree, pg, vetted, upstream);
    }

    /**
     * {@code schema.name} when exactly one schema the server would search for an unqualified call (pg_catalog and
     * the search path; never pg_temp, which the server does not search for functions) defines {@code name}, so a
     * bare call of a function vetted by its qualified name resolves to it whatever the argument types; else null.
     */
    private static String onlyDefinition(String name, Catalog catalog) {
        PgCatalog pg = PgCatalog.of(catalog);
        if (pg == null) {
            return null;
        }
        List<String> found = pg.schemasDefining(name).stream()
                .filter(s -> s.equals("pg_catalog") || pg.searchPath().contains(s)).toList();
        return found.size() == 1 ? found.getFirst() + "." + name : null;
    }

    private boolean allowed(String schema, String name, Catalog catalog) {
        if ("pg_catalog".equals(schema) && isOperator(name)) {
            return true; // OPERATOR(pg_catalog.~): a built-in operator, named so no other schema's can be meant
        }
        if (schema != null && !schema.equals("pg_catalog")) {
            return names.contains(schema + "." + name) && catalog.isTransparentFunction(schema, name);
        }
        if (!names.contains(name)) {
            return false;
        }
        PgCatalog pg = PgCatalog.of(catalog);
        if (pg == null) {
            return catalog.isTransparentFunction(schema, name) || CHECKED_FORMS.contains(name);
        }
        Set<String> defining = pg.schemasDefining(name);
        if (!defining.contains("pg_catalog")) {
            return false;
        }
        // Unqualified, a function of the same name in a schema on the path could be the one the server picks.
        return schema != null || defining.stream().noneMatch(s -> !s.equals("pg_catalog")
                && (pg.searchPath().contains(s) || s.startsWith("pg_temp")));
    }

    /** An operator's name is made of symbols; a function's starts like an identifier. */
    private static boolean isOperator(String name) {
        char c = name.charAt(0);
        return !(Character.isLetter(c) || c == '_' || c == '"');
    }

    private static String checkedFormRefusal(StatementTree tree, PgCatalog pg) {
        for (List<JsonNode> args : tree.callsOf("current_setting")) {
            if (args.isEmpty() || !StatementTree.isConstant(args.get(0))) {
                return "current_setting is allowed for a session that sees PHI masked with a constant setting name"
                        + " only";
            }
        }
        for (List<JsonNode> args : tree.callsOf("set_config")) {
            String name = args.size() == 3 ? settingName(tree, args.get(0)) : null;
            String setting = name == null ? null : name.strip().toLowerCase(Locale.ROOT);
            if ("search_path".equals(setting) && pg != null && StatementTree.isConstant(args.get(2))
                    && pg.narrowsNamesTo(StatementTree.constantText(args.get(1)))) {
                continue; // pg_dump's first statement: names resolve as masking resolves them, or not at all
            }
            boolean shaped = setting != null && (SETTINGS.contains(setting) || isCustom(setting))
                    && (StatementTree.isConstant(args.get(1)) || StatementTree.isParameter(args.get(1)))
                    && StatementTree.isConstant(args.get(2));
            if (!shaped) {
                return "set_config is allowed for a session that sees PHI masked only as set_config('setting',"
                        + " constant or $n, constant is_local), for a custom setting (with a dot in its name) or one"
                        + " among " + String.join(", ", new java.util.TreeSet<>(SETTINGS));
            }
        }
        return backendAndNotifyRefusal(tree);
    }

    /**
     * Null when no set_config call in {@code a} can change a setting phigate reads statement text by
     * ({@code client_encoding}, {@code standard_conforming_strings}); otherwise why the statement is refused. For
     * every analysed session, masked or not: a scope or an approval rule is only as good as the reading of the
     * statement it judges. The setting's name must be a constant (a computed or bound name may be either), and
     * those two may be set only to the value phigate reads with, as a string constant: a bound value is read by the
     * server first, and within one extended batch the server reads the batch's next Parse by it before the
     * gateway could refuse it. Routes that call set_config out of sight (a view, a trigger, a function) are closed
     * by {@code pg.RequestForwarder}'s batch rule and the server's own report (decision 0057).
     */
    public static String readingSettingRefusal(StatementAnalysis a) {
        if (!a.parsed()) {
            return null;
        }
        List<SettingCalls.Call> calls = SettingCalls.setConfigCalls(a);
        if (calls == null) {
            return "phigate could not read this statement's set_config calls with the server's grammar; refused";
        }
        for (SettingCalls.Call call : calls) {
            String setting = call.arguments().size() == 3 ? call.name() : null;
            if (setting == null) {
                return "set_config is allowed only with the setting's name written as a string constant (a computed"
                        + " or bound name could be client_encoding or standard_conforming_strings, which phigate"
                        + " reads statements by)";
            }
            if (READ_BY.contains(setting)) {
                String value = StatementTree.constantText(call.arguments().get(1));
                String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
                if (!(setting.equals("client_encoding") ? UTF8 : ON).contains(v)) {
                    return "set_config of " + setting + " is allowed only to the value phigate reads statements"
                            + " with, written as a string constant (client_encoding 'UTF8',"
                            + " standard_conforming_strings 'on'), never a bound or computed value";
                }
            }
        }
        return null;
    }

    /**
     * True when a session that sees PHI masked may SET {@code setting} (lower case): one of {@link #SETTINGS} or a
     * custom setting. Settings outside the list are refused by name, as the functions are: deny by default.
     */
    public static boolean settable(String setting) {
        return setting != null && (SETTINGS.contains(setting) || isCustom(setting));
    }

    /**
     * A custom setting ({@code myapp.tenant}): the server keeps it for the session and reads it nowhere, so it holds
     * what the session put there, and set_config puts only constants or bound values. Never phigate's own, which the
     * gateway keeps.
     */
    private static boolean isCustom(String setting) {
        return setting.indexOf('.') > 0 && !setting.startsWith("phigate.") && !setting.startsWith("\"");
    }

    /**
     * pg_notify sends its payload to every listener, where phigate masks nothing: only a constant or bound channel
     * and payload, never a value the statement reads. pg_cancel_backend and pg_terminate_backend reach any backend
     * of the upstream login, which every agent on the upstream shares: only the session's own, named
     * {@code pg_backend_pid()} (the form client test suites use to drop their own connection), with a constant
     * timeout.
     */
    private static String backendAndNotifyRefusal(StatementTree tree) {
        for (List<JsonNode> args : tree.callsOf("pg_notify")) {
            if (args.size() != 2 || !args.stream().allMatch(a -> StatementTree.isConstant(a)
                    || StatementTree.isParameter(a))) {
                return "pg_notify is allowed for a session that sees PHI masked only with a constant or $n channel"
                        + " and payload (a payload computed from what the statement reads reaches listeners phigate"
                        + " does not mask)";
            }
        }
        for (String function : List.of("pg_cancel_backend", "pg_terminate_backend")) {
            for (List<JsonNode> args : tree.callsOf(function)) {
                boolean own = !args.isEmpty() && args.size() <= 2 && isOwnBackend(args.get(0))
                        && (args.size() == 1 || StatementTree.isConstant(args.get(1)));
                if (!own) {
                    return function + " is allowed for a session that sees PHI masked only for its own backend,"
                            + " as " + function + "(pg_backend_pid()): the upstream login is shared by every agent"
                            + " on it, so another pid may be another agent's session (an operator ends sessions with"
                            + " phigate sessions kill)";
                }
            }
        }
        return null;
    }

    /** {@code pg_backend_pid()} or {@code pg_catalog.pg_backend_pid()}, with no arguments. */
    private static boolean isOwnBackend(JsonNode arg) {
        JsonNode call = arg.get("FuncCall");
        if (call == null || call.has("args") || call.has("agg_filter") || call.has("over")) {
            return false;
        }
        JsonNode name = call.path("funcname");
        String last = name.path(name.size() - 1).path("String").path("sval").asText();
        return last.equals("pg_backend_pid") && (name.size() == 1
                || (name.size() == 2 && name.path(0).path("String").path("sval").asText().equals("pg_catalog")));
    }

    /**
     * The setting a set_config call names: a constant, or the column {@code name} of a lone
     * {@code FROM pg_settings WHERE name = 'constant'}, the form pg_dump uses to set a setting only where the server
     * has it ({@code restrict_nonsystem_relation_kind}); else null.
     */
    static String settingName(StatementTree tree, JsonNode arg) {
        String constant = StatementTree.constantText(arg);
        if (constant != null || !isColumn(arg, "name")) {
            return constant;
        }
        List<JsonNode> selects = tree.nodes("SelectStmt");
        if (selects.size() != 1 || tree.nodes("RangeVar").size() != 1) {
            return null;
        }
        JsonNode select = selects.getFirst();
        JsonNode from = select.path("fromClause");
        JsonNode table = from.size() == 1 ? from.get(0).path("RangeVar") : null;
        JsonNode where = select.path("whereClause").path("A_Expr");
        boolean settingsView = table != null && "pg_settings".equals(table.path("relname").asText())
                && List.of("", "pg_catalog").contains(table.path("schemaname").asText(""))
                && !table.has("alias");
        boolean byName = "AEXPR_OP".equals(where.path("kind").asText())
                && "=".equals(where.path("name").path(0).path("String").path("sval").asText())
                && where.path("name").size() == 1 && isColumn(where.path("lexpr"), "name");
        return settingsView && byName ? StatementTree.constantText(where.path("rexpr")) : null;
    }

    private static boolean isColumn(JsonNode node, String column) {
        JsonNode fields = node.path("ColumnRef").path("fields");
        return fields.size() == 1 && column.equals(fields.get(0).path("String").path("sval").asText());
    }

    private static String operatorRefusal(StatementTree tree, PgCatalog pg, Set<String> vetted, String upstream) {
        for (List<String> op : tree.operators()) {
            String name = op.get(op.size() - 1);
            String schema = op.size() > 1 ? op.get(op.size() - 2).toLowerCase(Locale.ROOT) : null;
            boolean builtIn = schema == null ? !pg.operatorsOutsidePgCatalog().contains(name)
                    : schema.equals("pg_catalog");
            String written = schema == null ? name : schema + "." + name;
            if (!builtIn && !vetted.contains(written)) {
                return "operator " + written + " is not a pg_catalog operator (one defined elsewhere runs a function"
                        + " phigate has not vetted, which may read data lineage cannot follow); refused for a session"
                        + " that sees PHI masked. To allow it after vetting it, list it in policy phi." + upstream
                        + ".functions";
            }
        }
        return null;
    }

    private static FunctionAllowlist read(String resource) {
        Set<String> names = new HashSet<>();
        try (InputStream in = FunctionAllowlist.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("phigate's function allowlist " + resource + " is missing");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String name = line.strip();
                if (!name.isEmpty() && !name.startsWith("#")) {
                    names.add(name.toLowerCase(Locale.ROOT));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new FunctionAllowlist(names);
    }
}
