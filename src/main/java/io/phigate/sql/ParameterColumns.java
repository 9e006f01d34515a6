package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which column each bound parameter ({@code $n}) of a statement is compared with or written to, read from the
 * statement's parse tree: {@code col = $1} (and the other comparisons, LIKE, ILIKE), {@code $1 = col},
 * {@code col IN ($1, $2)}, {@code UPDATE ... SET col = $1} and {@code INSERT INTO t (a, b) VALUES ($1, $2)}, each
 * parameter perhaps cast. A parameter used anywhere else, or against two different columns, or against a name
 * that more than one of the statement's relations has, or against a view's column, is unknown (null): the caller
 * must treat its value as PHI.
 */
public final class ParameterColumns {
    /** Marks a parameter already seen against a different column: unknown however often it is seen again. */
    private static final ColumnRef CONFLICT = new ColumnRef("", "", "");
    private static final Set<String> COMPARISONS = Set.of("=", "<>", "!=", "<", ">", "<=", ">=");

    private ParameterColumns() {
    }

    /** Per parameter ($1 first), its column or null when unknown; as long as the highest parameter number. */
    public static List<ColumnRef> of(StatementAnalysis a, Catalog catalog) {
        if (a == null || !a.parsed()) {
            return List.of();
        }
        PgGrammar.Parsed p = PgGrammar.parse(a.text());
        if (!p.ok() || p.statements().size() != 1) {
            return List.of();
        }
        Set<TableRef> relations = new LinkedHashSet<>(a.writes());
        relations.addAll(a.reads());
        Walk w = new Walk(relations, catalog);
        w.node(p.statements().getFirst().tree());
        List<ColumnRef> out = new ArrayList<>(w.out.length);
        for (ColumnRef c : w.out) {
            out.add(c == CONFLICT ? null : c);
        }
        return out;
    }

    /** One pass over the tree: every ParamRef gets the column it meets, or CONFLICT. */
    private static final class Walk {
        final Set<TableRef> relations;
        final Catalog catalog;
        ColumnRef[] out = new ColumnRef[0];
        /** Parameters already paired with a column, which the walk below them must not meet again. */
        final Set<JsonNode> met = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

        Walk(Set<TableRef> relations, Catalog catalog) {
            this.relations = relations;
            this.catalog = catalog;
        }

        void node(JsonNode n) {
            if (n == null || n.isMissingNode()) {
                return;
            }
            if (n.isArray()) {
                n.forEach(this::node);
                return;
            }
            if (!n.isObject()) {
                return;
            }
            if (is(n, "ParamRef")) {
                if (!met.contains(n)) {
                    meet(n, null);
                }
                return;
            }
            if (is(n, "A_Expr") && comparison(body(n))) {
                return;
            }
            if (is(n, "UpdateStmt") || is(n, "InsertStmt")) {
                assignments(n);
            }
            n.elements().forEachRemaining(this::node);
        }

        /** Handles {@code col op $n}, {@code $n op col} and {@code col IN ($1, $2)}; false for anything else. */
        private boolean comparison(JsonNode e) {
            String kind = String.valueOf(text(e, "kind"));
            String op = Tree.last(names(list(e, "name")));
            boolean builtIn = Tree.schemaOf(names(list(e, "name"))) == null;
            boolean compare = (kind.equals("AEXPR_OP") && COMPARISONS.contains(op) && builtIn)
                    || kind.equals("AEXPR_LIKE") || kind.equals("AEXPR_ILIKE");
            JsonNode l = uncast(e.path("lexpr"));
            JsonNode r = uncast(e.path("rexpr"));
            if (compare && is(l, "ColumnRef") && is(r, "ParamRef")) {
                meet(r, column(l));
                return true;
            }
            if (compare && is(r, "ColumnRef") && is(l, "ParamRef")) {
                meet(l, column(r));
                return true;
            }
            if (kind.equals("AEXPR_IN") && is(l, "ColumnRef") && is(e.path("rexpr"), "List")) {
                List<JsonNode> items = list(body(e.path("rexpr")), "items");
                if (items.stream().allMatch(i -> is(uncast(i), "ParamRef"))) {
                    ColumnRef c = column(l);
                    items.forEach(i -> meet(uncast(i), c));
                    return true;
                }
            }
            return false;
        }

        /** UPDATE ... SET col = $n and INSERT ... (cols) VALUES ($n, ...): the target column, when plainly one. */
        private void assignments(JsonNode stmt) {
            JsonNode b = body(stmt);
            Optional<Relation> rel = table(b.path("relation"));
            if (rel.isEmpty()) {
                return;
            }
            if (is(stmt, "UpdateStmt")) {
                for (JsonNode t : list(b, "targetList")) {
                    JsonNode rt = body(t);
                    JsonNode v = uncast(rt.path("val"));
                    if (is(v, "ParamRef") && !rt.has("indirection")) {
                        meet(v, columnOf(rel.get(), text(rt, "name")));
                    }
                }
                return;
            }
            List<String> cols = new ArrayList<>();
            for (JsonNode c : list(b, "cols")) {
                cols.add(body(c).has("indirection") ? null : text(body(c), "name"));
            }
            JsonNode select = body(b.path("selectStmt"));
            for (JsonNode row : list(select, "valuesLists")) {
                List<JsonNode> items = list(body(row), "items");
                for (int i = 0; i < items.size() && i < cols.size(); i++) {
                    JsonNode v = uncast(items.get(i));
                    if (is(v, "ParamRef") && cols.get(i) != null) {
                        meet(v, columnOf(rel.get(), cols.get(i)));
                    }
                }
            }
        }

        private void meet(JsonNode param, ColumnRef c) {
            met.add(param);
            int n = body(param).path("number").asInt(0);
            if (n < 1 || n > 65_535) {
                return;
            }
            if (n > out.length) {
                out = Arrays.copyOf(out, n);
            }
            // Used once where no column is known, or against two columns: unknown, whatever else it meets.
            out[n - 1] = c == null ? CONFLICT : out[n - 1] == null || out[n - 1].equals(c) ? c : CONFLICT;
        }

        /** The one column of the statement's plain tables with this name (and qualifier, when it names one). */
        private ColumnRef column(JsonNode columnRef) {
            List<String> parts = names(list(body(columnRef), "fields"));
            if (parts.contains(null) || parts.size() > 2) {
                return null;
            }
            String name = parts.getLast();
            String qualifier = parts.size() == 2 ? parts.getFirst() : null;
            boolean qualifierIsRelation = qualifier != null
                    && relations.stream().anyMatch(r -> r.table().equals(qualifier));
            ColumnRef found = null;
            for (TableRef r : relations) {
                if (qualifierIsRelation && !r.table().equals(qualifier)) {
                    continue;
                }
                Optional<Relation> rel = catalog.relation(r.schema(), r.table())
                        .filter(x -> x.kind() == Relation.Kind.TABLE);
                if (rel.isPresent() && rel.get().columns().contains(name)) {
                    if (found != null) {
                        return null; // ambiguous
                    }
                    found = new ColumnRef(rel.get().schema(), rel.get().name(), name);
                }
            }
            return found;
        }

        /**
         * Only a plain table's columns are named: a view's column may derive from PHI that the PHI catalog tags on
         * the base table, so a parameter written to it stays unknown.
         */
        private Optional<Relation> table(JsonNode rangeVar) {
            return catalog.relation(text(rangeVar, "schemaname"), text(rangeVar, "relname"))
                    .filter(r -> r.kind() == Relation.Kind.TABLE);
        }

        private static ColumnRef columnOf(Relation r, String column) {
            return column != null && r.columns().contains(column) ? new ColumnRef(r.schema(), r.name(), column) : null;
        }

        private static JsonNode uncast(JsonNode e) {
            while (is(e, "TypeCast")) {
                e = body(e).path("arg");
            }
            return e;
        }
    }
}
