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
 * Queries, FROM items and scopes live here; INSERT, UPDATE, DELETE and MERGE in {@link Dml}; the expressions
 * inside them are read by {@link Expressions}. One instance per
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
        /** A write's own target whose stored rows it reads (a WHERE, a SET value): the server asks SELECT on it. */
        final Set<TableRef> targetReads = new LinkedHashSet<>();
        final Set<String> opaqueFunctions = new LinkedHashSet<>();
        final List<StatementAnalysis.ColumnWrite> columnWrites = new ArrayList<>();
        final Set<FunctionCall> functions = new LinkedHashSet<>();
        final Set<PredicateUse> predicates = new LinkedHashSet<>();
        /** Where each column is looked up by equality: one site per column per statement is allowed. */
        final LookupSites lookups = new LookupSites();
        /** Each column an UPDATE (or ON CONFLICT DO UPDATE) sets, with its new value's lineage, opacity included. */
        final Map<String, Lin> updatedValues = new java.util.LinkedHashMap<>();
        boolean copiesQuery;
        boolean unfilteredWrite;

        void addAll(Facts f) {
            operations.addAll(f.operations);
            reads.addAll(f.reads);
            writes.addAll(f.writes);
            targetReads.addAll(f.targetReads);
            opaqueFunctions.addAll(f.opaqueFunctions);
            columnWrites.addAll(f.columnWrites);
            functions.addAll(f.functions);
            predicates.addAll(f.predicates);
            lookups.addAll(f.lookups);
            copiesQuery |= f.copiesQuery;
            unfilteredWrite |= f.unfilteredWrite;
        }

        /**
         * What reading a view adds: its reads, calls and conditions, never its writes or operations. Its lookups are
         * added by {@link FromItems}, with the FROM item that reads the view ({@link LookupSites#addView}).
         */
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

    /**
     * Passes over a recursive CTE before its lineage is taken as unsolved. Each pass that does not converge adds a
     * source to some column, and a chain of k columns (a to b to ... to h) needs k passes, so this is generous; at
     * the cap every column is taken to derive from every source, opaque too, and read once more with that.
     */
    private static final int MAX_RECURSIVE_PASSES = 64;
    private static final int MAX_QUERY_DEPTH = 64;

    final Facts facts = new Facts();
    final Catalog catalog;
    final Views views;
    final int viewDepth;
    final Expressions expressions;
    private final Dml dml;
    private final FromItems fromItems;
    private int depth;

    Lineage(Catalog catalog, Views views, int viewDepth) {
        this.catalog = catalog;
        this.views = views;
        this.viewDepth = viewDepth;
        this.expressions = new Expressions(this);
        this.dml = new Dml(this);
        this.fromItems = new FromItems(this);
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

    /**
     * A FROM item in scope. {@code columns} null when the relation is unknown; {@code openColumns} for a function in
     * FROM without a column list, whose record may have columns besides the one named after it
     * ({@code jsonb_each_text(...) j} has {@code j.key} and {@code j.value}).
     */
    record Source(String alias, String schema, String table, boolean aliased, List<Col> columns, boolean pending,
                  boolean openColumns, Lin tableoid) {
        Source(String alias, String schema, String table, boolean aliased, List<Col> columns, boolean pending,
               boolean openColumns) {
            this(alias, schema, table, aliased, columns, pending, openColumns, Lin.NONE);
        }

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
            // A catalog relation's system columns say where a row is stored and which transactions wrote it, never
            // what it holds (pg_dump reads tableoid of every catalog row). No user column may take their names.
            if (schema != null && name.equals("tableoid")) {
                return Optional.of(tableoid); // which partition the row is in, chosen by its key's values
            }
            return schema != null && SYSTEM_COLUMNS.contains(name) ? Optional.of(Lin.NONE) : Optional.empty();
        }
    }

    /** PostgreSQL's system columns (oid is an ordinary column since PostgreSQL 12). */
    static final Set<String> SYSTEM_COLUMNS = Set.of("tableoid", "ctid", "xmin", "xmax", "cmin", "cmax");

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
            case "InsertStmt" -> dml.insert(b, outer, ctes);
            case "UpdateStmt" -> dml.update(b, outer, ctes);
            case "DeleteStmt" -> dml.delete(b, outer, ctes);
            case "MergeStmt" -> dml.merge(b, outer, ctes);
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
                if (!s.path("all").asBoolean(false) || !op.equals("SETOP_UNION")) {
                    // Only UNION ALL compares nothing: UNION, and INTERSECT and EXCEPT with or without ALL, compare
                    // whole rows, so every output steers the result.
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

    /**
     * A value the statement writes into {@code column} of {@code table}, once, at {@code site}: where the server
     * checks it against other rows (a key, a unique index, a foreign key), the write's success answers whether that
     * value exists, exactly as a lookup by equality does, so it counts as one (decision 0035), and as one of the
     * statement's lookups of the column (decision 0094): each row of a multi-row VALUES is one.
     */
    void written(TableRef table, String column, JsonNode site) {
        if (column == null) {
            return;
        }
        for (ColumnRef c : catalog.checkedAgainst(new ColumnRef(table.schema(), table.table(), column))) {
            lookup(Lin.of(c), site, EXISTENCE_CHECK);
        }
    }

    /** A value written back where it was read or already counted: still a check of a key, but no further guess. */
    void writtenAgain(TableRef table, String column) {
        if (column == null) {
            return;
        }
        for (ColumnRef c : catalog.checkedAgainst(new ColumnRef(table.schema(), table.table(), column))) {
            facts.predicates.add(new PredicateUse(c, EXISTENCE_CHECK, true));
        }
    }

    /**
     * Values written into {@code column} of {@code table} by rows the statement cannot count (INSERT ... SELECT,
     * MERGE, COPY FROM, an UPDATE setting each row its own value): where a key checks them, each row is one more
     * guess (with ON CONFLICT DO NOTHING the row count says how many exist; without, the first conflict answers for
     * the whole set), so they are more lookups than one statement may make (decision 0094).
     */
    void writtenRows(TableRef table, String column) {
        if (column == null) {
            return;
        }
        for (ColumnRef c : catalog.checkedAgainst(new ColumnRef(table.schema(), table.table(), column))) {
            facts.predicates.add(new PredicateUse(c, EXISTENCE_CHECK + UNCOUNTED_ROWS, false));
        }
    }

    /** A row written into {@code table}: its CHECK constraints test the columns they read, written or not. */
    void rowWritten(TableRef table) {
        for (ColumnRef c : catalog.rowChecks(table)) {
            facts.predicates.add(new PredicateUse(c, Dml.WRITTEN_VALUE, false));
        }
    }

    /** The clause {@link #written} names. */
    static final String EXISTENCE_CHECK = "the key, unique or foreign-key check of a value written";

    /** What {@link #writtenRows} names after the check. */
    static final String UNCOUNTED_ROWS = " in rows the gateway cannot count, a lookup each";

    /** What a clause is named after when its lookup is not the statement's first of that column. */
    static final String SECOND_LOOKUP = " (a second lookup of the column in one statement)";

    void predicate(Lin lin, String clause, boolean equality) {
        for (ColumnRef c : lin.sources) {
            facts.predicates.add(new PredicateUse(c, clause, equality && lin.direct && lin.sources.size() == 1));
        }
    }

    Ctes withClause(JsonNode with, Scope outer, Ctes ctes) {
        if (with.isMissingNode() || !with.has("ctes")) {
            return ctes;
        }
        boolean recursive = with.path("recursive").asBoolean(false);
        Ctes env = new Ctes(ctes);
        for (JsonNode node : recursive ? CteOrder.sorted(list(with, "ctes")) : list(with, "ctes")) {
            JsonNode cte = body(node);
            String name = text(cte, "ctename");
            List<String> names = names(list(cte, "aliascolnames"));
            JsonNode query = cte.path("ctequery");
            if (recursive) {
                env.byName.put(name, null);
                List<Col> cols = renamed(statement(query, outer, env), names);
                boolean converged = false;
                for (int pass = 1; pass < MAX_RECURSIVE_PASSES && !converged; pass++) {
                    env.byName.put(name, cols);
                    List<Col> next = mergeColumns(cols, renamed(statement(query, outer, env), names));
                    converged = next.equals(cols);
                    cols = next;
                }
                if (!converged) {
                    // Unsolved: whatever a column steers by may be any source, and the predicates the passes
                    // recorded were read with a lineage still growing; read it once more with the widest.
                    Lin all = Lin.union(cols.stream().map(Col::lin).toList()).opaqueToo();
                    cols = cols.stream().map(c -> new Col(c.name(), all)).toList();
                    env.byName.put(name, cols);
                    statement(query, outer, env);
                }
                env.byName.put(name, cols);
            } else {
                env.byName.put(name, renamed(statement(query, outer, env), names));
            }
            List<Col> cols = env.byName.get(name);
            compared(cte.path("cycle_clause"), "cycle_col_list", "CYCLE", cols);
            compared(cte.path("search_clause"), "search_col_list", "SEARCH", cols);
        }
        return env;
    }

    /**
     * CYCLE compares the named columns of each new row with every row on its path (2 rows or 3 tells whether an
     * SSN equals a constant), and SEARCH orders by them: both steer the result, as a predicate does. A name the
     * CTE's columns do not hold counts every column (the server would refuse it; the reading fails closed).
     */
    private void compared(JsonNode clause, String field, String word, List<Col> cols) {
        if (clause.isMissingNode() || cols == null) {
            return;
        }
        for (String column : names(list(clause, field))) {
            List<Col> named = cols.stream().filter(c -> java.util.Objects.equals(c.name, column)).toList();
            for (Col c : named.isEmpty() ? cols : named) {
                predicate(c.lin, word, false);
            }
        }
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
            resultColumn(body(t), sc, out);
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
     * A WHERE clause, or a JOIN's ON: every column in it steers the result, and a top-level conjunct
     * {@code column = constant} (or parameter) is the one-bit equality lookup a policy may allow, counted with every
     * other lookup of the statement ({@link #lookup}).
     */
    void where(JsonNode where, Scope sc, String clause) {
        if (where.isMissingNode()) {
            return;
        }
        List<JsonNode> conjuncts = new ArrayList<>();
        conjuncts(where, conjuncts);
        for (JsonNode c : conjuncts) {
            Lin column = expressions.equalityLookup(c, sc);
            List<ColumnRef> joined = column == null ? expressions.equalityJoin(c, sc) : null;
            if (column != null) {
                lookup(column, c, clause);
            } else if (joined != null) {
                // Each side is recorded with the other, so that the policy judges this comparison alone: any other
                // use of either column, under any name, is a use of its own (decision 0094).
                facts.predicates.add(new PredicateUse(joined.get(0), clause, false, joined.get(1)));
                facts.predicates.add(new PredicateUse(joined.get(1), clause, false, joined.get(0)));
            } else {
                expressions.value(c, sc, clause);
            }
        }
    }

    /**
     * A lookup of {@code column} at {@code site}. A lookup is one bit only once per column per statement:
     * {@code UNION ALL}, scalar subqueries, CTEs, JOINs, views or written rows each with {@code ssn = 'guess'} test
     * thousands of guesses at once (decisions 0093, 0094); a lookup of a column the statement looks up at another
     * site is recorded as a condition, which the predicate rule refuses.
     */
    void lookup(Lin column, JsonNode site, String clause) {
        if (facts.lookups.add(column.sources, site)) {
            predicate(column, clause + SECOND_LOOKUP, false);
        } else {
            predicate(column, clause, true);
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
    void resultColumn(JsonNode t, Scope sc, List<Col> out) {
        JsonNode val = t.path("val");
        List<Col> expanded = expressions.expand(val, sc);
        if (expanded != null) {
            out.addAll(expanded);
            return;
        }
        String name = text(t, "name");
        out.add(new Col(name != null ? name : ColumnLabels.label(val), expressions.value(val, sc, null)));
    }

    // ---- names -------------------------------------------------------------------------------------------------

    /** Adds one FROM item's relations to the scope ({@link FromItems}). */
    void from(Scope sc, JsonNode item) {
        fromItems.from(sc, item);
    }

    /** Adds a DML statement's target to the scope: the table (or view) of that name, never a WITH item. */
    void target(Scope sc, JsonNode rangeVar) {
        fromItems.target(sc, rangeVar);
    }

    /** {@code COPY table (columns) TO}: the table's rows, as {@code SELECT columns FROM table} would give them. */
    List<Col> tableRows(JsonNode rangeVar, List<String> columns) {
        return fromItems.tableRows(rangeVar, columns);
    }

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

    /** A subquery in an expression: its outputs, resolved with the enclosing query's scope as outer. */
    List<Col> subquery(JsonNode selectNode, Scope sc) {
        return statement(selectNode, sc, sc == null ? null : sc.ctes);
    }
}
