package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.sval;
import static io.phigate.sql.Tree.text;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.Lineage.Col;
import io.phigate.sql.Lineage.Facts;
import io.phigate.sql.Lineage.Lin;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one statement's parse tree into a {@link StatementAnalysis}: queries and DML through {@link Lineage},
 * utility statements (SET, cursors, COPY, EXPLAIN, PREPARE, DDL ...) from their own nodes, and any query they
 * embed through the same path. Nothing here reads the statement's text: names, options and values are the
 * server's reading of it.
 */
final class StatementReader {
    /** DECLARE's options bitmask (parsenodes.h CURSOR_OPT_*). */
    private static final int CURSOR_OPT_BINARY = 0x1;
    private static final int CURSOR_OPT_HOLD = 0x20;

    private final Catalog catalog;
    private final Lineage.Views views;
    /** False when the statement's whole tree holds no call at all, so no nextval or setval to look for. */
    private final boolean callsSomething;

    StatementReader(Catalog catalog, Lineage.Views views, boolean callsSomething) {
        this.catalog = catalog;
        this.views = views;
        this.callsSomething = callsSomething;
    }

    /** The mutable form of a {@link StatementAnalysis} while it is worked out. */
    static final class Result {
        StatementKind kind;
        final Facts facts = new Facts();
        List<OutputColumn> outputs = List.of();
        String cursor;
        String setting;
        String settingValue;
        String dataRoute;
        boolean altersRelation;
        boolean unlimited;
        final Map<String, String> options = new LinkedHashMap<>();
        String copyEndpoint;
        /** Sequences nextval/setval advance: written, but never a view that writes through to a table. */
        final Set<TableRef> sequences = new LinkedHashSet<>();
        Set<TableRef> unknownWrites = Set.of();
        Set<TableRef> descendantReads = Set.of();
        List<TableChange> tableChanges = List.of();
        Set<String> stateChanges = Set.of();
        /** Filled by the analyser's walk over every field ({@link SqlAnalyzer}); none for a text without statements. */
        Set<String> typeNames = Set.of();
        StatementFacts.Savepoint savepoint;
        /** TRUNCATE ... CASCADE: it also empties the tables that reference the ones it names. */
        boolean truncateCascade;

        Result(StatementKind kind, Operation... ops) {
            this.kind = kind;
            facts.operations.addAll(List.of(ops));
        }

        StatementAnalysis build(String text) {
            StatementFacts f = new StatementFacts(List.copyOf(facts.functions), List.copyOf(facts.predicates),
                    facts.unfilteredWrite, unlimited, Collections.unmodifiableMap(new LinkedHashMap<>(options)),
                    copyEndpoint, unknownWrites, List.copyOf(tableChanges), stateChanges, typeNames, savepoint,
                    descendantReads, Collections.unmodifiableSet(new LinkedHashSet<>(facts.targetReads)));
            return new StatementAnalysis(kind, Collections.unmodifiableSet(facts.operations.isEmpty()
                    ? EnumSet.noneOf(Operation.class) : EnumSet.copyOf(facts.operations)),
                    Collections.unmodifiableSet(new LinkedHashSet<>(facts.reads)),
                    Collections.unmodifiableSet(new LinkedHashSet<>(facts.writes)), outputs,
                    Collections.unmodifiableSet(new LinkedHashSet<>(facts.opaqueFunctions)), facts.copiesQuery,
                    cursor, setting, settingValue, true, null, text, List.copyOf(facts.columnWrites), dataRoute,
                    altersRelation, f);
        }
    }

    /** The analysis of one statement node ({@code {"SelectStmt": {...}}}). */
    Result statement(JsonNode node) {
        Result r = dispatch(node);
        if (r.dataRoute == null && !is(node, "ExplainStmt")) {
            r.dataRoute = DataRoutes.of(node);
        }
        r.altersRelation |= DataRoutes.isAlter(node);
        r.options.remove(StatementFacts.PLAIN_ALTER); // set only here, never from a quoted option name
        if (DataRoutes.isPlainAlterTable(node)) {
            r.options.put(StatementFacts.PLAIN_ALTER, "true"); // installs no code: risk rules judge it as the write it is
        }
        if (callsSomething && (!is(node, "ExplainStmt") || isTrue(r.options.getOrDefault("analyze", "false")))) {
            SideWrites.sequences(node, this, r);
        }
        SideWrites.throughInheritance(catalog, r);
        r.descendantReads = SideWrites.readThroughParents(catalog, r);
        SideWrites.throughKeys(catalog, r);
        r.unknownWrites = SideWrites.unknown(catalog, r, SideWrites.DROPS_WHAT_IT_CANNOT_NAME.contains(type(node)));
        return r;
    }

    private Result dispatch(JsonNode node) {
        JsonNode b = body(node);
        return switch (type(node)) {
            case "SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt" -> query(node);
            case "ExplainStmt" -> explain(b);
            case "CopyStmt" -> copy(b);
            case "DeclareCursorStmt" -> {
                Result r = query(b.path("query"));
                int options = b.path("options").asInt(0);
                if ((options & CURSOR_OPT_HOLD) != 0) {
                    r.options.put("hold", "true");
                }
                if ((options & CURSOR_OPT_BINARY) != 0) {
                    r.options.put("binary", "true");
                }
                r.kind = StatementKind.DECLARE_CURSOR;
                r.cursor = text(b, "portalname");
                yield r;
            }
            case "FetchStmt" -> {
                boolean move = b.path("ismove").asBoolean(false);
                // FETCH returns the cursor's rows, so it counts as a SELECT; MOVE only repositions.
                Result r = move ? new Result(StatementKind.MOVE, Operation.UTILITY)
                        : new Result(StatementKind.FETCH, Operation.SELECT);
                r.cursor = text(b, "portalname");
                yield r;
            }
            case "ClosePortalStmt" -> {
                Result r = new Result(StatementKind.CLOSE_CURSOR, Operation.UTILITY);
                r.cursor = text(b, "portalname");
                if (r.cursor == null) {
                    r.options.put("all", "true");
                }
                yield r;
            }
            case "VariableSetStmt" -> set(b);
            case "VariableShowStmt" -> {
                Result r = new Result(StatementKind.SHOW, Operation.UTILITY);
                r.setting = asciiLower(text(b, "name"));
                yield r;
            }
            case "ConstraintsSetStmt" -> {
                Result r = new Result(StatementKind.SET, Operation.UTILITY);
                r.setting = "constraints";
                yield r;
            }
            case "TransactionStmt" -> {
                // COMMIT/ROLLBACK PREPARED finish a transaction any session of the login prepared: its writes were
                // never shown to this session, so they are judged as code the analyser cannot follow (decision 0079).
                String k = text(b, "kind");
                boolean other = "TRANS_STMT_COMMIT_PREPARED".equals(k) || "TRANS_STMT_ROLLBACK_PREPARED".equals(k);
                Result r = new Result(StatementKind.TRANSACTION, other ? Operation.FUNCTION : Operation.UTILITY);
                r.savepoint = TableChanges.savepoint(b);
                yield r;
            }
            // NOTIFY sends its payload to every listening session, as pg_notify does: a function's effect.
            case "NotifyStmt" -> new Result(StatementKind.LISTEN_NOTIFY, Operation.FUNCTION);
            case "ListenStmt", "UnlistenStmt" ->
                    new Result(StatementKind.LISTEN_NOTIFY, Operation.UTILITY);
            case "DoStmt" -> new Result(StatementKind.DO, Operation.FUNCTION);
            case "CallStmt" -> {
                Result r = new Result(StatementKind.CALL, Operation.FUNCTION);
                // CALL's FuncCall comes without its node wrapper.
                expressionsOf(r, List.of(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
                        .set("FuncCall", b.path("funccall"))));
                yield r;
            }
            case "PrepareStmt" -> {
                // PREPARE carries the prepared statement's analysis, so scope is checked once, when it is prepared.
                Result r = statement(b.path("query"));
                r.kind = StatementKind.PREPARE;
                yield r;
            }
            case "ExecuteStmt" -> {
                Result r = new Result(StatementKind.EXECUTE, Operation.UTILITY);
                expressionsOf(r, list(b, "params"));
                r.facts.operations.remove(Operation.SELECT);
                yield r;
            }
            case "DeallocateStmt" -> {
                Result r = new Result(StatementKind.DEALLOCATE, Operation.UTILITY);
                if (text(b, "name") == null) {
                    r.options.put("all", "true");
                }
                yield r;
            }
            case "VacuumStmt" -> SideWrites.maintenance(this, b);
            case "GrantStmt", "GrantRoleStmt" -> new Result(b.path("is_grant").asBoolean(false)
                    ? StatementKind.GRANT : StatementKind.REVOKE, Operation.GRANT);
            case "TruncateStmt" -> {
                Result r = new Result(StatementKind.TRUNCATE, Operation.TRUNCATE);
                r.truncateCascade = "DROP_CASCADE".equals(text(b, "behavior"));
                for (JsonNode rel : list(b, "relations")) {
                    TableRef t = new Lineage(catalog, views, 0).ref(body(rel));
                    r.facts.writes.add(t);
                    if (r.truncateCascade) {
                        r.facts.writes.addAll(catalog.writtenThroughKeys(t, Operation.TRUNCATE));
                    }
                }
                yield r;
            }
            case "LockStmt" -> SideWrites.lock(this, b);
            case "CheckPointStmt", "DiscardStmt" -> new Result(StatementKind.OTHER, Operation.UTILITY);
            // LOAD brings a shared library into the server process: code, not a setting.
            case "LoadStmt" -> new Result(StatementKind.OTHER, Operation.FUNCTION);
            default -> Ddl.read(this, node);
        };
    }

    /** A query or DML statement, its lineage and facts. */
    Result query(JsonNode node) {
        Lineage lineage = new Lineage(catalog, views, 0);
        List<Col> cols = lineage.statement(node);
        boolean into = is(node, "SelectStmt") && body(node).has("intoClause");
        StatementKind kind = into ? StatementKind.DDL : switch (type(node)) {
            case "SelectStmt" -> StatementKind.SELECT;
            case "InsertStmt" -> StatementKind.INSERT;
            case "UpdateStmt" -> StatementKind.UPDATE;
            case "DeleteStmt" -> StatementKind.DELETE;
            case "MergeStmt" -> StatementKind.MERGE;
            default -> StatementKind.OTHER;
        };
        Result r = new Result(kind);
        r.facts.addAll(lineage.facts);
        r.outputs = into ? List.of() : outputs(cols);
        r.unlimited = !r.outputs.isEmpty() && !limited(node);
        if (kind == StatementKind.SELECT && r.facts.operations.contains(Operation.UPDATE)) {
            SideWrites.rowLocks(r);
        }
        return r;
    }

    /** Reads the expressions (CALL's call, EXECUTE's parameters) for what they read and call. */
    private void expressionsOf(Result r, List<JsonNode> expressions) {
        Lineage lineage = new Lineage(catalog, views, 0);
        Expressions e = new Expressions(lineage);
        for (JsonNode x : expressions) {
            e.value(x, null, null);
        }
        r.facts.reads.addAll(lineage.facts.reads);
        r.facts.opaqueFunctions.addAll(lineage.facts.opaqueFunctions);
        r.facts.functions.addAll(lineage.facts.functions);
        r.facts.predicates.addAll(lineage.facts.predicates);
        r.facts.operations.addAll(lineage.facts.operations);
        if (!lineage.facts.reads.isEmpty()) {
            r.facts.operations.add(Operation.SELECT);
        }
    }

    /**
     * True when a query's top level has an effective row limit: LIMIT or FETCH FIRST with a constant. LIMIT ALL and
     * LIMIT NULL are the grammar's null constant: no limit. A parameter ({@code LIMIT $1}) is no limit either: the
     * analysis cannot know the value a Bind or EXECUTE gives it, and NULL means none.
     */
    static boolean limited(JsonNode node) {
        if (!is(node, "SelectStmt")) {
            return false;
        }
        JsonNode limit = body(node).path("limitCount");
        while (is(limit, "TypeCast")) {
            limit = body(limit).path("arg");
        }
        return is(limit, "A_Const") && !body(limit).path("isnull").asBoolean(false);
    }

    static List<OutputColumn> outputs(List<Col> cols) {
        List<OutputColumn> out = new ArrayList<>(cols.size());
        for (Col c : cols) {
            Lin l = c.lin();
            boolean direct = l.direct() && !l.opaque() && l.sources().size() == 1;
            out.add(new OutputColumn(c.name(), Collections.unmodifiableSet(new LinkedHashSet<>(l.sources())), direct,
                    l.opaque()));
        }
        return List.copyOf(out);
    }

    private Result explain(JsonNode b) {
        Result r = new Result(StatementKind.EXPLAIN, Operation.UTILITY);
        options(list(b, "options"), r.options);
        Result inner = statement(b.path("query"));
        r.facts.reads.addAll(inner.facts.reads);
        r.facts.writes.addAll(inner.facts.writes);
        r.facts.opaqueFunctions.addAll(inner.facts.opaqueFunctions);
        r.facts.functions.addAll(inner.facts.functions);
        // The server reads EXPLAIN's options with strcmp on the name and defGetBoolean on the value.
        boolean analyze = r.options.containsKey("analyze") && isTrue(r.options.get("analyze"));
        for (StatementFacts.PredicateUse p : inner.facts.predicates) {
            // What only running can answer (a failure, a NULL, a constraint's verdict) is no channel in a plan
            // that does not run; conditions stay, since the planner's estimates for them come from the data.
            if (analyze || !runtimeOnly(p.clause())) {
                r.facts.predicates.add(p);
            }
        }
        if (analyze) {
            // EXPLAIN ANALYZE runs the statement; its results are discarded but its effects are not.
            r.facts.operations.addAll(inner.facts.operations);
            r.facts.copiesQuery = inner.facts.copiesQuery;
            r.facts.columnWrites.addAll(inner.facts.columnWrites);
            r.facts.unfilteredWrite = inner.facts.unfilteredWrite;
            r.dataRoute = inner.dataRoute;
            r.altersRelation = inner.altersRelation;
        }
        r.outputs = List.of(new OutputColumn("QUERY PLAN", Set.of(), false, false));
        return r;
    }

    private static boolean runtimeOnly(String clause) {
        return clause.startsWith(TotalExpressions.CLAUSE) || clause.equals(Dml.WRITTEN_VALUE)
                || clause.startsWith(Lineage.EXISTENCE_CHECK);
    }

    /**
     * A boolean option as the server's defGetBoolean reads it: no value, or true/on/1 in any case, is true.
     * A value the server would refuse counts as true, so the statement is judged as the one that does more.
     */
    static boolean isTrue(String v) {
        String s = asciiLower(v);
        return !(s.equals("false") || s.equals("off") || s.equals("0"));
    }

    private Result copy(JsonNode b) {
        Result r;
        boolean from = b.path("is_from").asBoolean(false);
        if (b.has("query")) {
            r = query(b.path("query"));
            r.kind = StatementKind.COPY_TO;
            r.facts.operations.add(Operation.COPY);
        } else {
            Lineage lineage = new Lineage(catalog, views, 0);
            JsonNode rel = b.path("relation");
            TableRef table = lineage.ref(rel);
            if (from) {
                // COPY FROM inserts rows: a rule or scope on inserts judges it as one (it ran past insert rules).
                r = new Result(StatementKind.COPY_FROM, Operation.COPY, Operation.INSERT);
                r.facts.writes.add(table);
                List<String> attlist = names(list(b, "attlist"));
                for (String column : attlist.isEmpty()
                        ? catalog.relation(table.schema(), table.table()).map(Relation::columns).orElse(List.of())
                        : attlist) {
                    lineage.writtenRows(table, column); // as many rows as the client sends
                }
                lineage.rowWritten(table);
                r.facts.predicates.addAll(lineage.facts.predicates);
                Expressions e = new Expressions(lineage);
                e.value(b.path("whereClause"), null, null);
                r.facts.functions.addAll(lineage.facts.functions);
                r.facts.opaqueFunctions.addAll(lineage.facts.opaqueFunctions);
            } else {
                r = new Result(StatementKind.COPY_TO, Operation.COPY);
                r.facts.reads.add(table);
                // COPY table TO is the table's rows as they are: the same lineage as SELECT cols FROM table.
                List<Col> cols = lineage.tableRows(rel, names(list(b, "attlist")));
                r.facts.reads.addAll(lineage.facts.reads);
                r.facts.opaqueFunctions.addAll(lineage.facts.opaqueFunctions);
                r.facts.functions.addAll(lineage.facts.functions);
                r.outputs = outputs(cols);
                r.unlimited = true;
            }
        }
        options(list(b, "options"), r.options);
        boolean program = b.path("is_program").asBoolean(false);
        boolean file = text(b, "filename") != null;
        r.copyEndpoint = program ? "PROGRAM" : file ? "FILE" : from ? "STDIN" : "STDOUT";
        if ((program || file) && !from) {
            // TO a server file or PROGRAM: the rows land where no masking applies.
            r.facts.copiesQuery = true;
        }
        if ((program || file) && from) {
            // FROM a server file or PROGRAM reads the server's files or runs a command.
            r.facts.operations.add(Operation.FUNCTION);
        }
        return r;
    }

    /** DefElem options as the grammar read them: the name as written (folded), the value as the server sees it. */
    static void options(List<JsonNode> defElems, Map<String, String> out) {
        for (JsonNode d : defElems) {
            JsonNode e = body(d);
            out.put(text(e, "defname"), optionValue(e.path("arg")));
        }
    }

    private static String optionValue(JsonNode arg) {
        if (arg.isMissingNode() || arg.isEmpty()) {
            return "true";
        }
        JsonNode b = body(arg);
        return switch (type(arg)) {
            case "String" -> b.path("sval").asText("");
            case "Integer" -> String.valueOf(b.path("ival").asLong(0));
            case "Float" -> b.path("fval").asText("0");
            case "Boolean" -> String.valueOf(b.path("boolval").asBoolean(false));
            case "A_Star" -> "*";
            case "List" -> String.join(",", list(b, "items").stream().map(StatementReader::optionValue).toList());
            case "TypeName" -> String.join(".", names(list(b, "names")));
            default -> type(arg);
        };
    }

    private static Result set(JsonNode b) {
        String kind = String.valueOf(text(b, "kind"));
        boolean reset = kind.startsWith("VAR_RESET");
        Result r = reset ? new Result(StatementKind.RESET, Operation.UTILITY)
                : new Result(StatementKind.SET, Operation.UTILITY);
        String name = text(b, "name");
        if (kind.equals("VAR_RESET_ALL")) {
            name = "all";
        } else if ("TRANSACTION".equals(name)) {
            name = "transaction";
        } else if ("SESSION CHARACTERISTICS".equals(name)) {
            name = "default_transaction";
        }
        // The server looks setting names up case-insensitively (ASCII only, as its folding).
        r.setting = asciiLower(name);
        if (b.path("is_local").asBoolean(false)) {
            r.options.put("local", "true");
        }
        switch (kind) {
            case "VAR_SET_VALUE", "VAR_SET_MULTI" -> {
                List<String> values = new ArrayList<>();
                for (JsonNode a : list(b, "args")) {
                    values.add(settingValue(a));
                }
                r.settingValue = values.isEmpty() ? null : String.join(", ", values);
            }
            case "VAR_SET_DEFAULT" -> r.options.put("default", "true");
            case "VAR_SET_CURRENT" -> r.options.put("from_current", "true");
            default -> {
            }
        }
        return r;
    }

    private static String settingValue(JsonNode a) {
        while (is(a, "TypeCast")) {
            a = body(a).path("arg");
        }
        if (is(a, "A_Const")) {
            JsonNode c = body(a);
            if (c.has("sval")) {
                return c.path("sval").path("sval").asText("");
            }
            if (c.has("ival")) {
                return String.valueOf(c.path("ival").path("ival").asLong(0));
            }
            if (c.has("fval")) {
                return c.path("fval").path("fval").asText("0");
            }
            if (c.has("boolval")) {
                return String.valueOf(c.path("boolval").path("boolval").asBoolean(false));
            }
            return null;
        }
        if (is(a, "DefElem")) {
            return text(body(a), "defname") + " " + optionValue(body(a).path("arg"));
        }
        return sval(a);
    }

    /** ASCII-only lower case, as PostgreSQL folds names and compares setting names. */
    static String asciiLower(String s) {
        if (s == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                if (out == null) {
                    out = new StringBuilder(s);
                }
                out.setCharAt(i, (char) (c + ('a' - 'A')));
            }
        }
        return out == null ? s : out.toString();
    }

    Catalog catalog() {
        return catalog;
    }

    Lineage.Views views() {
        return views;
    }
}
