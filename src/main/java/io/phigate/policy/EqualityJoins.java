package io.phigate.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.mask.PhiType;
import io.phigate.sql.Catalog;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.Relation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The masked columns a statement compares only with each other by equality ({@code a.mrn = b.mrn}), so that a role
 * granted a lookup of their type may join on them (issue 19: token = token). Such a join tells which hidden values
 * are equal, which their deterministic tokens show anyway; compared with anything else (generated values, a
 * substring) a column would be read back by guessing, so every other use of a column of that name in any WHERE or
 * JOIN condition of the statement withdraws it: a query's, and a write's too (UPDATE and DELETE's WHERE, ON CONFLICT's
 * WHERE, MERGE's ON and WHEN, the joins of UPDATE ... FROM and DELETE ... USING), which the analysis names WHERE and
 * JOIN alike (an attacker's read for decision 0094 put {@code UPDATE ... WHERE ssn LIKE '1%'} in a CTE beside a join
 * of masked keys). Read from the parse tree: both sides must be {@code alias.column}
 * of base tables in the same query's FROM, tagged with the same PHI type. Anything less certain is not a join here,
 * and the predicate rule refuses it.
 */
final class EqualityJoins {

    private EqualityJoins() {
    }

    /** The columns compared only by equality, with each other or with a constant or parameter; else empty. */
    static Set<ColumnRef> of(StatementTree tree, Catalog catalog, Function<ColumnRef, PhiType> masked,
                             Set<PhiType> lookups) {
        Set<ColumnRef> joined = new HashSet<>();
        Set<JsonNode> accepted = Collections.newSetFromMap(new IdentityHashMap<>());
        List<JsonNode> conditions = new ArrayList<>();
        for (JsonNode select : tree.nodes("SelectStmt")) {
            Map<String, Relation> from = new HashMap<>();
            List<JsonNode> roots = new ArrayList<>();
            roots.add(select.path("whereClause"));
            select.path("fromClause").forEach(item -> scope(item, catalog, from, roots));
            for (JsonNode root : roots) {
                conditions.add(root);
                for (JsonNode c : conjuncts(root, new ArrayList<>())) {
                    JsonNode e = c.path("A_Expr");
                    if (!"AEXPR_OP".equals(e.path("kind").asText()) || !isEquals(e.path("name"))) {
                        continue;
                    }
                    JsonNode l = column(e.path("lexpr"));
                    JsonNode r = column(e.path("rexpr"));
                    ColumnRef left = resolve(l, from);
                    ColumnRef right = resolve(r, from);
                    PhiType lt = left == null ? null : masked.apply(left);
                    PhiType rt = right == null ? null : masked.apply(right);
                    if (lt != null && lt == rt && lookups.contains(lt)) {
                        joined.add(left);
                        joined.add(right);
                        accepted.add(l);
                        accepted.add(r);
                    } else if (lt != null && lookups.contains(lt) && isValue(e.path("rexpr"))) {
                        accepted.add(l); // a lookup by a constant: one bit, and the predicate rule's to judge
                    } else if (rt != null && lookups.contains(rt) && isValue(e.path("lexpr"))) {
                        accepted.add(r);
                    }
                }
            }
        }
        if (joined.isEmpty()) {
            return Set.of();
        }
        conditions.addAll(writeConditions(tree));
        Set<String> withdrawn = new HashSet<>();
        for (JsonNode root : conditions) {
            for (JsonNode ref : StatementTree.nodesIn(root, "ColumnRef")) {
                if (!accepted.contains(ref)) {
                    withdrawn.add(lastField(ref));
                }
            }
        }
        joined.removeIf(c -> withdrawn.contains(c.column()));
        return joined;
    }

    /** The conditions outside a query's WHERE and FROM: a write's, and every join's wherever it is. */
    private static List<JsonNode> writeConditions(StatementTree tree) {
        List<JsonNode> out = new ArrayList<>();
        tree.nodes("JoinExpr").forEach(j -> out.add(j.path("quals")));
        tree.nodes("UpdateStmt").forEach(u -> out.add(u.path("whereClause")));
        tree.nodes("DeleteStmt").forEach(d -> out.add(d.path("whereClause")));
        tree.nodes("InsertStmt").forEach(i -> out.add(i.path("onConflictClause").path("whereClause")));
        tree.nodes("MergeStmt").forEach(m -> out.add(m.path("joinCondition")));
        tree.nodes("MergeWhenClause").forEach(w -> out.add(w.path("condition")));
        return out;
    }

    /** Adds a FROM item's base tables by the name the query refers to them by, and its join conditions. */
    private static void scope(JsonNode item, Catalog catalog, Map<String, Relation> from, List<JsonNode> roots) {
        JsonNode rv = item.get("RangeVar");
        if (rv != null) {
            String schema = rv.has("schemaname") ? rv.path("schemaname").asText() : null;
            String name = rv.path("relname").asText();
            String alias = rv.path("alias").path("aliasname").asText(name);
            catalog.relation(schema, name).ifPresent(r -> from.put(alias, r));
            return;
        }
        JsonNode join = item.get("JoinExpr");
        if (join != null) {
            scope(join.path("larg"), catalog, from, roots);
            scope(join.path("rarg"), catalog, from, roots);
            roots.add(join.path("quals"));
        }
    }

    private static List<JsonNode> conjuncts(JsonNode e, List<JsonNode> out) {
        JsonNode b = e.path("BoolExpr");
        if ("AND_EXPR".equals(b.path("boolop").asText())) {
            b.path("args").forEach(a -> conjuncts(a, out));
        } else if (!e.isMissingNode()) {
            out.add(e);
        }
        return out;
    }

    private static boolean isValue(JsonNode e) {
        return StatementTree.isConstant(e) || StatementTree.isParameter(e);
    }

    private static boolean isEquals(JsonNode name) {
        List<String> parts = new ArrayList<>();
        name.forEach(p -> parts.add(p.path("String").path("sval").asText()));
        return parts.equals(List.of("=")) || parts.equals(List.of("pg_catalog", "="));
    }

    /** The ColumnRef node of a column reference, through casts; null for anything else. */
    private static JsonNode column(JsonNode e) {
        JsonNode cast = e.get("TypeCast");
        if (cast != null) {
            return column(cast.path("arg"));
        }
        return e.has("ColumnRef") ? e : null;
    }

    /** {@code alias.column} of a base table in {@code from}; null for any other form. */
    private static ColumnRef resolve(JsonNode ref, Map<String, Relation> from) {
        if (ref == null) {
            return null;
        }
        JsonNode fields = ref.path("ColumnRef").path("fields");
        if (fields.size() != 2 || !fields.get(1).has("String")) {
            return null;
        }
        Relation r = from.get(fields.get(0).path("String").path("sval").asText());
        String column = fields.get(1).path("String").path("sval").asText();
        return r == null || !r.columns().contains(column) ? null : new ColumnRef(r.schema(), r.name(), column);
    }

    private static String lastField(JsonNode ref) {
        JsonNode fields = ref.path("ColumnRef").path("fields");
        return fields.isEmpty() ? "" : fields.get(fields.size() - 1).path("String").path("sval").asText("*");
    }
}
