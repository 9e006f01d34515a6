package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.sval;
import static io.phigate.sql.Tree.text;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.StatementFacts.FunctionCall;
import io.phigate.sql.StatementFacts.PredicateUse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Follows one statement's values, on PostgreSQL's own parse tree, from its result columns back to base-table
 * columns, and collects what it reads, writes and calls and which columns steer its result ({@link Facts}).
 * Queries and DML live here; the expressions inside them are read by {@link Expressions}. One instance per
 * statement analysis; not thread-safe. Everything it cannot follow comes out {@code opaque}, which callers treat
 * as "could be any PHI".
 */
final class Lineage {

    /** Where one value may come from. */
    record Lin(Set<ColumnRef> sources, boolean direct, boolean opaque) {
        static final Lin NONE = new Lin(Set.of(), false, false);
        static final Lin OPAQUE = new Lin(Set.of(), false, true);

        static Lin of(ColumnRef c) {
            return new Lin(Set.of(c), true, false);
        }

        Lin indirect() {
            return direct ? new Lin(sources, false, opaque) : this;
        }

        Lin opaqueToo() {
            return opaque ? this : new Lin(sources, false, true);
        }

        static Lin union(Collection<Lin> lins) {
            Set<ColumnRef> s = new LinkedHashSet<>();
            boolean opaque = false;
            for (Lin l : lins) {
                s.addAll(l.sources);
                opaque |= l.opaque;
            }
            return new Lin(s, false, opaque);
        }
    }

    record Col(String name, Lin lin) {
    }

    /** What the statement as a whole does, gathered while walking it. */
    static final class Facts {
        final Set<Operation> operations = EnumSet.noneOf(Operation.class);
        final Set<TableRef> reads = new LinkedHashSet<>();
        final Set<TableRef> writes = new LinkedHashSet<>();
        final Set<String> opaqueFunctions = new LinkedHashSet<>();
        final List<StatementAnalysis.ColumnWrite> columnWrites = new ArrayList<>();
        final Set<FunctionCall> functions = new LinkedHashSet<>();
        final Set<PredicateUse> predicates = new LinkedHashSet<>();
        boolean copiesQuery;
        boolean unfilteredWrite;

        void addAll(Facts f) {
            operations.addAll(f.operations);
            reads.addAll(f.reads);
            writes.addAll(f.writes);
            opaqueFunctions.addAll(f.opaqueFunctions);
            columnWrites.addAll(f.columnWrites);
            functions.addAll(f.functions);
            predicates.addAll(f.predicates);
            copiesQuery |= f.copiesQuery;
            unfilteredWrite |= f.unfilteredWrite;
        }

        /** What reading a view adds: its reads, calls and conditions, never its writes or operations. */
        void addViewFacts(Facts f) {
            reads.addAll(f.reads);
            opaqueFunctions.addAll(f.opaqueFunctions);
            functions.addAll(f.functions);
            predicates.addAll(f.predicates);
        }
    }

    /** A view's definition, analysed once per analyser: its column lineage and what reading it touches. */
    record ViewInfo(List<Lin> columns, Facts facts) {
    }

    /** Looks up (and caches) a view's analysis; returns null on a cycle or beyond the depth limit. */
    interface Views {
        ViewInfo view(Relation view, int depth);
    }

    private static final int MAX_RECURSIVE_PASSES = 4;
    private static final int MAX_QUERY_DEPTH = 64;

    final Facts facts = new Facts();
    final Catalog catalog;
    private final Views views;
    private final int viewDepth;
    private final Expressions expressions;
    private int depth;

    Lineage(Catalog catalog, Views views, int viewDepth) {
        this.catalog = catalog;
        this.views = views;
        this.viewDepth = viewDepth;
        this.expressions = new Expressions(this);
    }

    // ---- name resolution state -------------------------------------------------------------------------------

    /** Common table expressions visible at a point; {@code null} columns while a recursive one is being solved. */
    static final class Ctes {
        final Ctes parent;
        final Map<String, List<Col>> byName = new HashMap<>();

        Ctes(Ctes parent) {
            this.parent = parent;
        }

        Optional<List<Col>> find(String name) {
            for (Ctes c = this; c != null; c = c.parent) {
                if (c.byName.containsKey(name)) {
                    return Optional.of(c.byName.get(name) == null ? PENDING : c.byName.get(name));
                }
            }
            return Optional.empty();
        }
    }

    /** Marks a recursive CTE referenced from inside its own definition before its columns are known. */
    static final List<Col> PENDING = List.of();

    /** A FROM item in scope. {@code columns} null when the relation is unknown. */
    record Source(String alias, String schema, String table, boolean aliased, List<Col> columns, boolean pending) {
        Lin wholeRow() {
            if (pending) {
                return Lin.NONE;
            }
            if (columns == null) {
                return Lin.OPAQUE;
            }
            return Lin.union(columns.stream().map(Col::lin).toList());
        }

        Optional<Lin> column(String name) {
            if (pending) {
                return Optional.of(Lin.NONE);
            }
            if (columns == null) {
                return Optional.empty();
            }
            for (Col c : columns) {
                if (c.name.equals(name)) {
                    return Optional.of(c.lin);
                }
            }
            return Optional.empty();
        }
    }

    static final class Scope {
        final Scope parent;
        final Ctes ctes;
        final List<Source> sources = new ArrayList<>();
        /** What {@code *} expands to, in PostgreSQL's order (USING/NATURAL columns merged and first). */
        List<Col> star = new ArrayList<>();
        final Map<String, Lin> merged = new HashMap<>();
        /** The query's output columns, for ORDER BY / GROUP BY / DISTINCT ON by name or position. */
        List<Col> outputs = List.of();

        Scope(Scope parent, Ctes ctes) {
            this.parent = parent;
            this.ctes = ctes;
        }
    }

    // ---- statements ------------------------------------------------------------------------------------------

    /** The result columns of a query or DML node ({@code {"SelectStmt": ...}}); empty for one that returns none. */
    List<Col> statement(JsonNode node) {
        return statement(node, null, null);
    }

    private List<Col> statement(JsonNode node, Scope outer, Ctes ctes) {
        JsonNode b = body(node);
        return switch (type(node)) {
            case "SelectStmt" -> {
                facts.operations.add(Operation.SELECT);
                yield select(b, outer, ctes);
            }
            case "InsertStmt" -> insert(b, outer, ctes);
            case "UpdateStmt" -> update(b, outer, ctes);
            case "DeleteStmt" -> delete(b, outer, ctes);
            case "MergeStmt" -> merge(b, outer, ctes);
            default -> List.of(new Col("?column?", Lin.OPAQUE));
        };
    }

    /** A SelectStmt's body (set operations, VALUES and plain selects alike). */
    List<Col> select(JsonNode s, Scope outer, Ctes ctes) {
        if (++depth > MAX_QUERY_DEPTH) {
            throw new IllegalArgumentException("query nested too deeply");
        }
        try {
            Ctes inner = withClause(s.path("withClause"), outer, ctes);
            String op = text(s, "op");
            List<Col> cols;
            Scope sc = new Scope(outer, inner);
            if (op != null && !op.equals("SETOP_NONE")) {
                List<Col> left = select(s.path("larg"), outer, inner);
                List<Col> right = select(s.path("rarg"), outer, inner);
                if (!s.path("all").asBoolean(false)) {
                    // UNION, INTERSECT and EXCEPT without ALL compare whole rows: every output steers the result.
                    String clause = op.substring("SETOP_".length());
                    for (Col c : left) {
                        predicate(c.lin, clause, false);
                    }
                    for (Col c : right) {
                        predicate(c.lin, clause, false);
                    }
                }
                cols = mergeColumns(left, right);
                sc.star = new ArrayList<>(cols);
                sc.outputs = cols;
            } else if (s.has("valuesLists")) {
                cols = values(s, sc);
                sc.outputs = cols;
            } else {
                cols = plain(s, sc);
            }
            for (JsonNode sort : list(s, "sortClause")) {
                sortItem(body(sort).path("node"), sc, "ORDER BY");
            }
            expressions.value(s.path("limitCount"), sc, "LIMIT");
            expressions.value(s.path("limitOffset"), sc, "OFFSET");
            if (s.has("lockingClause")) {
                // Row locks need UPDATE privilege in PostgreSQL, and hold other sessions' writes until commit.
                facts.operations.add(Operation.UPDATE);
            }
            if (s.has("intoClause")) {
                // SELECT INTO creates a table from the result: PHI copied somewhere no masking rule names.
                facts.writes.add(ref(s.path("intoClause").path("rel")));
                facts.operations.add(Operation.DDL);
                facts.copiesQuery = true;
            }
            return cols;
        } finally {
            depth--;
        }
    }

    /**
     * An ORDER BY, GROUP BY or DISTINCT ON item: an output's position or name, else an expression. A bare name
     * that is both an output's name and a column in scope is recorded as both: ORDER BY takes the output, GROUP BY
     * the column, and a steering use is never left out for the other's sake.
     */
    private void sortItem(JsonNode item, Scope sc, String clause) {
        if (is(item, "A_Const") && body(item).has("ival")) {
            int position = body(item).path("ival").path("ival").asInt(0);
            if (position >= 1 && position <= sc.outputs.size()) {
                predicate(sc.outputs.get(position - 1).lin, clause, false);
                return;
            }
        }
        if (is(item, "ColumnRef")) {
            List<JsonNode> fields = list(body(item), "fields");
            if (fields.size() == 1 && sval(fields.getFirst()) != null) {
                String name = sval(fields.getFirst());
                boolean output = false;
                for (Col c : sc.outputs) {
                    if (c.name.equals(name)) {
                        predicate(c.lin, clause, false);
                        output = true;
                    }
                }
                if (output && !Expressions.inScope(name, sc)) {
                    return;
                }
            }
        }
        expressions.value(item, sc, clause);
    }

    /** Records a column use that steers the result. */
    void predicate(Lin lin, String clause, boolean equality) {
        for (ColumnRef c : lin.sources) {
            facts.predicates.add(new PredicateUse(c, clause, equality && lin.direct && lin.sources.size() == 1));
        }
    }

    private Ctes withClause(JsonNode with, Scope outer, Ctes ctes) {
        if (with.isMissingNode() || !with.has("ctes")) {
            return ctes;
        }
        boolean recursive = with.path("recursive").asBoolean(false);
        Ctes env = new Ctes(ctes);
        for (JsonNode node : list(with, "ctes")) {
            JsonNode cte = body(node);
            String name = text(cte, "ctename");
            List<String> names = names(list(cte, "aliascolnames"));
            JsonNode query = cte.path("ctequery");
            if (recursive) {
                env.byName.put(name, null);
                List<Col> cols = renamed(statement(query, outer, env), names);
                for (int pass = 1; pass < MAX_RECURSIVE_PASSES; pass++) {
                    env.byName.put(name, cols);
                    List<Col> next = mergeColumns(cols, renamed(statement(query, outer, env), names));
                    if (next.equals(cols)) {
                        break;
                    }
                    cols = next;
                }
                env.byName.put(name, cols);
            } else {
                env.byName.put(name, renamed(statement(query, outer, env), names));
            }
        }
        return env;
    }

    /** Position-wise union of two column lists, as for the branches of a UNION. */
    static List<Col> mergeColumns(List<Col> a, List<Col> b) {
        List<Col> out = new ArrayList<>();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            Col x = i < a.size() ? a.get(i) : null;
            Col y = i < b.size() ? b.get(i) : null;
            if (x == null || y == null) {
                Col only = x == null ? y : x;
                out.add(new Col(only.name, only.lin.indirect()));
            } else {
                Set<ColumnRef> s = new LinkedHashSet<>(x.lin.sources);
                s.addAll(y.lin.sources);
                boolean direct = x.lin.direct && y.lin.direct && s.size() == 1;
                out.add(new Col(x.name, new Lin(s, direct, x.lin.opaque || y.lin.opaque)));
            }
        }
        return out;
    }

    private List<Col> values(JsonNode s, Scope sc) {
        List<Col> cols = new ArrayList<>();
        for (JsonNode row : list(s, "valuesLists")) {
            List<Col> rc = new ArrayList<>();
            List<JsonNode> items = list(body(row), "items");
            for (int i = 0; i < items.size(); i++) {
                rc.add(new Col("column" + (i + 1), expressions.value(items.get(i), sc, null)));
            }
            cols = cols.isEmpty() ? rc : mergeColumns(cols, rc);
        }
        return cols;
    }

    private List<Col> plain(JsonNode s, Scope sc) {
        for (JsonNode item : list(s, "fromClause")) {
            from(sc, item);
        }
        List<Col> out = new ArrayList<>();
        for (JsonNode t : list(s, "targetList")) {
            target(body(t), sc, out);
        }
        sc.outputs = out;
        where(s.path("whereClause"), sc, "WHERE");
        expressions.value(s.path("havingClause"), sc, "HAVING");
        for (JsonNode g : list(s, "groupClause")) {
            groupItem(g, sc);
        }
        for (JsonNode d : list(s, "distinctClause")) {
            if (d.isEmpty()) {
                // Plain DISTINCT compares whole output rows.
                for (Col c : out) {
                    predicate(c.lin, "DISTINCT", false);
                }
            } else {
                sortItem(d, sc, "DISTINCT ON");
            }
        }
        for (JsonNode w : list(s, "windowClause")) {
            expressions.window(body(w), sc, null);
        }
        return out;
    }

    private void groupItem(JsonNode g, Scope sc) {
        if (is(g, "GroupingSet")) {
            for (JsonNode c : list(body(g), "content")) {
                groupItem(c, sc);
            }
            return;
        }
        sortItem(g, sc, "GROUP BY");
    }

    /**
     * A WHERE clause: every column in it steers the result, and a top-level conjunct {@code column = constant}
     * (or parameter) is the one-bit equality lookup a policy may allow.
     */
    void where(JsonNode where, Scope sc, String clause) {
        if (where.isMissingNode()) {
            return;
        }
        List<JsonNode> conjuncts = new ArrayList<>();
        conjuncts(where, conjuncts);
        for (JsonNode c : conjuncts) {
            Lin column = expressions.equalityLookup(c, sc);
            if (column != null) {
                predicate(column, clause, true);
            } else {
                expressions.value(c, sc, clause);
            }
        }
    }

    private static void conjuncts(JsonNode e, List<JsonNode> out) {
        if (is(e, "BoolExpr") && "AND_EXPR".equals(text(body(e), "boolop"))) {
            for (JsonNode a : list(body(e), "args")) {
                conjuncts(a, out);
            }
        } else {
            out.add(e);
        }
    }

    // ---- FROM --------------------------------------------------------------------------------------------------

    /** Adds one FROM item's relations to the scope. Function calls and subqueries see the items left of them. */
    void from(Scope sc, JsonNode item) {
        JsonNode b = body(item);
        switch (type(item)) {
            case "RangeVar" -> rangeVar(sc, b);
            case "RangeSubselect" -> {
                List<Col> cols = select(body(b.path("subquery")), sc, sc.ctes);
                String alias = aliasName(b, "?subquery?");
                add(sc, new Source(alias, null, alias, true, renamed(cols, aliasColumns(b)), false));
            }
            case "RangeFunction" -> {
                List<Lin> lins = new ArrayList<>();
                String firstName = null;
                for (JsonNode f : list(b, "functions")) {
                    List<JsonNode> items = list(body(f), "items");
                    if (!items.isEmpty()) {
                        lins.add(expressions.value(items.getFirst(), sc, null).indirect());
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
                add(sc, new Source(alias, null, alias, true, cols, false));
            }
            case "JoinExpr" -> join(sc, b);
            case "RangeTableSample" -> {
                from(sc, b.path("relation"));
                for (JsonNode a : list(b, "args")) {
                    expressions.value(a, sc, "TABLESAMPLE");
                }
            }
            default -> {
                // XMLTABLE and anything else: its values are not followed.
                expressions.value(item, sc, null);
                String alias = aliasName(b, "?");
                add(sc, new Source(alias, null, alias, true, null, false));
            }
        }
    }

    private void rangeVar(Scope sc, JsonNode b) {
        String schema = text(b, "schemaname");
        String name = text(b, "relname");
        Optional<List<Col>> cte = schema == null && sc.ctes != null ? sc.ctes.find(name) : Optional.empty();
        String alias = aliasName(b, name);
        boolean aliased = b.has("alias");
        if (cte.isPresent()) {
            boolean pending = cte.get() == PENDING;
            add(sc, new Source(alias, null, name, aliased, renamed(cte.get(), aliasColumns(b)), pending));
            return;
        }
        Optional<Relation> rel = catalog.relation(schema, name);
        if (rel.isEmpty()) {
            facts.reads.add(new TableRef(schema == null ? "?" : schema, name));
            add(sc, new Source(alias, schema, name, aliased, null, false));
            return;
        }
        Relation r = rel.get();
        facts.reads.add(r.ref());
        add(sc, new Source(alias, r.schema(), r.name(), aliased, renamed(relationColumns(r), aliasColumns(b)), false));
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
                if (leftStar.stream().anyMatch(l -> l.name.equals(r.name))) {
                    using.add(r.name);
                }
            }
        }
        if (!using.isEmpty()) {
            List<Col> merged = new ArrayList<>();
            for (String u : using) {
                List<Lin> both = new ArrayList<>();
                take(leftStar, u).ifPresent(both::add);
                take(rightStar, u).ifPresent(both::add);
                for (Lin l : both) {
                    predicate(l, "JOIN", false);
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
        expressions.value(b.path("quals"), target, "JOIN");
        if (target != sc) {
            String alias = aliasName(b, "?join?");
            add(sc, new Source(alias, null, alias, true, renamed(target.star, aliasColumns(b)), false));
        }
    }

    private static Optional<Lin> take(List<Col> cols, String name) {
        for (int i = 0; i < cols.size(); i++) {
            if (cols.get(i).name.equals(name)) {
                return Optional.of(cols.remove(i).lin);
            }
        }
        return Optional.empty();
    }

    private static void add(Scope sc, Source s) {
        sc.sources.add(s);
        if (s.columns == null) {
            sc.star.add(new Col("*", Lin.OPAQUE));
        } else {
            sc.star.addAll(s.columns);
        }
    }

    /** A catalog relation's columns: a table's own, or a view's traced through its definition. */
    private List<Col> relationColumns(Relation r) {
        List<Col> cols = new ArrayList<>();
        boolean isView = r.kind() == Relation.Kind.VIEW || r.kind() == Relation.Kind.MATERIALIZED_VIEW;
        ViewInfo info = isView ? views.view(r, viewDepth + 1) : null;
        if (info != null) {
            facts.addViewFacts(info.facts);
        }
        for (int i = 0; i < r.columns().size(); i++) {
            String c = r.columns().get(i);
            if (!isView) {
                cols.add(new Col(c, Lin.of(new ColumnRef(r.schema(), r.name(), c))));
            } else if (info == null || i >= info.columns.size()) {
                // A view we cannot see through (no definition, a cycle, too deep) could hold anything.
                cols.add(new Col(c, Lin.OPAQUE));
            } else {
                cols.add(new Col(c, info.columns.get(i)));
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

    static List<Col> renamed(List<Col> cols, List<String> names) {
        if (names.isEmpty() || cols == PENDING) {
            return cols;
        }
        List<Col> out = new ArrayList<>();
        for (int i = 0; i < cols.size(); i++) {
            out.add(i < names.size() ? new Col(names.get(i), cols.get(i).lin) : cols.get(i));
        }
        return out;
    }

    /** One ResTarget of a select list or RETURNING: {@code *} and {@code x.*} expand, anything else is one column. */
    private void target(JsonNode t, Scope sc, List<Col> out) {
        JsonNode val = t.path("val");
        List<Col> expanded = expressions.expand(val, sc);
        if (expanded != null) {
            out.addAll(expanded);
            return;
        }
        String name = text(t, "name");
        out.add(new Col(name != null ? name : Expressions.label(val), expressions.value(val, sc, null)));
    }

    // ---- DML ---------------------------------------------------------------------------------------------------

    private Source target(Scope sc, JsonNode relation) {
        TableRef ref = ref(relation);
        facts.writes.add(ref);
        boolean hadTarget = facts.reads.contains(ref);
        rangeVar(sc, relation);
        if (!hadTarget) {
            // A DML target is written; it counts as read only when the statement hands its rows back.
            facts.reads.remove(ref);
        }
        return sc.sources.getLast();
    }

    private List<Col> insert(JsonNode ins, Scope outer, Ctes outerCtes) {
        facts.operations.add(Operation.INSERT);
        int readsBefore = facts.reads.size();
        Ctes ctes = withClause(ins.path("withClause"), outer, outerCtes);
        Scope targetScope = new Scope(outer, ctes);
        Source t = target(targetScope, ins.path("relation"));
        TableRef ref = ref(ins.path("relation"));
        JsonNode src = ins.path("selectStmt");
        if (!src.isMissingNode()) {
            JsonNode s = body(src);
            select(s, outer, ctes);
            boolean plainValues = s.has("valuesLists") && !s.has("withClause");
            if (!plainValues || facts.reads.size() > readsBefore) {
                // INSERT ... SELECT stores a query's result in a table the masking rules may not cover.
                facts.copiesQuery = true;
            }
        }
        if (facts.reads.size() > readsBefore) {
            facts.operations.add(Operation.SELECT);
        }
        JsonNode conflict = ins.path("onConflictClause");
        if ("ONCONFLICT_UPDATE".equals(text(conflict, "action"))) {
            facts.operations.add(Operation.UPDATE);
            // EXCLUDED is the row proposed for insertion, shaped like the target.
            targetScope.sources.add(new Source("excluded", null, "excluded", true, t.columns, false));
            updateSets(list(conflict, "targetList"), targetScope, ref);
            where(conflict.path("whereClause"), targetScope, "WHERE");
        }
        return returning(ins, targetScope, ref);
    }

    private List<Col> update(JsonNode u, Scope outer, Ctes outerCtes) {
        facts.operations.add(Operation.UPDATE);
        facts.unfilteredWrite |= !u.has("whereClause");
        Ctes ctes = withClause(u.path("withClause"), outer, outerCtes);
        Scope sc = new Scope(outer, ctes);
        target(sc, u.path("relation"));
        for (JsonNode f : list(u, "fromClause")) {
            from(sc, f);
        }
        TableRef ref = ref(u.path("relation"));
        updateSets(list(u, "targetList"), sc, ref);
        where(u.path("whereClause"), sc, "WHERE");
        return returning(u, sc, ref);
    }

    private List<Col> delete(JsonNode d, Scope outer, Ctes outerCtes) {
        facts.operations.add(Operation.DELETE);
        facts.unfilteredWrite |= !d.has("whereClause");
        Ctes ctes = withClause(d.path("withClause"), outer, outerCtes);
        Scope sc = new Scope(outer, ctes);
        target(sc, d.path("relation"));
        for (JsonNode f : list(d, "usingClause")) {
            from(sc, f);
        }
        where(d.path("whereClause"), sc, "WHERE");
        return returning(d, sc, ref(d.path("relation")));
    }

    private List<Col> merge(JsonNode m, Scope outer, Ctes outerCtes) {
        facts.operations.add(Operation.SELECT);
        Ctes ctes = withClause(m.path("withClause"), outer, outerCtes);
        Scope sc = new Scope(outer, ctes);
        target(sc, m.path("relation"));
        TableRef ref = ref(m.path("relation"));
        from(sc, m.path("sourceRelation"));
        expressions.value(m.path("joinCondition"), sc, "JOIN");
        for (JsonNode w : list(m, "mergeWhenClauses")) {
            JsonNode c = body(w);
            expressions.value(c.path("condition"), sc, "WHEN");
            switch (String.valueOf(text(c, "commandType"))) {
                case "CMD_INSERT" -> {
                    facts.operations.add(Operation.INSERT);
                    facts.copiesQuery = true;
                    for (JsonNode v : list(c, "values")) {
                        expressions.value(v, sc, null);
                    }
                }
                case "CMD_UPDATE" -> {
                    facts.operations.add(Operation.UPDATE);
                    updateSets(list(c, "targetList"), sc, ref);
                }
                case "CMD_DELETE" -> facts.operations.add(Operation.DELETE);
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
    private void updateSets(List<JsonNode> targets, Scope sc, TableRef target) {
        for (JsonNode t : targets) {
            JsonNode rt = body(t);
            JsonNode val = rt.path("val");
            Lin lin;
            if (is(val, "MultiAssignRef")) {
                JsonNode source = body(val).path("source");
                int colno = body(val).path("colno").asInt(1);
                List<JsonNode> args = is(source, "RowExpr") ? list(body(source), "args") : List.of();
                lin = colno >= 1 && colno <= args.size() ? expressions.value(args.get(colno - 1), sc, null)
                        : expressions.value(source, sc, null);
            } else {
                lin = expressions.value(val, sc, null);
            }
            for (JsonNode ind : list(rt, "indirection")) {
                expressions.value(ind, sc, null);
            }
            ColumnRef to = new ColumnRef(target.schema(), target.table(), text(rt, "name"));
            facts.columnWrites.add(new StatementAnalysis.ColumnWrite(to, Set.copyOf(lin.sources)));
        }
    }

    private List<Col> returning(JsonNode stmt, Scope sc, TableRef target) {
        List<JsonNode> items = list(stmt, "returningList");
        if (items.isEmpty()) {
            return List.of();
        }
        facts.reads.add(target);
        List<Col> out = new ArrayList<>();
        for (JsonNode item : items) {
            target(body(item), sc, out);
        }
        return out;
    }

    // ---- names -------------------------------------------------------------------------------------------------

    /** A RangeVar's relation as the catalog knows it, or with schema {@code ?} when it does not. */
    TableRef ref(JsonNode rangeVar) {
        String schema = text(rangeVar, "schemaname");
        String name = text(rangeVar, "relname");
        return catalog.relation(schema, name).map(Relation::ref)
                .orElse(new TableRef(schema == null ? "?" : schema, name));
    }

    /** Records a call; returns true when the function hides lineage. */
    boolean call(String schema, String name) {
        if (name == null) {
            return true;
        }
        facts.functions.add(new FunctionCall(schema, name));
        if (catalog.isTransparentFunction(schema, name)) {
            return false;
        }
        facts.operations.add(Operation.FUNCTION);
        facts.opaqueFunctions.add(schema == null ? name : schema + "." + name);
        return true;
    }

    /** {@code COPY table (columns) TO}: the table's rows, as {@code SELECT columns FROM table} would give them. */
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

    /** A subquery in an expression: its outputs, resolved with the enclosing query's scope as outer. */
    List<Col> subquery(JsonNode selectNode, Scope sc) {
        return statement(selectNode, sc, sc == null ? null : sc.ctes);
    }
}
