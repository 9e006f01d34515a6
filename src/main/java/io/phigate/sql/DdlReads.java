package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.text;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.StatementFacts.PredicateUse;
import io.phigate.sql.StatementReader.Result;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The values DDL makes the server read or test, out of the statement's queries: a foreign key tests every value
 * later written to its table against the referenced columns (an insert of a guess answers whether it exists, and
 * the catalog read at the session's start does not know the key yet); an index, extended statistics or CLUSTER
 * evaluates its columns and expressions over every row (a unique violation says a value repeats, an expression's
 * error says a row matched, a clustered table's rows come back in the column's order); ATTACH PARTITION and
 * INHERIT scan or join another table's rows; ALTER DOMAIN tests every stored value of the domain, and ALTER TYPE ...
 * CASCADE rewrites the tables a composite types (decision 0074). Each is recorded as the reads and predicates of a query would be,
 * so the scope and masking rules judge it like one (decision 0069): a referenced table is read, a masked column
 * under a key or an index is a predicate no lookup grant covers, a table attached or inherited from is written.
 */
final class DdlReads {
    /** The clause a referenced column's predicate names. */
    static final String REFERENCED = StatementFacts.FOREIGN_KEY;
    /** The clause an indexed, clustered or sampled column's predicate names. */
    static final String INDEXED = "an index, statistics or CLUSTER, which evaluate it over every row (a unique"
            + " violation, an expression's error, the table's row order)";

    /** The clause a column of an altered domain's type names. */
    static final String DOMAIN = "ALTER DOMAIN, which tests the domain's constraint against every value of the column";
    /** The clause a typed table's column converted by ALTER TYPE ... ALTER ATTRIBUTE ... TYPE names. */
    static final String CONVERTED = "ALTER TYPE ... ALTER ATTRIBUTE ... TYPE, which converts every value of the"
            + " typed table's column (a domain's CHECK, a length limit)";

    /** ALTER TYPE and ALTER DOMAIN's object types: a rename or SET SCHEMA of one moves the name rules know it by. */
    private static final Set<String> NAMED_TYPES = Set.of("OBJECT_TYPE", "OBJECT_DOMAIN");

    private DdlReads() {
    }

    /** Adds what {@code node}, a DDL statement, makes the server read to {@code r}. */
    static void read(Result r, Lineage names, Catalog catalog, JsonNode node) {
        JsonNode b = body(node);
        dropsDependents(r, node);
        switch (type(node)) {
            case "IndexStmt" -> {
                TableRef table = names.ref(b.path("relation"));
                List<JsonNode> expressions = new ArrayList<>();
                for (JsonNode p : list(b, "indexParams")) {
                    JsonNode elem = body(p);
                    if (text(elem, "name") != null) {
                        indexed(r, catalog, table, text(elem, "name"));
                    }
                    expressions.add(elem.path("expr"));
                }
                expressions.add(b.path("whereClause"));
                // INCLUDE columns are stored in the index, not compared: an index-only scan returns them in the
                // key's order, which the key's columns already account for.
                columnsOf(r, catalog, table, expressions);
            }
            case "CreateStatsStmt" -> {
                for (JsonNode rel : list(b, "relations")) {
                    if (type(rel).equals("RangeVar")) {
                        TableRef table = names.ref(body(rel));
                        r.facts.writes.add(table);
                        List<JsonNode> expressions = new ArrayList<>();
                        for (JsonNode e : list(b, "exprs")) {
                            JsonNode elem = body(e);
                            if (text(elem, "name") != null) {
                                indexed(r, catalog, table, text(elem, "name"));
                            }
                            expressions.add(elem.path("expr"));
                        }
                        columnsOf(r, catalog, table, expressions);
                    }
                }
            }
            case "ClusterStmt" -> {
                // The statement names the index, not its columns: every column may be the order the rows take.
                if (b.path("relation").has("relname")) {
                    TableRef table = names.ref(b.path("relation"));
                    r.facts.writes.add(table);
                    everyColumn(r, catalog, table);
                }
            }
            case "AlterDomainStmt" -> domainTested(r, catalog, b);
            case "AlterEnumStmt" -> enumRenamed(r, catalog, b);
            case "RenameStmt" -> {
                if ("OBJECT_TYPE".equals(text(b, "relationType"))) {
                    typedTables(r, catalog, b.path("relation"), null);
                }
                if (NAMED_TYPES.contains(String.valueOf(text(b, "renameType")))) {
                    typeRenamed(r, catalog, b.path("object"));
                }
            }
            case "AlterObjectSchemaStmt" -> {
                if (NAMED_TYPES.contains(String.valueOf(text(b, "objectType")))) {
                    typeRenamed(r, catalog, b.path("object"));
                }
            }
            case "AlterTableStmt" -> {
                if ("OBJECT_TYPE".equals(text(b, "objtype"))) {
                    for (JsonNode cmd : list(b, "cmds")) {
                        JsonNode c = body(cmd);
                        typedTables(r, catalog, b.path("relation"),
                                "AT_AlterColumnType".equals(text(c, "subtype")) ? text(c, "name") : null);
                    }
                }
                for (JsonNode cmd : list(b, "cmds")) {
                    JsonNode c = body(cmd);
                    JsonNode def = c.path("def");
                    switch (String.valueOf(text(c, "subtype"))) {
                        // The attached (or detached) partition's rows are scanned against the bound, and join the
                        // parent's: a write of that table as much as of the parent.
                        case "AT_AttachPartition" -> {
                            r.facts.writes.add(names.ref(body(def).path("name")));
                            parentsKeys(r, catalog, names.ref(b.path("relation")));
                        }
                        case "AT_DetachPartition", "AT_DetachPartitionFinalize" ->
                                r.facts.writes.add(names.ref(body(def).path("name")));
                        case "AT_AddInherit", "AT_DropInherit" -> r.facts.writes.add(names.ref(body(def)));
                        default -> {
                        }
                    }
                }
            }
            // A child or partition joins its parent's rows (and a partition bound is tested against the default
            // partition's): the parent is written too.
            case "CreateStmt" -> {
                for (JsonNode parent : list(b, "inhRelations")) {
                    r.facts.writes.add(names.ref(body(parent)));
                    if (b.has("partbound")) {
                        parentsKeys(r, catalog, names.ref(body(parent)));
                    }
                }
            }
            default -> {
            }
        }
        throughViews(r, names, catalog);
        Tree.forEachObject(b, (key, value) -> {
            if (key.equals("Constraint") && "CONSTR_FOREIGN".equals(text(value, "contype"))
                    && value.path("pktable").has("relname")) {
                referenced(r, names, catalog, value);
            }
        });
    }

    /**
     * What a statement drops or hands over beyond what it names, in tables the catalog cannot list: any CASCADE the
     * grammar reads as a DropBehavior, wherever it stands in the tree (DROP of any object kind, ALTER TABLE ... DROP
     * COLUMN or DROP CONSTRAINT, ALTER DOMAIN ... DROP CONSTRAINT, ALTER TYPE ... DROP ATTRIBUTE ... CASCADE) drops
     * whatever depends on it, anywhere (DROP DOMAIN d CASCADE every column of d, DROP TYPE comp CASCADE every table typed
     * by it, DROP FUNCTION f CASCADE the defaults, constraints, indexes and triggers calling f, a dropped column,
     * constraint or table the views over it and other tables' foreign keys, DROP SCHEMA or EXTENSION everything in
     * it); DROP OWNED drops, and REASSIGN OWNED hands over, every object the role owns, which where every session
     * logs in as the same upstream role is every table. The catalog keeps no pg_depend, so each is an unresolved
     * write, which a scope role is refused (decisions 0074's review, 0080): drop the dependents by name first. The
     * field is read generically so that a statement kind nobody listed is covered; only ALTER TYPE's own CASCADE
     * (to the typed tables, which {@link #typedTables} counts) is not a drop. TRUNCATE's CASCADE is not DDL and is
     * counted by the tables its keys reach ({@code SideWrites}).
     */
    private static void dropsDependents(Result r, JsonNode node) {
        String what = switch (type(node)) {
            case "DropOwnedStmt" -> "every object DROP OWNED drops";
            case "ReassignOwnedStmt" -> "every object REASSIGN OWNED hands over";
            default -> dropsCascade(node) ? "whatever DROP ... CASCADE drops" : null;
        };
        if (what != null) {
            r.facts.writes.add(new TableRef("?", what));
        }
    }

    /** True when some node of the statement carries {@code behavior: DROP_CASCADE} that drops dependents. */
    static boolean dropsCascade(JsonNode node) {
        boolean alterType = "AlterTableStmt".equals(type(node)) && "OBJECT_TYPE".equals(text(body(node), "objtype"));
        boolean[] found = {false};
        Tree.forEachObject(node, (key, value) -> {
            if (!found[0] && "DROP_CASCADE".equals(text(value, "behavior")) && !toTypedTables(key, value, alterType)) {
                found[0] = true;
            }
        });
        return found[0];
    }

    /**
     * ALTER TYPE ... ALTER/ADD ATTRIBUTE ... CASCADE and RENAME ATTRIBUTE ... CASCADE: CASCADE says "alter the typed
     * tables too" (counted by {@link #typedTables}), not "drop what depends"; only DROP ATTRIBUTE drops dependents.
     */
    private static boolean toTypedTables(String key, JsonNode value, boolean alterType) {
        return alterType && "AlterTableCmd".equals(key) && !"AT_DropColumn".equals(text(value, "subtype"))
                || "RenameStmt".equals(key) && "OBJECT_ATTRIBUTE".equals(text(value, "renameType"));
    }

    /**
     * ALTER DOMAIN ... ADD CONSTRAINT (unless NOT VALID), SET NOT NULL and VALIDATE CONSTRAINT test every stored value
     * of the domain, in whatever table holds one (a domain over it, an array, range or composite of it: {@link
     * Catalog#columnsHoldingType}): each such column is a predicate and its table is read, as a query testing the
     * constraint over it would be. An error answers whether some value matches. A domain the catalog does not know
     * (made since it was read, in pg_temp, or at initdb) may be used anywhere: its reads are an unresolved relation,
     * which a scope role is refused (and a masked session is refused every such ALTER DOMAIN as a data route).
     */
    private static void domainTested(Result r, Catalog catalog, JsonNode b) {
        boolean tests = switch (String.valueOf(text(b, "subtype"))) {
            case "C" -> !body(b.path("def")).path("skip_validation").asBoolean(false);
            case "O", "V" -> true;
            default -> false; // SET/DROP DEFAULT, DROP NOT NULL, DROP or RENAME CONSTRAINT read no value
        };
        List<String> name = names(list(b, "typeName"));
        if (!tests || name.isEmpty()) {
            return;
        }
        String schema = Tree.schemaOf(name);
        Optional<Set<ColumnRef>> columns = catalog.columnsHoldingType(schema, Tree.last(name));
        if (columns.isEmpty()) {
            r.facts.reads.add(new TableRef("?", String.join(".", name)));
            return;
        }
        for (ColumnRef c : columns.get()) {
            r.facts.reads.add(new TableRef(c.schema(), c.table()));
            r.facts.predicates.add(new PredicateUse(c, DOMAIN, false));
        }
    }

    /**
     * ALTER TYPE e RENAME VALUE 'a' TO 'b' changes what every stored 'a' reads as, in every table holding a column of
     * the enum or of a domain, array, range or composite over it (decision 0080): an update of each such table, which
     * the statement does not name, so each is written and the statement also needs {@code update}. ADD VALUE
     * changes nothing stored (a new label, sorted among the others without moving them; a stored value reads and
     * compares as before) and writes nothing. An enum the catalog does not know (made since it was read) may be used
     * anywhere: an unresolved relation is written, which a scope role is refused.
     */
    private static void enumRenamed(Result r, Catalog catalog, JsonNode b) {
        List<String> name = names(list(b, "typeName"));
        if (text(b, "oldVal") == null || name.isEmpty()) {
            return;
        }
        r.facts.operations.add(Operation.UPDATE);
        Optional<Set<ColumnRef>> columns = catalog.columnsHoldingType(Tree.schemaOf(name), Tree.last(name));
        if (columns.isEmpty()) {
            r.facts.writes.add(new TableRef("?", String.join(".", name)));
            return;
        }
        for (ColumnRef c : columns.get()) {
            r.facts.writes.add(new TableRef(c.schema(), c.table()));
        }
    }

    /**
     * ALTER TYPE or ALTER DOMAIN ... RENAME TO or SET SCHEMA: the catalog read at the session's start knows the type's
     * uses by its old name only, so what the session does to it under the new one (RENAME ATTRIBUTE ... CASCADE renames
     * a typed table's column, which masking keys by name) no longer reaches the tables it reaches on the server
     * (decision 0080: a masked session renamed a typed table's tagged column this way, and the next session read it in
     * clear). So the rename is judged as a change of each table the type reaches: the tables it types and those
     * holding a column of it (a domain or enum); a masked session may not ALTER one holding PHI, a scope role needs
     * {@code ddl} on each. A type the catalog knows neither way (a range, a base type, one made since) is an
     * unresolved write.
     */
    private static void typeRenamed(Result r, Catalog catalog, JsonNode object) {
        List<String> name = names(list(body(object), "items"));
        if (name.isEmpty()) {
            name = names(list(object, "items"));
        }
        String schema = Tree.schemaOf(name);
        String last = Tree.last(name);
        Optional<Set<TableRef>> typed = last == null ? Optional.empty() : catalog.typedTables(schema, last);
        Optional<Set<ColumnRef>> holding = last == null ? Optional.empty() : catalog.columnsHoldingType(schema, last);
        if (typed.isEmpty() && holding.isEmpty()) {
            r.facts.writes.add(new TableRef("?", String.join(".", name)));
            return;
        }
        typed.ifPresent(r.facts.writes::addAll);
        holding.ifPresent(columns -> columns.forEach(c -> r.facts.writes.add(new TableRef(c.schema(), c.table()))));
    }

    /**
     * ALTER TYPE on a composite type, with CASCADE, alters every table typed by it ({@code CREATE TABLE t OF comp})
     * as ALTER TABLE would: each is written, and ALTER ATTRIBUTE ... TYPE converts every value of that column (a
     * domain's CHECK or a length limit then answers for each), so it is also read with the column as a predicate.
     * Without CASCADE the server refuses where a typed table exists: counting them is a superset. A type the catalog
     * does not know may type any table: an unresolved relation is written, which a scope role is refused.
     */
    private static void typedTables(Result r, Catalog catalog, JsonNode rangeVar, String convertedAttribute) {
        String name = text(rangeVar, "relname");
        if (name == null) {
            return;
        }
        String schema = text(rangeVar, "schemaname");
        Optional<Set<TableRef>> typed = catalog.typedTables(schema, name);
        if (typed.isEmpty()) {
            r.facts.writes.add(new TableRef("?", schema == null ? name : schema + "." + name));
            return;
        }
        for (TableRef t : typed.get()) {
            r.facts.writes.add(t);
            if (convertedAttribute != null) {
                r.facts.reads.add(t);
                r.facts.predicates.add(new PredicateUse(new ColumnRef(t.schema(), t.table(), convertedAttribute),
                        CONVERTED, false));
            }
        }
    }

    /**
     * A foreign key's referenced table is read and each referenced column is a predicate. Without a column list
     * the key references the primary key, which the catalog does not record: every column under a key or unique
     * index counts (a superset, so never fewer than the server tests).
     */
    private static void referenced(Result r, Lineage names, Catalog catalog, JsonNode constraint) {
        TableRef table = names.ref(constraint.path("pktable"));
        r.facts.reads.add(table);
        List<String> columns = names(list(constraint, "pk_attrs"));
        if (columns.isEmpty()) {
            for (String column : columnsOf(catalog, table)) {
                ColumnRef c = new ColumnRef(table.schema(), table.table(), column);
                if (catalog.checkedAgainst(c).contains(c)) {
                    r.facts.predicates.add(new PredicateUse(c, REFERENCED, false));
                }
            }
            return;
        }
        for (String column : columns) {
            r.facts.predicates.add(new PredicateUse(new ColumnRef(table.schema(), table.table(), column), REFERENCED,
                    false));
        }
    }

    /**
     * A partition takes its parent's foreign keys (the server clones them onto it): ATTACH PARTITION tests the
     * attached table's rows against them at once, and every later write to the partition, which the catalog read at
     * the session's start does not know as keyed, tests its value. The columns the parent's keys reference (in
     * other tables) are read and are predicates as a key made in the statement would be.
     */
    private static void parentsKeys(Result r, Catalog catalog, TableRef parent) {
        for (String column : columnsOf(catalog, parent)) {
            for (ColumnRef checked : catalog.checkedAgainst(new ColumnRef(parent.schema(), parent.table(), column))) {
                TableRef referenced = new TableRef(checked.schema(), checked.table());
                if (!referenced.equals(parent)) {
                    r.facts.reads.add(referenced);
                    r.facts.predicates.add(new PredicateUse(checked, REFERENCED, false));
                }
            }
        }
    }

    /**
     * An index, statistics or CLUSTER on a materialized view evaluates the values it was filled from: each indexed
     * column of a view is a predicate over the columns its definition reads, as a query's condition on the view's
     * column would be (decision 0069, attacker's read). The definition itself does not run (the stored rows are
     * read), so its own reads and conditions do not count. A view the analysis cannot see through (a cycle, too
     * deep) keeps only its own column.
     */
    private static void throughViews(Result r, Lineage names, Catalog catalog) {
        for (PredicateUse p : List.copyOf(r.facts.predicates)) {
            Relation view = p.clause().equals(INDEXED)
                    ? catalog.relation(p.column().schema(), p.column().table()).orElse(null) : null;
            if (view == null || view.kind() != Relation.Kind.MATERIALIZED_VIEW && view.kind() != Relation.Kind.VIEW) {
                continue;
            }
            Lineage.ViewInfo info = names.views.view(view, names.viewDepth + 1);
            int at = view.columns().indexOf(p.column().column());
            if (info == null || at < 0 || at >= info.columns().size()) {
                continue;
            }
            for (ColumnRef source : info.columns().get(at).sources()) {
                r.facts.predicates.add(new PredicateUse(source, INDEXED, false));
            }
        }
    }

    private static void indexed(Result r, Catalog catalog, TableRef table, String column) {
        List<String> known = columnsOf(catalog, table);
        if (!known.isEmpty() && !known.contains(column)) {
            everyColumn(r, catalog, table); // a whole-row reference, or a name the catalog does not know
            return;
        }
        r.facts.predicates.add(new PredicateUse(new ColumnRef(table.schema(), table.table(), column), INDEXED,
                false));
    }

    /** Every column an index's, statistics' or partial index's expressions name (only their table's may). */
    private static void columnsOf(Result r, Catalog catalog, TableRef table, List<JsonNode> expressions) {
        Set<String> named = new LinkedHashSet<>();
        for (JsonNode e : expressions) {
            Tree.forEachObject(e, (key, value) -> {
                if (key.equals("ColumnRef")) {
                    List<JsonNode> fields = list(value, "fields");
                    String last = fields.isEmpty() ? null : Tree.sval(fields.getLast());
                    if (last == null) {
                        everyColumn(r, catalog, table); // t.*
                    } else {
                        named.add(last);
                    }
                }
            });
        }
        for (String column : named) {
            indexed(r, catalog, table, column);
        }
    }

    private static void everyColumn(Result r, Catalog catalog, TableRef table) {
        for (String column : columnsOf(catalog, table)) {
            r.facts.predicates.add(new PredicateUse(new ColumnRef(table.schema(), table.table(), column), INDEXED,
                    false));
        }
    }

    private static List<String> columnsOf(Catalog catalog, TableRef table) {
        return catalog.relation(table.schema(), table.table()).map(Relation::columns).orElse(List.of());
    }
}
