package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.Lineage.Col;
import io.phigate.sql.Lineage.Ctes;
import io.phigate.sql.Lineage.Lin;
import io.phigate.sql.Lineage.Scope;
import io.phigate.sql.Lineage.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * INSERT, UPDATE, DELETE and MERGE for {@link Lineage}: the relation written, what the statement reads to write it,
 * where each SET value comes from, whether an UPDATE or DELETE is unfiltered, and what RETURNING hands back.
 */
final class Dml {
    /**
     * The clause a value written into a table steers in: the target's NOT NULL, CHECK and domain constraints test
     * it, so whether the write fails answers a question about a value computed from a masked column (decision 0035).
     */
    static final String WRITTEN_VALUE = "a value written, which the target's constraints check";

    private final Lineage l;

    Dml(Lineage lineage) {
        this.l = lineage;
    }

    private Source target(Scope sc, JsonNode relation) {
        TableRef ref = l.ref(relation);
        l.facts.writes.add(ref);
        boolean hadTarget = l.facts.reads.contains(ref);
        l.target(sc, relation);
        if (!hadTarget) {
            // A DML target is written; it counts as read only when the statement hands its rows back.
            l.facts.reads.remove(ref);
        }
        return sc.sources.getLast();
    }

    List<Col> insert(JsonNode ins, Scope outer, Ctes outerCtes) {
        l.facts.operations.add(Operation.INSERT);
        int readsBefore = l.facts.reads.size();
        Ctes ctes = l.withClause(ins.path("withClause"), outer, outerCtes);
        Scope targetScope = new Scope(outer, ctes);
        Source t = target(targetScope, ins.path("relation"));
        TableRef ref = l.ref(ins.path("relation"));
        JsonNode src = ins.path("selectStmt");
        if (!src.isMissingNode()) {
            writtenColumns(list(ins, "cols"), t, ref, countedRows(body(src)));
            l.rowWritten(ref);
        }
        if (!src.isMissingNode()) {
            JsonNode s = body(src);
            for (Col c : l.select(s, outer, ctes)) {
                l.predicate(c.lin(), WRITTEN_VALUE, false);
            }
            boolean plainValues = s.has("valuesLists") && !s.has("withClause");
            if (!plainValues || l.facts.reads.size() > readsBefore) {
                // INSERT ... SELECT stores a query's result in a table the masking rules may not cover.
                l.facts.copiesQuery = true;
            }
        }
        if (l.facts.reads.size() > readsBefore) {
            l.facts.operations.add(Operation.SELECT);
        }
        JsonNode conflict = ins.path("onConflictClause");
        if ("ONCONFLICT_UPDATE".equals(text(conflict, "action"))) {
            l.facts.operations.add(Operation.UPDATE);
            l.facts.unfilteredWrite |= !conflict.has("whereClause") && unfilteredQuery(src);
            // EXCLUDED is the row proposed for insertion, shaped like the target.
            targetScope.sources.add(new Source("excluded", null, "excluded", true, t.columns(), false, false));
            boolean setReads = updateSets(list(conflict, "targetList"), targetScope, ref);
            l.where(conflict.path("whereClause"), targetScope, "WHERE");
            List<Col> out = returning(ins, targetScope, ref);
            // DO UPDATE ... RETURNING hands back rows stored before, as UPDATE does; its WHERE and SET read them
            readsAreSelects(readsBefore, setReads || conflict.has("whereClause"), ref);
            return out;
        }
        return returning(ins, targetScope, ref); // a plain INSERT hands back the rows it made
    }

    /**
     * An UPDATE or DELETE that reads (FROM, USING, a subquery, RETURNING's rows, through a parent its children's
     * too) is a select to the risk rules, as INSERT ... SELECT and MERGE are: the server needs SELECT on what it
     * reads, and the rows read reach the client (RETURNING, row counts) or the table written (an attacker's review
     * of decision 0088). So is one with a WHERE: the server needs SELECT on the columns its condition reads, and the
     * row count answers the condition, so a rule on selects of a child is not passed by {@code UPDATE parent SET id =
     * id WHERE v LIKE 'k%'} (counted even where the condition reads no column: stricter, never looser). So is a SET
     * value computed from a column of the rows written: an error or the target's constraints answer it, as in
     * {@code UPDATE parent SET id = CASE WHEN v LIKE 'k%' THEN 1/0 ELSE id END}; a column set to its own value
     * ({@code SET v = v}, {@code SET v = excluded.v}) reads nothing the client can learn.
     */
    private void readsAreSelects(int readsBefore, boolean conditioned, TableRef target) {
        if (conditioned || l.facts.reads.size() > readsBefore) {
            l.facts.operations.add(Operation.SELECT);
        }
        if (conditioned) {
            l.facts.targetReads.add(target); // the scope asks select on it, as the server asks SELECT
        }
    }

    List<Col> update(JsonNode u, Scope outer, Ctes outerCtes) {
        l.facts.operations.add(Operation.UPDATE);
        int readsBefore = l.facts.reads.size();
        l.facts.unfilteredWrite |= !u.has("whereClause");
        Ctes ctes = l.withClause(u.path("withClause"), outer, outerCtes);
        Scope sc = new Scope(outer, ctes);
        target(sc, u.path("relation"));
        for (JsonNode f : list(u, "fromClause")) {
            l.from(sc, f);
        }
        TableRef ref = l.ref(u.path("relation"));
        l.rowWritten(ref);
        boolean setReads = updateSets(list(u, "targetList"), sc, ref);
        l.where(u.path("whereClause"), sc, "WHERE");
        List<Col> out = returning(u, sc, ref);
        readsAreSelects(readsBefore, setReads || u.has("whereClause"), ref);
        return out;
    }

    List<Col> delete(JsonNode d, Scope outer, Ctes outerCtes) {
        l.facts.operations.add(Operation.DELETE);
        int readsBefore = l.facts.reads.size();
        l.facts.unfilteredWrite |= !d.has("whereClause");
        Ctes ctes = l.withClause(d.path("withClause"), outer, outerCtes);
        Scope sc = new Scope(outer, ctes);
        target(sc, d.path("relation"));
        for (JsonNode f : list(d, "usingClause")) {
            l.from(sc, f);
        }
        l.where(d.path("whereClause"), sc, "WHERE");
        TableRef ref = l.ref(d.path("relation"));
        List<Col> out = returning(d, sc, ref);
        readsAreSelects(readsBefore, d.has("whereClause"), ref);
        return out;
    }

    List<Col> merge(JsonNode m, Scope outer, Ctes outerCtes) {
        l.facts.operations.add(Operation.SELECT);
        Ctes ctes = l.withClause(m.path("withClause"), outer, outerCtes);
        Scope sc = new Scope(outer, ctes);
        Source t = target(sc, m.path("relation"));
        TableRef ref = l.ref(m.path("relation"));
        l.rowWritten(ref);
        l.facts.targetReads.add(ref); // its ON and WHEN conditions read the target's rows: the server asks SELECT
        l.from(sc, m.path("sourceRelation"));
        l.expressions.value(m.path("joinCondition"), sc, "JOIN");
        for (JsonNode w : list(m, "mergeWhenClauses")) {
            JsonNode c = body(w);
            l.expressions.value(c.path("condition"), sc, "WHEN");
            switch (String.valueOf(text(c, "commandType"))) {
                case "CMD_INSERT" -> {
                    l.facts.operations.add(Operation.INSERT);
                    writtenColumns(list(c, "targetList"), t, ref, null); // a row per source row
                    l.facts.copiesQuery = true;
                    for (JsonNode v : list(c, "values")) {
                        l.predicate(l.expressions.value(v, sc, null), WRITTEN_VALUE, false);
                    }
                }
                case "CMD_UPDATE" -> {
                    l.facts.operations.add(Operation.UPDATE);
                    l.facts.unfilteredWrite |= unconditional(c);
                    updateSets(list(c, "targetList"), sc, ref);
                }
                case "CMD_DELETE" -> {
                    l.facts.operations.add(Operation.DELETE);
                    l.facts.unfilteredWrite |= unconditional(c);
                }
                default -> {
                }
            }
        }
        return List.of();
    }

    /**
     * Each SET target with the lineage of its new value, so that masking can refuse an UPDATE that moves a PHI value
     * into a column tagged for something else, or for nothing, in the same table: {@code SET state = ssn} would
     * make the next {@code SELECT state} return the SSN as stored. {@code SET (a, b) = (SELECT ...)} gives every
     * target the union of the subquery's values.
     */
    private boolean updateSets(List<JsonNode> targets, Scope sc, TableRef target) {
        boolean reads = false;
        for (JsonNode t : targets) {
            JsonNode rt = body(t);
            JsonNode val = rt.path("val");
            Lin lin;
            if (is(val, "MultiAssignRef")) {
                JsonNode source = body(val).path("source");
                int colno = body(val).path("colno").asInt(1);
                List<JsonNode> args = is(source, "RowExpr") ? list(body(source), "args") : List.of();
                lin = colno >= 1 && colno <= args.size() ? l.expressions.value(args.get(colno - 1), sc, null)
                        : l.expressions.value(source, sc, null);
            } else {
                lin = l.expressions.value(val, sc, null);
            }
            for (JsonNode ind : list(rt, "indirection")) {
                Lin subscript = l.expressions.value(ind, sc, null); // SET a[v] = ...: the subscript reads v
                reads |= subscript.opaque() || !subscript.sources().isEmpty();
            }
            ColumnRef to = new ColumnRef(target.schema(), target.table(), text(rt, "name"));
            if (lin.direct() && lin.sources().equals(Set.of(to))) {
                // SET k = k keeps the row's own value, SET k = excluded.k the one the INSERT already counted.
                l.writtenAgain(target, text(rt, "name"));
            } else if (Expressions.isConstant(val)) {
                l.written(target, text(rt, "name"), t); // one value, whatever rows it is written in
            } else {
                l.writtenRows(target, text(rt, "name")); // each row may be set a value of its own
            }
            if (!(lin.direct() && lin.sources().equals(Set.of(to)))) {
                // Not the column's own value: the target's NOT NULL, CHECK and domain constraints test it.
                l.predicate(lin, WRITTEN_VALUE, false);
                reads |= lin.opaque() || !lin.sources().isEmpty();
            }
            l.facts.columnWrites.add(new StatementAnalysis.ColumnWrite(to, Set.copyOf(lin.sources())));
            l.facts.updatedValues.merge(to.column(), lin, (a, b) -> Lin.union(List.of(a, b)));
        }
        return reads;
    }

    /**
     * A WHEN MATCHED action with no condition of its own writes every row the join matches, and the join (ON true)
     * is no WHERE: the risk rules judge it as an UPDATE or DELETE without one.
     */
    private static boolean unconditional(JsonNode whenClause) {
        return whenClause.path("condition").isMissingNode();
    }

    /**
     * Rows to insert that a query without a WHERE of its own chooses (not a VALUES list the text bounds). Under
     * {@code ON CONFLICT ... DO UPDATE} without a WHERE they update every row they meet: {@code INSERT INTO t SELECT *
     * FROM t ON CONFLICT (id) DO UPDATE SET v = 'x'} rewrites the whole table as {@code UPDATE t SET v = 'x'} does,
     * and is a write without a WHERE to the risk rules, as an unconditional WHEN MATCHED of MERGE is (an attacker's
     * review of decision 0099).
     */
    private static boolean unfilteredQuery(JsonNode src) {
        JsonNode s = body(src);
        return !src.isMissingNode() && !s.has("valuesLists") && !s.has("whereClause");
    }

    /**
     * An INSERT's target columns ({@code cols}, or every column of the table when none is named) as written, once
     * per row of {@code rows}; null when the rows cannot be counted.
     */
    private void writtenColumns(List<JsonNode> cols, Source table, TableRef ref, List<JsonNode> rows) {
        List<String> names = new ArrayList<>();
        if (cols.isEmpty() && table.columns() != null) {
            // A relation the catalog does not know has no columns to name here: its writes are judged as unknown.
            table.columns().forEach(c -> names.add(c.name()));
        }
        cols.forEach(c -> names.add(text(body(c), "name")));
        for (int i = 0; i < names.size(); i++) {
            if (rows == null) {
                l.writtenRows(ref, names.get(i));
                continue;
            }
            for (JsonNode row : rows) {
                // Each value is its own site: two columns checked against one key (two foreign keys to
                // patients.mrn) test two guesses in one row, the failing constraint's name saying which. A column
                // past the row's values takes its default, which no one chose: the row is its site.
                List<JsonNode> items = list(body(row), "items");
                l.written(ref, names.get(i), i < items.size() ? items.get(i) : row);
            }
        }
    }

    /** The rows of an INSERT's plain VALUES list, each written once; null for a query whose rows are not counted. */
    private static List<JsonNode> countedRows(JsonNode select) {
        boolean plain = select.has("valuesLists") && !select.has("withClause") && !select.has("sortClause")
                && !select.has("limitCount") && !select.has("limitOffset");
        return plain ? list(select, "valuesLists") : null;
    }

    private List<Col> returning(JsonNode stmt, Scope sc, TableRef target) {
        List<JsonNode> items = list(stmt, "returningList");
        if (items.isEmpty()) {
            return List.of();
        }
        l.facts.reads.add(target);
        List<Col> out = new ArrayList<>();
        for (JsonNode item : items) {
            l.resultColumn(body(item), sc, out);
        }
        return out;
    }
}
