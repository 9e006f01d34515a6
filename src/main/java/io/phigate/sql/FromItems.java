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
import io.phigate.sql.Lineage.Scope;
import io.phigate.sql.Lineage.Source;
import io.phigate.sql.Lineage.ViewInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * FROM items for {@link Lineage}: tables and views from the catalog (a view's columns traced through its
 * definition), CTEs, subqueries, functions, and joins with the column order and merged USING/NATURAL columns
 * {@code *} expands to. Join conditions and USING columns steer the result and are recorded as such; a lookup in a
 * JOIN's ON counts with the statement's other lookups, and so do the lookups of a view it reads (decision 0094).
 */
final class FromItems {
    private final Lineage l;

    FromItems(Lineage lineage) {
        this.l = lineage;
    }

    /** Adds one FROM item's relations to the scope. Function calls and subqueries see the items left of them. */
    void from(Scope sc, JsonNode item) {
        JsonNode b = body(item);
        switch (type(item)) {
            case "RangeVar" -> rangeVar(sc, b);
            case "RangeSubselect" -> {
                List<Col> cols = l.select(body(b.path("subquery")), sc, sc.ctes);
                String alias = aliasName(b, "?subquery?");
                add(sc, new Source(alias, null, alias, true, Lineage.renamed(cols, aliasColumns(b)), false, false));
            }
            case "RangeFunction" -> {
                List<Lin> lins = new ArrayList<>();
                String firstName = null;
                for (JsonNode f : list(b, "functions")) {
                    List<JsonNode> items = list(body(f), "items");
                    if (!items.isEmpty()) {
                        // A set-returning function decides how many rows each input row yields: its
                        // arguments steer the result (regexp_matches(ssn, '^1') drops the rows it does not match).
                        lins.add(l.expressions.value(items.getFirst(), sc, "FROM function").indirect());
                        if (firstName == null && is(items.getFirst(), "FuncCall")) {
                            firstName = Tree.last(names(list(body(items.getFirst()), "funcname")));
                        }
                    }
                }
                Lin lin = Lin.union(lins);
                String alias = aliasName(b, firstName == null ? "?function?" : firstName);
                List<String> names = aliasColumns(b);
                List<Col> cols = new ArrayList<>();
                if (names.isEmpty()) {
                    cols.add(new Col(alias, lin));
                } else {
                    for (String n : names) {
                        cols.add(new Col(n, lin));
                    }
                }
                add(sc, new Source(alias, null, alias, true, cols, false, names.isEmpty()));
            }
            case "JoinExpr" -> join(sc, b);
            case "RangeTableSample" -> {
                from(sc, b.path("relation"));
                for (JsonNode a : list(b, "args")) {
                    l.expressions.value(a, sc, "TABLESAMPLE");
                }
                if (!b.path("repeatable").isMissingNode()) {
                    l.expressions.value(b.path("repeatable"), sc, "TABLESAMPLE REPEATABLE");
                }
            }
            default -> {
                // XMLTABLE and anything else: its values are not followed.
                l.expressions.value(item, sc, "FROM");
                String alias = aliasName(b, "?");
                add(sc, new Source(alias, null, alias, true, null, false, false));
            }
        }
    }

    void rangeVar(Scope sc, JsonNode b) {
        relation(sc, b, true);
    }

    /**
     * The target of an INSERT, UPDATE, DELETE or MERGE: always a table or view, never a WITH item, which the server
     * does not look at for a target. Read as the item, {@code WITH patients AS (SELECT 'x' AS ssn) UPDATE patients
     * ... RETURNING ssn || ''} handed back every SSN in clear and let {@code WHERE ssn LIKE '1%'} count rows.
     */
    void target(Scope sc, JsonNode b) {
        relation(sc, b, false);
    }

    private void relation(Scope sc, JsonNode b, boolean withItems) {
        String schema = text(b, "schemaname");
        String name = text(b, "relname");
        Optional<List<Col>> cte = withItems && schema == null && sc.ctes != null ? sc.ctes.find(name)
                : Optional.empty();
        String alias = aliasName(b, name);
        boolean aliased = b.has("alias");
        if (cte.isPresent()) {
            boolean pending = cte.get() == Lineage.PENDING;
            add(sc, new Source(alias, null, name, aliased, Lineage.renamed(cte.get(), aliasColumns(b)), pending, false));
            return;
        }
        Optional<Relation> rel = l.catalog.relation(schema, name);
        if (rel.isEmpty()) {
            l.facts.reads.add(new TableRef(schema == null ? "?" : schema, name));
            add(sc, new Source(alias, schema, name, aliased, null, false, false));
            return;
        }
        Relation r = rel.get();
        l.facts.reads.add(r.ref());
        List<Col> named = relationColumns(r, b);
        List<Col> columns = Lineage.renamed(named, aliasColumns(b));
        Lin tableoid = partitionChoice(r, named);
        Set<String> bound = l.catalog.chosenBy(r.ref());
        if (!bound.isEmpty()) {
            // A partition's rows are those its bound chose by its ancestors' keys: reading it is a condition on them.
            l.predicate(Lin.union(named.stream().filter(c -> bound.contains(c.name())).map(Col::lin).toList()),
                    "the bound of partition " + r.ref(), false);
        }
        if (l.catalog.shadowed(schema, name)) {
            // The server reads the session's temporary table of that name, filled with whatever the agent chose:
            // masked by the real table's tags, but not its own values, so no lookup and no join of masked keys
            // (a.ssn = b.ssn against a shadowing table of guesses tested them all in one statement).
            columns = columns.stream().map(c -> new Col(c.name(), c.lin().indirect())).toList();
        }
        add(sc, new Source(alias, r.schema(), r.name(), aliased, columns, false, false, tableoid));
    }

    /**
     * What a row's {@code tableoid} holds: the partition it is stored in, chosen by the values of the partition keys'
     * columns, so a condition on it or its name in clear tells something of each (with {@code PARTITION BY LIST
     * (left(ssn, 1))}, {@code SELECT tableoid::regclass} gave each SSN's first digit). Never a lookup of them.
     */
    private Lin partitionChoice(Relation r, List<Col> columns) {
        Set<String> keys = l.catalog.partitionedBy(r.ref());
        if (keys.isEmpty()) {
            return Lin.NONE;
        }
        return Lin.union(columns.stream().filter(c -> keys.contains(c.name())).map(Col::lin).toList()).indirect();
    }

    private void join(Scope sc, JsonNode b) {
        Scope target = sc;
        if (b.has("alias")) {
            // An aliased join is one relation whose columns are the join's star; the names inside are hidden.
            target = new Scope(sc, sc.ctes);
        }
        int leftStart = target.star.size();
        from(target, b.path("larg"));
        int mid = target.star.size();
        from(target, b.path("rarg"));
        List<Col> leftStar = new ArrayList<>(target.star.subList(leftStart, mid));
        List<Col> rightStar = new ArrayList<>(target.star.subList(mid, target.star.size()));
        List<String> using = new ArrayList<>(names(list(b, "usingClause")));
        if (using.isEmpty() && b.path("isNatural").asBoolean(false)) {
            for (Col r : rightStar) {
                if (leftStar.stream().anyMatch(l -> l.name().equals(r.name()))) {
                    using.add(r.name());
                }
            }
        }
        if (!using.isEmpty()) {
            List<Col> merged = new ArrayList<>();
            for (String u : using) {
                List<Lin> both = new ArrayList<>();
                take(leftStar, u).ifPresent(both::add);
                take(rightStar, u).ifPresent(both::add);
                for (Lin side : both) {
                    // Not a join of masked keys, even between two of them: the other side may be any values (a
                    // list of guesses), and a join of keys is an equality in ON or WHERE (Lineage.where).
                    l.predicate(side, USING, false);
                }
                Lin lin = Lin.union(both);
                merged.add(new Col(u, lin));
                target.merged.put(u, lin);
            }
            List<Col> star = new ArrayList<>(target.star.subList(0, leftStart));
            star.addAll(merged);
            star.addAll(leftStar);
            star.addAll(rightStar);
            target.star = star;
        }
        l.where(b.path("quals"), target, "JOIN");
        if (target != sc) {
            String alias = aliasName(b, "?join?");
            add(sc, new Source(alias, null, alias, true, Lineage.renamed(target.star, aliasColumns(b)), false, false));
        }
    }

    private static Optional<Lin> take(List<Col> cols, String name) {
        for (int i = 0; i < cols.size(); i++) {
            if (cols.get(i).name().equals(name)) {
                return Optional.of(cols.remove(i).lin());
            }
        }
        return Optional.empty();
    }

    private static void add(Scope sc, Source s) {
        sc.sources.add(s);
        if (s.columns() == null) {
            sc.star.add(new Col("*", Lin.OPAQUE));
        } else {
            sc.star.addAll(s.columns());
        }
    }

    /** The clause a USING or NATURAL join's merged columns steer in. */
    static final String USING = "JOIN USING";

    /**
     * A catalog relation's columns: a table's own, or a view's traced through its definition. Read through the
     * FROM item {@code from}, the view's lookups become this statement's, one per view read.
     */
    private List<Col> relationColumns(Relation r, JsonNode from) {
        if (SessionViews.models(r)) {
            return SessionViews.columns(r);
        }
        List<Col> cols = new ArrayList<>();
        boolean isView = r.kind() == Relation.Kind.VIEW || r.kind() == Relation.Kind.MATERIALIZED_VIEW;
        ViewInfo info = isView ? l.views.view(r, l.viewDepth + 1) : null;
        if (info != null) {
            l.facts.addViewFacts(info.facts());
            l.facts.lookups.addView(info.facts().lookups, from, c -> l.predicate(Lin.of(c),
                    "FROM " + r.ref() + Lineage.SECOND_LOOKUP, false));
        }
        for (int i = 0; i < r.columns().size(); i++) {
            String c = r.columns().get(i);
            if (!isView) {
                cols.add(new Col(c, Lin.of(new ColumnRef(r.schema(), r.name(), c))));
            } else if (info == null || i >= info.columns().size()) {
                // A view we cannot see through (no definition, a cycle, too deep) could hold anything.
                cols.add(new Col(c, Lin.OPAQUE));
            } else {
                cols.add(new Col(c, info.columns().get(i)));
            }
        }
        return cols;
    }

    private static String aliasName(JsonNode b, String otherwise) {
        String a = text(b.path("alias"), "aliasname");
        return a == null ? otherwise : a;
    }

    private static List<String> aliasColumns(JsonNode b) {
        return names(list(b.path("alias"), "colnames"));
    }

    /** The table's rows, as {@code SELECT columns FROM table} would give them. */
    List<Col> tableRows(JsonNode rangeVar, List<String> columns) {
        Scope sc = new Scope(null, null);
        rangeVar(sc, rangeVar);
        Source s = sc.sources.getLast();
        if (s.columns() == null) {
            return List.of(new Col("*", Lin.OPAQUE));
        }
        if (columns.isEmpty()) {
            return s.columns();
        }
        List<Col> out = new ArrayList<>();
        for (String c : columns) {
            out.add(new Col(c, s.column(c).orElse(Lin.OPAQUE)));
        }
        return out;
    }
}
