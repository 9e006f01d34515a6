package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.text;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.Lineage.Col;
import io.phigate.sql.Lineage.Lin;
import io.phigate.sql.TableChange.Kind;
import io.phigate.sql.TableChange.Written;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads what a statement does to the session's temporary tables ({@link TableChange}) from its parse tree, with
 * the lineage of every value it puts in them. Only temporary tables are followed: a permanent table may be written
 * by other sessions, so what it holds is not this session's to vouch for (decision 0050). Any form not modelled here
 * comes out {@link Kind#UNKNOWN}, which the session reads as "could hold anything".
 */
final class TableChanges {
    private final Catalog catalog;
    private final Lineage.Views views;

    TableChanges(Catalog catalog, Lineage.Views views) {
        this.catalog = catalog;
        this.views = views;
    }

    /**
     * A TransactionStmt's savepoint (its body {@code b}), for the three kinds that name one; read here beside the
     * transaction ends and ROLLBACK TO, so that the session's savepoint stack needs no second parse of the text.
     */
    static StatementFacts.Savepoint savepoint(JsonNode b) {
        String name = text(b, "savepoint_name");
        if (name == null) {
            return null;
        }
        StatementFacts.Savepoint.Kind kind = switch (String.valueOf(text(b, "kind"))) {
            case "TRANS_STMT_SAVEPOINT" -> StatementFacts.Savepoint.Kind.SET;
            case "TRANS_STMT_ROLLBACK_TO" -> StatementFacts.Savepoint.Kind.ROLLBACK_TO;
            case "TRANS_STMT_RELEASE" -> StatementFacts.Savepoint.Kind.RELEASE;
            default -> null;
        };
        return kind == null ? null : new StatementFacts.Savepoint(kind, name);
    }

    List<TableChange> read(JsonNode node) {
        JsonNode b = body(node);
        List<TableChange> out = new ArrayList<>();
        switch (type(node)) {
            case "CreateStmt" -> create(b, out);
            case "CreateTableAsStmt" -> {
                JsonNode into = b.path("into");
                if (isTemp(into.path("rel")) && "OBJECT_TABLE".equals(text(b, "objtype"))) {
                    boolean skip = b.path("if_not_exists").asBoolean(false) || is(b.path("query"), "ExecuteStmt");
                    filled(into, skip ? null : lineage().statement(b.path("query")), out);
                }
            }
            case "SelectStmt" -> {
                JsonNode into = b.path("intoClause");
                if (isTemp(into.path("rel"))) {
                    filled(into, lineage().statement(node), out);
                }
            }
            case "InsertStmt" -> insert(node, b, out);
            case "UpdateStmt" -> {
                String t = temp(b.path("relation"));
                if (t == null) {
                    unseen(b.path("relation"), out);
                } else {
                    Lineage l = lineage();
                    l.statement(node);
                    out.add(new TableChange(Kind.WRITE, t, null, written(l.facts.updatedValues)));
                }
            }
            case "DeleteStmt" -> {
                String t = temp(b.path("relation"));
                if (t == null) {
                    unseen(b.path("relation"), out);
                } else {
                    out.add(new TableChange(Kind.WRITE, t, null, List.of())); // rows go; no value comes in
                }
            }
            case "MergeStmt" -> {
                String t = temp(b.path("relation"));
                if (t != null) {
                    out.add(TableChange.of(Kind.UNKNOWN, t));
                } else {
                    unseen(b.path("relation"), out);
                }
            }
            case "CopyStmt" -> {
                String t = temp(b.path("relation"));
                if (t == null && b.path("is_from").asBoolean(false)) {
                    unseen(b.path("relation"), out);
                } else if (t != null && b.path("is_from").asBoolean(false)) {
                    // Values from the client (COPY FROM STDIN); the server routes are refused before this matters.
                    boolean client = !b.has("filename") && !b.path("is_program").asBoolean(false);
                    List<Written> cols = new ArrayList<>();
                    for (String c : names(list(b, "attlist"))) {
                        cols.add(client ? Written.clean(c) : new Written(c, java.util.Set.of(), true));
                    }
                    Kind kind = client ? Kind.WRITE : Kind.UNKNOWN;
                    out.add(new TableChange(kind, t, null, cols));
                }
            }
            case "DropStmt" -> {
                if ("OBJECT_TABLE".equals(text(b, "removeType"))) {
                    for (JsonNode o : list(b, "objects")) {
                        List<String> parts = names(list(body(o), "items"));
                        String name = tempName(Tree.schemaOf(parts), Tree.last(parts));
                        if (name != null) {
                            out.add(TableChange.of(Kind.DROP, name));
                        } else {
                            unseen(Tree.schemaOf(parts), Tree.last(parts), out);
                        }
                    }
                }
            }
            case "RenameStmt" -> {
                String t = temp(b.path("relation"));
                if (t == null) {
                    unseen(b.path("relation"), out);
                } else {
                    switch (String.valueOf(text(b, "renameType"))) {
                        case "OBJECT_TABLE" -> out.add(new TableChange(Kind.RENAME_TABLE, t, text(b, "newname"),
                                List.of()));
                        case "OBJECT_COLUMN" -> out.add(new TableChange(Kind.RENAME_COLUMN, t, text(b, "newname"),
                                List.of(Written.clean(text(b, "subname")))));
                        default -> out.add(TableChange.of(Kind.UNKNOWN, t));
                    }
                }
            }
            case "AlterTableStmt" -> alter(b, out);
            case "DiscardStmt" -> {
                String target = text(b, "target");
                if ("DISCARD_ALL".equals(target) || "DISCARD_TEMP".equals(target)) {
                    out.add(TableChange.of(Kind.DISCARD, null));
                }
            }
            case "TransactionStmt" -> {
                switch (String.valueOf(text(b, "kind"))) {
                    case "TRANS_STMT_COMMIT" -> out.add(TableChange.of(Kind.COMMIT, null));
                    case "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE" -> out.add(TableChange.of(Kind.ROLLBACK, null));
                    case "TRANS_STMT_ROLLBACK_TO" -> out.add(TableChange.of(Kind.ROLLBACK_TO_SAVEPOINT, null));
                    default -> {
                    }
                }
            }
            case "ExplainStmt" -> {
                if (analyzes(b)) {
                    out.addAll(read(b.path("query"))); // EXPLAIN ANALYZE runs its statement
                }
            }
            default -> {
            }
        }
        if (b.path("withClause").isObject() && !"CopyStmt".equals(type(node))) {
            modifyingCtes(b.path("withClause"), out);
        }
        if ("CopyStmt".equals(type(node)) && b.path("query").isObject()) {
            out.addAll(read(b.path("query"))); // COPY (INSERT ... RETURNING) TO STDOUT runs its statement
        }
        return out;
    }

    /**
     * A data-modifying statement in WITH (INSERT, UPDATE, DELETE or MERGE of a temporary table) changes it as a
     * statement of its own would; before decision 0054 such writes went unseen, and the copy rule counted the
     * statement a followed temporary-only write.
     */
    private void modifyingCtes(JsonNode with, List<TableChange> out) {
        for (JsonNode cte : list(with, "ctes")) {
            JsonNode query = body(cte).path("ctequery");
            switch (type(query)) {
                case "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt" -> out.addAll(read(query));
                default -> {
                }
            }
        }
    }

    /** EXPLAIN with an ANALYZE option, whatever its value: counting one that does not run is only stricter. */
    private static boolean analyzes(JsonNode explain) {
        for (JsonNode o : list(explain, "options")) {
            if ("analyze".equals(text(body(o), "defname"))) {
                return true;
            }
        }
        return false;
    }

    private Lineage lineage() {
        return new Lineage(catalog, views, 0);
    }

    /** CREATE TEMP TABLE with columns of its own; defaults and generated columns count as what they compute. */
    private void create(JsonNode b, List<TableChange> out) {
        JsonNode rel = b.path("relation");
        if (!isTemp(rel)) {
            return;
        }
        String name = text(rel, "relname");
        if (b.path("if_not_exists").asBoolean(false) || b.has("inhRelations") || b.has("partbound")
                || b.has("partspec") || b.has("ofTypename")) {
            // Maybe not created at all, or shaped by (and sharing rows with) another relation.
            out.add(TableChange.of(Kind.UNKNOWN, name));
            return;
        }
        List<Written> cols = new ArrayList<>();
        for (JsonNode e : list(b, "tableElts")) {
            if (is(e, "ColumnDef")) {
                cols.add(column(body(e)));
            } else if (!is(e, "Constraint")) {
                out.add(TableChange.of(Kind.UNKNOWN, name)); // LIKE: columns the gateway would have to copy
                return;
            }
        }
        out.add(new TableChange(createKind(text(b, "oncommit")), name, null, cols));
    }

    private static Kind createKind(String onCommit) {
        return "ONCOMMIT_DROP".equals(onCommit) ? Kind.CREATE_DROPPED_AT_COMMIT : Kind.CREATE;
    }

    /** A column definition: what its DEFAULT or GENERATED expression computes is what a row may get. */
    private Written column(JsonNode def) {
        String name = text(def, "colname");
        Lin lin = Lin.NONE;
        for (JsonNode c : list(def, "constraints")) {
            JsonNode expr = body(c).path("raw_expr");
            if (!expr.isMissingNode()) {
                // No FROM item is in scope, so a column named here (a generated column's inputs) comes out opaque.
                lin = Lin.union(List.of(lin, lineage().expressions.value(expr, new Lineage.Scope(null, null), null)));
            }
        }
        return new Written(name, lin.sources(), lin.opaque());
    }

    /** CREATE TEMP TABLE AS and SELECT INTO TEMP: the query's columns, renamed by the column list if any. */
    private void filled(JsonNode into, List<Col> query, List<TableChange> out) {
        String name = text(into.path("rel"), "relname");
        if (query == null) {
            out.add(TableChange.of(Kind.UNKNOWN, name));
            return;
        }
        List<String> names = names(list(into, "colNames"));
        List<Written> cols = new ArrayList<>();
        for (int i = 0; i < query.size(); i++) {
            Col c = query.get(i);
            cols.add(new Written(i < names.size() ? names.get(i) : c.name(), c.lin().sources(), c.lin().opaque()));
        }
        out.add(new TableChange(createKind(text(into, "onCommit")), name, null, cols));
    }

    /**
     * INSERT into a temporary table: the i-th value goes into the i-th named column, or the table's i-th column.
     * ON CONFLICT DO UPDATE adds what its SET writes.
     */
    private void insert(JsonNode node, JsonNode b, List<TableChange> out) {
        String t = temp(b.path("relation"));
        if (t == null) {
            unseen(b.path("relation"), out);
            return;
        }
        Lineage l = lineage();
        List<String> targets = new ArrayList<>();
        for (JsonNode c : list(b, "cols")) {
            targets.add(text(body(c), "name"));
        }
        if (targets.isEmpty()) {
            targets.addAll(catalog.relation("pg_temp", t).map(Relation::columns).orElse(List.of()));
        }
        List<Written> cols = new ArrayList<>();
        JsonNode src = b.path("selectStmt");
        if (!src.isMissingNode()) {
            Lineage.Ctes ctes = l.withClause(b.path("withClause"), null, null);
            List<Col> values = l.select(body(src), null, ctes);
            for (int i = 0; i < values.size(); i++) {
                Lin lin = values.get(i).lin();
                if (i >= targets.size()) {
                    out.add(TableChange.of(Kind.UNKNOWN, t)); // more values than columns: the server refuses it
                    return;
                }
                cols.add(new Written(targets.get(i), lin.sources(), lin.opaque()));
            }
        }
        if (b.has("onConflictClause")) {
            Lineage whole = lineage();
            whole.statement(node);
            cols.addAll(written(whole.facts.updatedValues));
        }
        out.add(new TableChange(Kind.WRITE, t, null, cols));
    }

    /** ALTER TABLE of a temporary table: ADD COLUMN is followed; every other form leaves it unknown. */
    private void alter(JsonNode b, List<TableChange> out) {
        String t = temp(b.path("relation"));
        if (t == null) {
            unseen(b.path("relation"), out);
            return;
        }
        List<Written> added = new ArrayList<>();
        for (JsonNode cmd : list(b, "cmds")) {
            JsonNode c = body(cmd);
            if ("AT_AddColumn".equals(text(c, "subtype")) && is(c.path("def"), "ColumnDef")) {
                added.add(column(body(c.path("def"))));
            } else {
                out.add(TableChange.of(Kind.UNKNOWN, t));
                return;
            }
        }
        out.add(new TableChange(Kind.WRITE, t, null, added));
    }

    private static List<Written> written(Map<String, Lin> values) {
        List<Written> out = new ArrayList<>();
        values.forEach((column, lin) -> out.add(new Written(column, lin.sources(), lin.opaque())));
        return out;
    }

    /** True for a RangeVar that creates a temporary table: TEMP/TEMPORARY, or qualified with pg_temp. */
    private static boolean isTemp(JsonNode rangeVar) {
        return rangeVar.isObject() && ("t".equals(text(rangeVar, "relpersistence"))
                || "pg_temp".equals(text(rangeVar, "schemaname")));
    }

    /**
     * A name the statement writes, alters or drops that could be a temporary table but was not one when it was
     * analysed: the change is recorded so that, if it is one when the statement completes, it becomes unknown.
     */
    private static void unseen(String schema, String name, List<TableChange> out) {
        if (name != null && (schema == null || schema.equals(SessionTables.SCHEMA))) {
            out.add(TableChange.of(Kind.TOUCHED_UNSEEN, name));
        }
    }

    private static void unseen(JsonNode rangeVar, List<TableChange> out) {
        if (rangeVar.isObject()) {
            unseen(text(rangeVar, "schemaname"), text(rangeVar, "relname"), out);
        }
    }

    /** The temporary table a RangeVar names, as the session resolves it; null for any other relation. */
    private String temp(JsonNode rangeVar) {
        return rangeVar.isObject() ? tempName(text(rangeVar, "schemaname"), text(rangeVar, "relname")) : null;
    }

    private String tempName(String schema, String name) {
        return name != null && catalog instanceof SessionTables.View v ? v.temporary(schema, name) : null;
    }
}
