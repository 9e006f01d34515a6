package io.phigate.sql;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.AnalyticType;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.TrimFunction;
import net.sf.jsqlparser.expression.RowGetExpression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.ReturningClause;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.delete.ParenthesedDelete;
import net.sf.jsqlparser.statement.insert.ParenthesedInsert;
import net.sf.jsqlparser.statement.update.ParenthesedUpdate;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.InsertConflictAction;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.merge.MergeDelete;
import net.sf.jsqlparser.statement.merge.MergeInsert;
import net.sf.jsqlparser.statement.merge.MergeOperation;
import net.sf.jsqlparser.statement.merge.MergeUpdate;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.select.TableStatement;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Follows one parsed statement's values from its result columns back to base-table columns, and collects what
 * it reads, writes and calls. One instance per statement analysis; not thread-safe. Everything it cannot follow
 * comes out {@code opaque}, which callers treat as "could be any PHI".
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
        boolean copiesQuery;

        void addAll(Facts f) {
            operations.addAll(f.operations);
            reads.addAll(f.reads);
            writes.addAll(f.writes);
            opaqueFunctions.addAll(f.opaqueFunctions);
            columnWrites.addAll(f.columnWrites);
            copiesQuery |= f.copiesQuery;
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

    /**
     * Names the grammar treats as functions that are not catalog functions and only combine their arguments: among
     * them the array comparisons {@code x = ANY (array)}, which JSqlParser reads as a call named ANY.
     */
    private static final Set<String> SYNTAX_FUNCTIONS = Set.of("row", "coalesce", "nullif", "greatest", "least",
            "array", "any", "all", "some");
    /** Built-in keywords a bare name may be, which carry no column value. */
    private static final Set<String> PSEUDO_COLUMNS = Set.of("current_user", "session_user", "user", "current_role",
            "current_schema", "current_catalog", "current_date", "current_time", "current_timestamp", "localtime",
            "localtimestamp", "true", "false", "null", "default");
    /** Aggregates whose result is a count, never an argument's value. */
    private static final Set<String> COUNTING = Set.of("count");

    final Facts facts = new Facts();
    /**
     * The names column references used (the column's and its qualifier's) in the expression being analysed, its
     * subqueries included, for the safety net in {@link #expression}: a name in an output expression that no visit
     * of that expression reached means JSqlParser hid part of it from its visitor. Per expression, because a
     * sibling's visit proves nothing: in {@code SELECT lower(ssn), json_object('k' VALUE ssn)} the second ssn is
     * hidden although the first was seen.
     */
    private Set<String> visitedNames = new java.util.HashSet<>();
    private final Catalog catalog;
    private final Views views;
    private final int viewDepth;
    private int depth;

    Lineage(Catalog catalog, Views views, int viewDepth) {
        this.catalog = catalog;
        this.views = views;
        this.viewDepth = viewDepth;
    }

    // ---- name resolution state -------------------------------------------------------------------------------

    /** Common table expressions visible at a point; {@code null} columns while a recursive one is being solved. */
    private static final class Ctes {
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
    private static final List<Col> PENDING = List.of();

    /** A FROM item in scope. {@code columns} null when the relation is unknown. */
    private record Source(String alias, String schema, String table, boolean aliased, List<Col> columns,
                          boolean pending) {
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

    private static final class Scope {
        final Scope parent;
        final Ctes ctes;
        final List<Source> sources = new ArrayList<>();
        /** What {@code *} expands to, in PostgreSQL's order (USING/NATURAL columns merged and first). */
        List<Col> star = new ArrayList<>();
        final Map<String, Lin> merged = new HashMap<>();

        Scope(Scope parent, Ctes ctes) {
            this.parent = parent;
            this.ctes = ctes;
        }
    }

    // ---- statements ------------------------------------------------------------------------------------------

    /** The statement's result columns (empty for one that returns none). */
    List<Col> statement(Statement st) {
        return switch (st) {
            case Select s -> {
                facts.operations.add(Operation.SELECT);
                yield select(s, null, null);
            }
            case Insert i -> insert(i);
            case Update u -> update(u);
            case Delete d -> delete(d);
            case Merge m -> merge(m);
            default -> throw new IllegalArgumentException("not a query: " + st.getClass().getSimpleName());
        };
    }

    List<Col> select(Select s, Scope outer, Ctes ctes) {
        if (++depth > MAX_QUERY_DEPTH) {
            throw new IllegalArgumentException("query nested too deeply");
        }
        try {
            Ctes inner = withItems(s.getWithItemsList(), outer, ctes);
            List<Col> cols = switch (s) {
                case PlainSelect ps -> plain(ps, outer, inner);
                case SetOperationList sol -> setOperation(sol, outer, inner);
                case ParenthesedSelect ps -> select(ps.getSelect(), outer, inner);
                case Values v -> values(v, outer, inner);
                case TableStatement t -> {
                    Scope sc = new Scope(outer, inner);
                    addFrom(sc, t.getTable());
                    yield List.copyOf(sc.star);
                }
                default -> List.of(new Col("?column?", Lin.OPAQUE));
            };
            if (s instanceof SetOperationList sol && sol.getOrderByElements() != null) {
                Scope sc = new Scope(outer, inner);
                sc.star = new ArrayList<>(cols);
                for (OrderByElement o : sol.getOrderByElements()) {
                    walk(o.getExpression(), sc);
                }
            }
            return cols;
        } finally {
            depth--;
        }
    }

    private Ctes withItems(List<WithItem<?>> items, Scope outer, Ctes ctes) {
        if (items == null || items.isEmpty()) {
            return ctes;
        }
        Ctes env = new Ctes(ctes);
        for (WithItem<?> w : items) {
            String name = fold(w.getAlias() == null ? w.getAliasName() : w.getAlias().getName());
            List<String> names = new ArrayList<>();
            if (w.getWithItemList() != null) {
                for (SelectItem<?> si : w.getWithItemList()) {
                    names.add(fold(si.getExpression() instanceof Column c ? c.getColumnName() : si.toString()));
                }
            }
            if (w.isRecursive()) {
                env.byName.put(name, null);
                List<Col> cols = renamed(withBody(w, outer, env), names);
                for (int pass = 1; pass < MAX_RECURSIVE_PASSES; pass++) {
                    env.byName.put(name, cols);
                    List<Col> next = merge(cols, renamed(withBody(w, outer, env), names));
                    if (next.equals(cols)) {
                        break;
                    }
                    cols = next;
                }
                env.byName.put(name, cols);
            } else {
                env.byName.put(name, renamed(withBody(w, outer, env), names));
            }
        }
        return env;
    }

    private List<Col> withBody(WithItem<?> w, Scope outer, Ctes env) {
        // The typed getters cast blindly; the body's own class says which it is.
        return switch (w.getParenthesedStatement()) {
            case ParenthesedSelect s -> select(s, outer, env);
            case ParenthesedInsert i -> insert(i.getInsert());
            case ParenthesedUpdate u -> update(u.getUpdate());
            case ParenthesedDelete d -> delete(d.getDelete());
            case null, default -> List.of(new Col("?column?", Lin.OPAQUE));
        };
    }

    /** Position-wise union of two column lists, as for the branches of a UNION. */
    private static List<Col> merge(List<Col> a, List<Col> b) {
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

    private List<Col> setOperation(SetOperationList sol, Scope outer, Ctes ctes) {
        List<Col> cols = null;
        for (Select branch : sol.getSelects()) {
            List<Col> c = select(branch, outer, ctes);
            cols = cols == null ? c : merge(cols, c);
        }
        return cols == null ? List.of() : cols;
    }

    private List<Col> values(Values v, Scope outer, Ctes ctes) {
        Scope sc = new Scope(outer, ctes);
        List<List<Lin>> rows = new ArrayList<>();
        ExpressionList<?> list = v.getExpressions();
        if (list != null) {
            for (Expression e : list) {
                List<Lin> row = new ArrayList<>();
                if (e instanceof ExpressionList<?> inner) {
                    for (Expression x : inner) {
                        row.add(expression(x, sc));
                    }
                } else {
                    row.add(expression(e, sc));
                }
                rows.add(row);
            }
        }
        List<Col> cols = new ArrayList<>();
        for (List<Lin> row : rows) {
            List<Col> rc = new ArrayList<>();
            for (int i = 0; i < row.size(); i++) {
                rc.add(new Col("column" + (i + 1), row.get(i)));
            }
            cols = cols.isEmpty() ? rc : merge(cols, rc);
        }
        return cols;
    }

    private List<Col> plain(PlainSelect ps, Scope outer, Ctes ctes) {
        Scope sc = new Scope(outer, ctes);
        if (ps.getFromItem() != null) {
            addFrom(sc, ps.getFromItem());
        }
        joins(sc, ps.getJoins());
        List<Col> out = new ArrayList<>();
        for (SelectItem<?> item : ps.getSelectItems()) {
            selectItem(item, sc, out);
        }
        walk(ps.getWhere(), sc);
        walk(ps.getHaving(), sc);
        walk(ps.getQualify(), sc);
        if (ps.getGroupBy() != null && ps.getGroupBy().getGroupByExpressionList() != null) {
            for (Object e : ps.getGroupBy().getGroupByExpressionList()) {
                if (e instanceof Expression x) {
                    walk(x, sc);
                }
            }
        }
        if (ps.getOrderByElements() != null) {
            for (OrderByElement o : ps.getOrderByElements()) {
                walk(o.getExpression(), sc);
            }
        }
        if (ps.getDistinct() != null && ps.getDistinct().getOnSelectItems() != null) {
            for (SelectItem<?> si : ps.getDistinct().getOnSelectItems()) {
                walk(si.getExpression(), sc);
            }
        }
        if (ps.getForMode() != null) {
            // Row locks need UPDATE privilege in PostgreSQL, and hold other sessions' writes until commit.
            facts.operations.add(Operation.UPDATE);
        }
        if (ps.getIntoTables() != null && !ps.getIntoTables().isEmpty()) {
            // SELECT INTO creates a table from the result: PHI copied somewhere no masking rule names.
            for (Table t : ps.getIntoTables()) {
                facts.writes.add(ref(t));
            }
            facts.operations.add(Operation.DDL);
            facts.copiesQuery = true;
        }
        return out;
    }

    private void joins(Scope sc, List<Join> joins) {
        if (joins == null) {
            return;
        }
        for (Join j : joins) {
            List<Col> leftStar = new ArrayList<>(sc.star);
            int before = sc.sources.size();
            addFrom(sc, j.getRightItem());
            List<Col> rightStar = sc.star.subList(leftStar.size(), sc.star.size());
            List<String> using = new ArrayList<>();
            if (j.getUsingColumns() != null && !j.getUsingColumns().isEmpty()) {
                for (Column c : j.getUsingColumns()) {
                    using.add(fold(c.getColumnName()));
                }
            } else if (j.isNatural()) {
                for (Col r : rightStar) {
                    if (leftStar.stream().anyMatch(l -> l.name.equals(r.name))) {
                        using.add(r.name);
                    }
                }
            }
            if (!using.isEmpty() && sc.sources.size() > before) {
                List<Col> merged = new ArrayList<>();
                List<Col> left = new ArrayList<>(leftStar);
                List<Col> right = new ArrayList<>(rightStar);
                for (String u : using) {
                    List<Lin> both = new ArrayList<>();
                    take(left, u).ifPresent(both::add);
                    take(right, u).ifPresent(both::add);
                    Lin lin = Lin.union(both);
                    merged.add(new Col(u, lin));
                    sc.merged.put(u, lin);
                }
                merged.addAll(left);
                merged.addAll(right);
                sc.star = merged;
            }
            if (j.getOnExpressions() != null) {
                for (Expression on : j.getOnExpressions()) {
                    walk(on, sc);
                }
            }
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

    /** Adds one FROM item's relations to the scope. Function calls and subqueries see the items left of them. */
    private void addFrom(Scope sc, FromItem item) {
        switch (item) {
            case Table t -> {
                String schema = t.getSchemaName() == null ? null : fold(t.getSchemaName());
                String name = fold(t.getName());
                Optional<List<Col>> cte = schema == null ? sc.ctes == null ? Optional.empty() : sc.ctes.find(name)
                        : Optional.empty();
                String alias = t.getAlias() == null ? name : fold(t.getAlias().getName());
                boolean aliased = t.getAlias() != null;
                if (cte.isPresent()) {
                    boolean pending = cte.get() == PENDING;
                    List<Col> cols = renamed(cte.get(), aliasColumns(t.getAlias()));
                    add(sc, new Source(alias, null, name, aliased, cols, pending));
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
                List<Col> cols = relationColumns(r);
                add(sc, new Source(alias, r.schema(), r.name(), aliased, renamed(cols, aliasColumns(t.getAlias())),
                        false));
            }
            case ParenthesedSelect ps -> {
                List<Col> cols = select(ps.getSelect(), sc, sc.ctes);
                String alias = ps.getAlias() == null ? "?subquery?" : fold(ps.getAlias().getName());
                add(sc, new Source(alias, null, alias, true, renamed(cols, aliasColumns(ps.getAlias())), false));
            }
            case TableFunction tf -> {
                Lin lin = expression(tf.getFunction(), sc).indirect();
                String alias = tf.getAlias() != null ? fold(tf.getAlias().getName())
                        : fold(last(tf.getFunction().getMultipartName()));
                List<String> names = aliasColumns(tf.getAlias());
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
            case Values v -> {
                List<Col> cols = values(v, sc, sc.ctes);
                String alias = v.getAlias() == null ? "*values*" : fold(v.getAlias().getName());
                add(sc, new Source(alias, null, alias, true, renamed(cols, aliasColumns(v.getAlias())), false));
            }
            case ParenthesedFromItem pf -> {
                Scope inner = new Scope(sc, sc.ctes);
                addFrom(inner, pf.getFromItem());
                joins(inner, pf.getJoins());
                if (pf.getAlias() != null) {
                    // An aliased join or VALUES list is one relation whose columns are the inner star.
                    String alias = fold(pf.getAlias().getName());
                    add(sc, new Source(alias, null, alias, true, renamed(inner.star, aliasColumns(pf.getAlias())),
                            false));
                } else {
                    sc.sources.addAll(inner.sources);
                    sc.star.addAll(inner.star);
                    sc.merged.putAll(inner.merged);
                }
            }
            default -> {
                String alias = item.getAlias() == null ? "?" : fold(item.getAlias().getName());
                add(sc, new Source(alias, null, alias, true, null, false));
            }
        }
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
            facts.reads.addAll(info.facts.reads);
            facts.opaqueFunctions.addAll(info.facts.opaqueFunctions);
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

    private static List<String> aliasColumns(Alias a) {
        if (a == null || a.getAliasColumns() == null) {
            return List.of();
        }
        return a.getAliasColumns().stream().map(c -> fold(c.name)).toList();
    }

    private static List<Col> renamed(List<Col> cols, List<String> names) {
        if (names.isEmpty() || cols == PENDING) {
            return cols;
        }
        List<Col> out = new ArrayList<>();
        for (int i = 0; i < cols.size(); i++) {
            out.add(i < names.size() ? new Col(names.get(i), cols.get(i).lin) : cols.get(i));
        }
        return out;
    }

    private void selectItem(SelectItem<?> item, Scope sc, List<Col> out) {
        Expression e = item.getExpression();
        if (e instanceof AllColumns && !(e instanceof AllTableColumns)) {
            out.addAll(sc.star);
            return;
        }
        if (e instanceof AllTableColumns atc) {
            Optional<Source> s = findSource(sc, atc.getTable());
            if (s.isEmpty() || s.get().columns == null) {
                out.add(new Col("*", Lin.OPAQUE));
            } else if (!s.get().pending) {
                out.addAll(s.get().columns);
            }
            return;
        }
        String name = item.getAlias() != null ? fold(item.getAlias().getName()) : label(e);
        out.add(new Col(name, expression(e, sc)));
    }

    /** The column label PostgreSQL gives an unaliased expression. */
    private static String label(Expression e) {
        return switch (e) {
            case Column c -> fold(c.getColumnName());
            case CastExpression c when c.getLeftExpression() instanceof Column col -> fold(col.getColumnName());
            case Function f when f.getMultipartName() != null && !f.getMultipartName().isEmpty() ->
                    fold(last(f.getMultipartName()));
            case AnalyticExpression a -> fold(a.getName());
            case RowGetExpression r -> fold(r.getColumnName());
            // A scalar subquery is labelled by its own single column, as PostgreSQL's FigureColname does.
            case ParenthesedSelect ps when ps.getSelect() instanceof PlainSelect inner
                    && inner.getSelectItems().size() == 1 -> {
                SelectItem<?> only = inner.getSelectItems().getFirst();
                yield only.getAlias() != null ? fold(only.getAlias().getName()) : label(only.getExpression());
            }
            default -> "?column?";
        };
    }

    // ---- DML ---------------------------------------------------------------------------------------------------

    private List<Col> insert(Insert ins) {
        facts.operations.add(Operation.INSERT);
        int readsBefore = facts.reads.size();
        Ctes ctes = withItems(ins.getWithItemsList(), null, null);
        TableRef target = ref(ins.getTable());
        facts.writes.add(target);
        if (ins.getSelect() != null) {
            Select src = ins.getSelect();
            select(src, null, ctes);
            if (!(src instanceof Values) || facts.reads.size() > readsBefore) {
                // INSERT ... SELECT stores a query's result in a table the masking rules may not cover.
                facts.copiesQuery = true;
            }
        }
        if (facts.reads.size() > readsBefore) {
            facts.operations.add(Operation.SELECT);
        }
        InsertConflictAction action = ins.getConflictAction();
        Scope targetScope = new Scope(null, ctes);
        boolean hadTarget = facts.reads.contains(target);
        addFrom(targetScope, ins.getTable());
        removeRead(target, hadTarget);
        if (action != null && action.getUpdateSets() != null && !action.getUpdateSets().isEmpty()) {
            facts.operations.add(Operation.UPDATE);
            Source t = targetScope.sources.getFirst();
            // EXCLUDED is the row proposed for insertion, shaped like the target.
            targetScope.sources.add(new Source("excluded", null, "excluded", true, t.columns, false));
            updateSets(action.getUpdateSets(), targetScope, target);
            walk(action.getWhereExpression(), targetScope);
        }
        return returning(ins.getReturningClause(), targetScope, target);
    }

    private List<Col> update(Update u) {
        facts.operations.add(Operation.UPDATE);
        Ctes ctes = withItems(u.getWithItemsList(), null, null);
        TableRef target = ref(u.getTable());
        facts.writes.add(target);
        Scope sc = new Scope(null, ctes);
        boolean hadTarget = facts.reads.contains(target);
        addFrom(sc, u.getTable());
        removeRead(target, hadTarget);
        if (u.getFromItem() != null) {
            addFrom(sc, u.getFromItem());
        }
        joins(sc, u.getJoins());
        updateSets(u.getUpdateSets(), sc, target);
        walk(u.getWhere(), sc);
        return returning(u.getReturningClause(), sc, target);
    }

    private List<Col> delete(Delete d) {
        facts.operations.add(Operation.DELETE);
        Ctes ctes = withItems(d.getWithItemsList(), null, null);
        TableRef target = ref(d.getTable());
        facts.writes.add(target);
        Scope sc = new Scope(null, ctes);
        boolean hadTarget = facts.reads.contains(target);
        addFrom(sc, d.getTable());
        removeRead(target, hadTarget);
        if (d.getUsingList() != null) {
            for (Table t : d.getUsingList()) {
                addFrom(sc, t);
            }
        }
        joins(sc, d.getJoins());
        walk(d.getWhere(), sc);
        return returning(d.getReturningClause(), sc, target);
    }

    private List<Col> merge(Merge m) {
        facts.operations.add(Operation.SELECT);
        Ctes ctes = withItems(m.getWithItemsList(), null, null);
        TableRef target = ref(m.getTable());
        facts.writes.add(target);
        Scope sc = new Scope(null, ctes);
        boolean hadTarget = facts.reads.contains(target);
        addFrom(sc, m.getTable());
        removeRead(target, hadTarget);
        if (m.getFromItem() != null) {
            addFrom(sc, m.getFromItem());
        }
        walk(m.getOnCondition(), sc);
        if (m.getOperations() != null) {
            for (MergeOperation op : m.getOperations()) {
                switch (op) {
                    case MergeInsert mi -> {
                        facts.operations.add(Operation.INSERT);
                        facts.copiesQuery = true;
                        walk(mi.getValues(), sc);
                        walk(mi.getWhereCondition(), sc);
                    }
                    case MergeUpdate mu -> {
                        facts.operations.add(Operation.UPDATE);
                        updateSets(mu.getUpdateSets(), sc, target);
                        walk(mu.getWhereCondition(), sc);
                    }
                    case MergeDelete md -> {
                        facts.operations.add(Operation.DELETE);
                        walk(md.getAndPredicate(), sc);
                    }
                    default -> facts.operations.add(Operation.UPDATE);
                }
            }
        }
        return List.of();
    }

    /** A DML target is written; it counts as read only when the statement hands its rows back (RETURNING). */
    private void removeRead(TableRef target, boolean hadTarget) {
        if (!hadTarget) {
            facts.reads.remove(target);
        }
    }

    /**
     * Each SET target with the lineage of its new value, so that masking can refuse an UPDATE that moves a PHI value
     * into a column tagged for something else, or for nothing, in the same table: {@code SET state = ssn} would
     * make the next {@code SELECT state} return the SSN as stored. {@code SET (a, b) = (SELECT ...)} and any other
     * shape whose values do not pair with its columns gives every target the union of all its values' sources.
     */
    private void updateSets(List<UpdateSet> sets, Scope sc, TableRef target) {
        if (sets == null) {
            return;
        }
        for (UpdateSet s : sets) {
            List<Set<ColumnRef>> values = new ArrayList<>();
            if (s.getValues() != null) {
                for (Expression e : s.getValues()) {
                    values.add(expression(e, sc).sources);
                }
            }
            List<Column> columns = s.getColumns() == null ? List.of() : s.getColumns();
            Set<ColumnRef> all = new LinkedHashSet<>();
            values.forEach(all::addAll);
            for (int i = 0; i < columns.size(); i++) {
                Set<ColumnRef> from = values.size() == columns.size() ? values.get(i) : all;
                ColumnRef to = new ColumnRef(target.schema(), target.table(), fold(columns.get(i).getColumnName()));
                facts.columnWrites.add(new StatementAnalysis.ColumnWrite(to, Set.copyOf(from)));
            }
        }
    }

    private List<Col> returning(ReturningClause r, Scope sc, TableRef target) {
        if (r == null || r.isEmpty()) {
            return List.of();
        }
        facts.reads.add(target);
        List<Col> out = new ArrayList<>();
        for (SelectItem<?> item : r) {
            selectItem(item, sc, out);
        }
        return out;
    }

    // ---- expressions -------------------------------------------------------------------------------------------

    /** The lineage of a value expression; a plain column reference keeps its column's directness. */
    private Lin expression(Expression e, Scope sc) {
        if (e instanceof Column c) {
            visited(c);
            return column(c, sc);
        }
        Set<String> enclosing = visitedNames;
        visitedNames = new java.util.HashSet<>();
        try {
            Collector col = new Collector(sc);
            e.accept(col, null);
            Set<ColumnRef> sources = col.sources;
            Set<ColumnRef> missed = unvisitedColumns(e, sc);
            if (!missed.isEmpty()) {
                sources = new LinkedHashSet<>(sources);
                sources.addAll(missed);
            }
            return new Lin(sources, false, col.opaque);
        } finally {
            enclosing.addAll(visitedNames); // what a subquery's items used, its enclosing expression used too
            visitedNames = enclosing;
        }
    }

    /**
     * The columns an output expression names that no visit reached. JSqlParser keeps some arguments where its
     * visitor adapter does not look (substring(x FROM a FOR b), trim(LEADING c FROM x), an ordered-set aggregate's
     * WITHIN GROUP ordering were all found that way, each a value reaching the client unmasked). This reads the
     * expression's own text instead: every name in it that is a column or a row alias in scope, was not used by
     * any column reference the visitors saw, and is not a function's name, counts as a source. It can only add
     * sources, so the worst it does is mask a value that needed none: a subquery that names the outer query's
     * unaliased table ({@code SELECT (SELECT count(*) FROM patients) FROM patients}) reads as a whole-row
     * reference. Relation names are not excluded, because a row alias is a value: json_object('k' VALUE p) is
     * the whole row p.
     */
    private Set<ColumnRef> unvisitedColumns(Expression e, Scope sc) {
        List<Lexer.Token> t = Lexer.tokens(e.toString());
        Set<ColumnRef> out = new LinkedHashSet<>();
        Lin nothing = unresolved(sc);
        for (int i = 0; i < t.size(); i++) {
            Lexer.Token k = t.get(i);
            if (!k.isName() || visitedNames.contains(k.value())
                    || (i + 1 < t.size() && t.get(i + 1).isSymbol("("))) {
                continue;
            }
            Lin l = unqualified(k.value(), sc);
            if (!l.equals(nothing) && l != Lin.OPAQUE) {
                out.addAll(l.sources);
            }
        }
        return out;
    }

    /** Expressions that filter or order rows: their reads and calls count, their values do not reach the result. */
    private void walk(Expression e, Scope sc) {
        if (e != null) {
            e.accept(new Collector(sc), null);
        }
    }

    private Lin column(Column c, Scope sc) {
        String name = fold(c.getColumnName());
        Table qualifier = c.getTable();
        boolean subscripted = c.getArrayConstructor() != null;
        Lin lin;
        if (qualifier != null && qualifier.getName() != null && !qualifier.getName().isEmpty()) {
            lin = qualified(qualifier, name, sc);
        } else {
            lin = unqualified(name, sc);
        }
        return subscripted ? lin.indirect() : lin;
    }

    private Lin qualified(Table qualifier, String name, Scope sc) {
        Optional<Source> src = findSource(sc, qualifier);
        if (src.isPresent()) {
            Source s = src.get();
            if (s.columns == null) {
                return Lin.OPAQUE;
            }
            return s.column(name).orElseGet(() -> {
                // Not a column of that relation: a field of a composite value we do not model.
                Lin whole = s.wholeRow();
                return new Lin(whole.sources, false, true);
            });
        }
        if (qualifier.getSchemaName() == null) {
            // "x.f" where x is a column of composite type rather than a relation.
            Lin asColumn = unqualified(fold(qualifier.getName()), sc);
            if (!asColumn.equals(unresolved(sc))) {
                return new Lin(asColumn.sources, false, true);
            }
        }
        return unresolved(sc);
    }

    private Lin unqualified(String name, Scope sc) {
        for (Scope s = sc; s != null; s = s.parent) {
            Lin merged = s.merged.get(name);
            if (merged != null) {
                return merged;
            }
            List<Lin> candidates = new ArrayList<>();
            boolean unknownHere = false;
            for (Source src : s.sources) {
                src.column(name).ifPresent(candidates::add);
                unknownHere |= src.columns == null;
            }
            if (candidates.size() == 1) {
                return candidates.getFirst();
            }
            if (candidates.size() > 1) {
                return Lin.union(candidates);
            }
            if (unknownHere) {
                return Lin.OPAQUE;
            }
            for (Source src : s.sources) {
                if (src.alias.equals(name)) {
                    return src.wholeRow();
                }
            }
        }
        if (PSEUDO_COLUMNS.contains(name)) {
            return Lin.NONE;
        }
        return unresolved(sc);
    }

    private void visited(Column c) {
        visitedNames.add(fold(c.getColumnName()));
        if (c.getTable() != null && c.getTable().getName() != null) {
            visitedNames.add(fold(c.getTable().getName()));
        }
    }

    /** A name nothing in scope defines: it may be any of them, and we cannot say which. */
    private static Lin unresolved(Scope sc) {
        List<Lin> all = new ArrayList<>();
        if (sc != null) {
            for (Source s : sc.sources) {
                all.add(s.wholeRow());
            }
        }
        Lin u = Lin.union(all);
        return new Lin(u.sources, false, true);
    }

    private static Optional<Source> findSource(Scope sc, Table qualifier) {
        if (qualifier == null || qualifier.getName() == null) {
            return Optional.empty();
        }
        String name = fold(qualifier.getName());
        String schema = qualifier.getSchemaName() == null ? null : fold(qualifier.getSchemaName());
        for (Scope s = sc; s != null; s = s.parent) {
            for (Source src : s.sources) {
                boolean match = schema == null
                        ? src.alias.equals(name)
                        : !src.aliased && name.equals(src.table) && schema.equals(src.schema);
                if (match) {
                    return Optional.of(src);
                }
            }
        }
        return Optional.empty();
    }

    /** Records a call; returns true when the function hides lineage. */
    private boolean call(List<String> parts, String asWritten) {
        if (parts == null || parts.isEmpty()) {
            return true;
        }
        String name = fold(last(parts));
        String schema = parts.size() > 1 ? fold(parts.get(parts.size() - 2)) : null;
        if (schema == null && SYNTAX_FUNCTIONS.contains(name)) {
            return false;
        }
        if (catalog.isTransparentFunction(schema, name)) {
            return false;
        }
        facts.operations.add(Operation.FUNCTION);
        facts.opaqueFunctions.add(asWritten);
        return true;
    }

    /** Gathers every column and whole-row reference under an expression, and notes opaque calls and subqueries. */
    private final class Collector extends ExpressionVisitorAdapter<Void> {
        final Scope sc;
        final Set<ColumnRef> sources = new LinkedHashSet<>();
        boolean opaque;

        Collector(Scope sc) {
            this.sc = sc;
        }

        private void add(Lin l) {
            sources.addAll(l.sources);
            opaque |= l.opaque;
        }

        @Override
        public <S> Void visit(Column column, S context) {
            visited(column);
            add(column(column, sc));
            return null;
        }

        @Override
        public <S> Void visit(Function f, S context) {
            List<String> parts = f.getMultipartName();
            if (call(parts, f.getName())) {
                opaque = true;
            }
            if (parts != null && !parts.isEmpty() && parts.size() == 1 && COUNTING.contains(fold(last(parts)))) {
                // A count reveals how many, not what; its argument still reads what it reads.
                Collector quiet = new Collector(sc);
                if (f.getParameters() != null) {
                    f.getParameters().accept(quiet, context);
                }
                if (f.getNamedParameters() != null) {
                    f.getNamedParameters().accept(quiet, context);
                }
                opaque |= quiet.opaque;
                return null;
            }
            if (f.getNamedParameters() != null) {
                // SQL-standard call syntax: substring(x FROM a FOR b), overlay(x PLACING y FROM a), position(a IN x).
                // JSqlParser keeps those arguments apart from the ordinary ones, where its adapter does not look.
                f.getNamedParameters().accept(this, context);
            }
            return super.visit(f, context);
        }

        @Override
        public <S> Void visit(TrimFunction t, S context) {
            // trim([LEADING|TRAILING|BOTH] [chars] FROM x): the adapter skips the FROM operand, and fails on a
            // TRIM with no characters (trim(BOTH FROM x)).
            if (t.getExpression() != null) {
                t.getExpression().accept(this, context);
            }
            if (t.getFromExpression() != null) {
                t.getFromExpression().accept(this, context);
            }
            return null;
        }

        @Override
        public <S> Void visit(AnalyticExpression a, S context) {
            if (call(List.of(a.getName()), a.getName())) {
                opaque = true;
            }
            if (COUNTING.contains(fold(a.getName()))) {
                return null;
            }
            if (a.getType() == AnalyticType.WITHIN_GROUP && a.getOrderByElements() != null) {
                // An ordered-set aggregate returns a value of its WITHIN GROUP ordering: percentile_disc(0.5)
                // WITHIN GROUP (ORDER BY last_name) is a last name, mode() WITHIN GROUP (ORDER BY ssn) an SSN.
                // JSqlParser's adapter walks that list as a window's ordering, which carries no values, so it is
                // walked here.
                for (OrderByElement o : a.getOrderByElements()) {
                    o.getExpression().accept(this, context);
                }
            }
            return super.visit(a, context);
        }

        @Override
        public <S> Void visit(RowGetExpression r, S context) {
            Expression inner = r.getExpression();
            while (inner instanceof ParenthesedExpressionList<?> pl && pl.size() == 1) {
                inner = pl.getFirst();
            }
            if (inner instanceof Column c && c.getTable() == null) {
                visited(c);
                String alias = fold(c.getColumnName());
                for (Scope s = sc; s != null; s = s.parent) {
                    for (Source src : s.sources) {
                        if (src.alias.equals(alias) && src.column(alias).isEmpty()) {
                            add(src.column(fold(r.getColumnName())).orElse(src.wholeRow()));
                            return null;
                        }
                    }
                }
            }
            add(Lin.OPAQUE.indirect());
            return super.visit(r, context);
        }

        @Override
        public <S> Void visit(AllTableColumns all, S context) {
            if (all.getTable() != null && all.getTable().getName() != null) {
                visitedNames.add(fold(all.getTable().getName()));
            }
            Optional<Source> s = findSource(sc, all.getTable());
            add(s.map(Source::wholeRow).orElse(Lin.OPAQUE));
            return null;
        }

        @Override
        public <S> Void visit(AllColumns all, S context) {
            if (!(all instanceof AllTableColumns)) {
                for (Source s : sc.sources) {
                    add(s.wholeRow());
                }
                return null;
            }
            return visit((AllTableColumns) all, context);
        }

        @Override
        public <S> Void visit(ParenthesedSelect ps, S context) {
            for (Col c : select(ps.getSelect(), sc, sc.ctes)) {
                add(c.lin);
            }
            return null;
        }

        @Override
        public <S> Void visit(Select s, S context) {
            for (Col c : select(s, sc, sc.ctes)) {
                add(c.lin);
            }
            return null;
        }
    }

    // ---- names -------------------------------------------------------------------------------------------------

    TableRef ref(Table t) {
        String schema = t.getSchemaName() == null ? null : fold(t.getSchemaName());
        String name = fold(t.getName());
        return catalog.relation(schema, name).map(Relation::ref)
                .orElse(new TableRef(schema == null ? "?" : schema, name));
    }

    private static String last(List<String> parts) {
        return parts.get(parts.size() - 1);
    }

    /** PostgreSQL's folding: unquoted names in lower case, quoted ones as written without the quotes. */
    static String fold(String name) {
        if (name == null) {
            return null;
        }
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
            return name.substring(1, name.length() - 1).replace("\"\"", "\"");
        }
        return name.toLowerCase(Locale.ROOT);
    }
}
