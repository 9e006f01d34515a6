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
import io.phigate.sql.Lineage.Lin;
import io.phigate.sql.Lineage.Scope;
import io.phigate.sql.Lineage.Source;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The values of expressions in the parse tree: which base-table columns each may derive from, whether it is a
 * column's own value ({@code direct}), and, when it is read in a clause that steers the result ({@code clause}
 * not null: WHERE, JOIN, ORDER BY ...), every column it uses recorded as a predicate of the statement. A node
 * this class does not model is read generically: every column under it counts as a source, none as direct.
 */
final class Expressions {
    /**
     * Casts that give the value's own text: a type's output function is what the wire carries anyway. A length
     * ({@code varchar(3)}) or any other type changes the value, so the result is no longer the column's own.
     */
    private static final Set<String> VALUE_KEEPING_CASTS = Set.of("text", "varchar");

    private final Lineage lineage;
    /** {@link TotalExpressions#bounded} per node, so nested calls are judged once. */
    private final java.util.Map<JsonNode, Boolean> bounded = new java.util.IdentityHashMap<>();
    /**
     * How many vetted steps (functions, operators, ARRAY[...]) enclose the node being read. Their vetting holds for
     * scalar operands; over arrays, ranges and composites it does not ({@link #compound}).
     */
    private int vettedDepth;

    Expressions(Lineage lineage) {
        this.lineage = lineage;
    }

    /** The lineage of {@code node}; with a {@code clause}, its columns are recorded as steering the result. */
    Lin value(JsonNode node, Scope sc, String clause) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            return Lin.NONE;
        }
        if (clause == null && TotalExpressions.ownStep(node) && !TotalExpressions.bounded(node, bounded)) {
            // A vetted step over an operand nothing bounds (repeat('x', n)) fails at the server's size limits
            // depending on how long the rest is: its columns steer.
            clause = TotalExpressions.clause("a value of unbounded size");
        }
        JsonNode b = body(node);
        return switch (type(node)) {
            case "ColumnRef" -> {
                Lin l = column(list(b, "fields"), sc);
                String steering = clause == null && vettedDepth > 0 && compound(l)
                        ? TotalExpressions.clause("an array, range or composite value") : clause;
                if (steering != null) {
                    lineage.predicate(l, steering, false);
                }
                yield l;
            }
            case "A_Const", "ParamRef", "SQLValueFunction", "SetToDefault", "CurrentOfExpr" -> Lin.NONE;
            case "TypeCast" -> {
                boolean toText = TotalExpressions.cast(b.path("typeName"));
                // A cast to text is total for every type, arrays and composites included, and makes a scalar.
                int depth = vettedDepth;
                vettedDepth = toText ? 0 : depth;
                Lin l;
                try {
                    l = value(b.path("arg"), sc, clause != null || toText ? clause : TotalExpressions.clause("cast"));
                } finally {
                    vettedDepth = depth;
                }
                yield keepsValue(b.path("typeName")) ? l : l.indirect();
            }
            // Under a collation that is not known deterministic, equality with the value matches values that differ:
            // no longer the column's value as compared, so never a lookup by it (a view's or CTE's COLLATE too).
            case "CollateClause" -> deterministic(b) ? value(b.path("arg"), sc, clause)
                    : value(b.path("arg"), sc, clause).indirect();
            case "FuncCall" -> call(b, sc, clause);
            case "SubLink" -> subLink(b, sc, clause);
            case "SelectStmt" -> subquery(node, sc, clause);
            case "CaseExpr" -> caseExpr(b, sc, clause);
            case "A_Indirection" -> indirection(b, sc, clause);
            case "A_Expr" -> operator(b, sc, clause);
            case "NamedArgExpr" -> value(b.path("arg"), sc, clause).indirect();
            // ARRAY[a, b] fails when a and b are arrays of different dimensions.
            case "A_ArrayExpr" -> clause == null ? vetted(() -> generic(b, sc, null)) : generic(b, sc, clause);
            default -> generic(b, sc, clause != null || TotalExpressions.node(type(node))
                    || (type(node).equals("BoolExpr") && TotalExpressions.bool(b)) ? clause
                    : TotalExpressions.clause(type(node).equals("BoolExpr") ? text(b, "boolop") : type(node)));
        };
    }

    /** {@code read} with one more vetted step enclosing what it reads. */
    private Lin vetted(Supplier<Lin> read) {
        vettedDepth++;
        try {
            return read.get();
        } finally {
            vettedDepth--;
        }
    }

    /**
     * True when a value reads a column of array, range, multirange or composite type. The vetted steps are total
     * and null-faithful over scalars only: {@code upper(tstzrange)} is NULL for an unbounded range, {@code arr ||
     * ARRAY[ARRAY['x']]} and {@code ARRAY[arr, ...]} fail on mismatched dimensions, and a composite compared with
     * {@code =} is NULL when a field is.
     */
    private boolean compound(Lin l) {
        for (ColumnRef c : l.sources()) {
            if (lineage.catalog.compound(c)) {
                return true;
            }
        }
        return false;
    }

    /** Every node under a body, unioned: what is not modelled derives from everything it contains. */
    private Lin generic(JsonNode b, Scope sc, String clause) {
        List<Lin> parts = new ArrayList<>();
        for (Iterator<JsonNode> it = b.elements(); it.hasNext(); ) {
            JsonNode v = it.next();
            if (v.isArray()) {
                for (JsonNode e : v) {
                    parts.add(child(e, sc, clause));
                }
            } else if (v.isObject()) {
                parts.add(child(v, sc, clause));
            }
        }
        return Lin.union(parts);
    }

    /** A field's value: a node ({@code {"Type": ...}}) or a plain struct whose fields may hold nodes. */
    private Lin child(JsonNode v, Scope sc, String clause) {
        if (!v.isObject() || v.isEmpty()) {
            return Lin.NONE;
        }
        String name = v.fieldNames().next();
        boolean node = v.size() == 1 && Character.isUpperCase(name.charAt(0));
        return node ? value(v, sc, clause) : generic(v, sc, clause);
    }

    private Lin call(JsonNode b, Scope sc, String clause) {
        List<String> fn = names(list(b, "funcname"));
        String name = Tree.last(fn);
        String schema = Tree.schemaOf(fn);
        boolean opaque = lineage.call(schema, name);
        // A count returns how many, not what; but it counts the non-null values of its argument, so the argument
        // steers the result (count(nullif(substr(ssn, 1, 1), '1')) is one bit per row), as a predicate would.
        boolean counting = "count".equals(name) && (schema == null || schema.equals("pg_catalog"));
        List<JsonNode> args = list(b, "args");
        String argClause = clause;
        if (clause == null && counting) {
            argClause = "count()";
        } else if (clause == null && !TotalExpressions.function(schema, name, args)) {
            // Its value is redacted, but whether it fails, turns NULL or yields rows can answer a question about
            // its arguments (TotalExpressions), so they steer as a predicate's would.
            argClause = TotalExpressions.clause(name + "()");
        }
        List<Lin> parts = new ArrayList<>();
        String clauseOfArgs = argClause;
        Supplier<Lin> readArgs = () -> Lin.union(args.stream().map(a -> value(a, sc, clauseOfArgs)).toList());
        parts.add(argClause == null ? vetted(readArgs) : readArgs.get());
        for (JsonNode o : list(b, "agg_order")) {
            // An ordered-set aggregate returns a value of its WITHIN GROUP ordering (mode() WITHIN GROUP (ORDER BY
            // ssn) is an SSN); an ordinary aggregate's ORDER BY steers which value comes first.
            parts.add(value(body(o).path("node"), sc, clause == null ? "ORDER BY" : clause));
        }
        parts.add(value(b.path("agg_filter"), sc, clause == null ? "FILTER" : clause));
        if (b.has("over")) {
            parts.add(window(b.path("over"), sc, clause));
        }
        if (counting) {
            return opaque ? Lin.OPAQUE : Lin.NONE;
        }
        Lin l = Lin.union(parts);
        return opaque ? l.opaqueToo() : l;
    }

    /** A window definition's PARTITION BY, ORDER BY and frame offsets, which steer the function's value. */
    Lin window(JsonNode w, Scope sc, String clause) {
        List<Lin> parts = new ArrayList<>();
        for (JsonNode p : list(w, "partitionClause")) {
            parts.add(value(p, sc, clause == null ? "WINDOW PARTITION BY" : clause));
        }
        for (JsonNode o : list(w, "orderClause")) {
            parts.add(value(body(o).path("node"), sc, clause == null ? "WINDOW ORDER BY" : clause));
        }
        parts.add(value(w.path("startOffset"), sc, clause == null ? "WINDOW" : clause));
        parts.add(value(w.path("endOffset"), sc, clause == null ? "WINDOW" : clause));
        return Lin.union(parts);
    }

    private Lin subLink(JsonNode b, Scope sc, String clause) {
        String kind = String.valueOf(text(b, "subLinkType"));
        if (clause == null && (kind.equals("ANY_SUBLINK") || kind.equals("ALL_SUBLINK")
                || kind.equals("ROWCOMPARE_SUBLINK") || kind.equals("ARRAY_SUBLINK"))) {
            // ARRAY(SELECT ...) also grows with the rows to the server's size limit, as array_agg does.
            // x IN (SELECT ...) compares x with every row under three-valued logic: as IN over a list, it steers.
            clause = TotalExpressions.clause(kind.substring(0, kind.indexOf('_')));
        }
        List<Lin> parts = new ArrayList<>();
        parts.add(value(b.path("testexpr"), sc, clause));
        parts.add(subquery(b.path("subselect"), sc, clause));
        return Lin.union(parts);
    }

    /** A subquery's outputs as one value; in a steering clause they steer too. */
    private Lin subquery(JsonNode select, Scope sc, String clause) {
        List<Col> cols = lineage.subquery(select, sc);
        Lin outs = Lin.union(cols.stream().map(Col::lin).toList());
        if (clause != null) {
            lineage.predicate(outs, clause, false);
        }
        return outs;
    }

    private Lin caseExpr(JsonNode b, Scope sc, String clause) {
        String conditions = clause == null ? "CASE" : clause;
        List<Lin> parts = new ArrayList<>();
        parts.add(value(b.path("arg"), sc, conditions));
        for (JsonNode w : list(b, "args")) {
            parts.add(value(body(w).path("expr"), sc, conditions));
            parts.add(value(body(w).path("result"), sc, clause));
        }
        parts.add(value(b.path("defresult"), sc, clause));
        return Lin.union(parts);
    }

    private Lin operator(JsonNode b, Scope sc, String clause) {
        List<String> op = names(list(b, "name"));
        String schema = Tree.schemaOf(op);
        boolean opaque = false;
        if (schema != null) {
            // OPERATOR(schema.op): psql spells built-ins with pg_catalog; any other schema may be the agent's code.
            lineage.facts.functions.add(new StatementFacts.FunctionCall(schema, Tree.last(op)));
            if (!schema.equals("pg_catalog")) {
                opaque = true;
                lineage.facts.operations.add(Operation.FUNCTION);
                lineage.facts.opaqueFunctions.add(schema + "." + Tree.last(op));
            }
        }
        String kind = String.valueOf(text(b, "kind"));
        // A row comparison is one comparison per field under three-valued logic, stopping at the first that decides.
        boolean rows = is(b.path("lexpr"), "RowExpr") || is(b.path("rexpr"), "RowExpr");
        String operands = clause != null || (!rows && TotalExpressions.operator(kind, schema, Tree.last(op))) ? clause
                : TotalExpressions.clause(kind.equals("AEXPR_OP") ? "operator " + Tree.last(op)
                        : kind.substring("AEXPR_".length()));
        if (operands == null && kind.equals("AEXPR_OP") && !"||".equals(Tree.last(op))
                && (wholeRow(b.path("lexpr"), sc) || wholeRow(b.path("rexpr"), sc))) {
            // Whole rows compare field by field under three-valued logic: NULL where a field is NULL and the
            // others are equal, which answers whether they are.
            operands = TotalExpressions.clause("comparison of whole rows");
        }
        String clauseOfOperands = operands;
        Supplier<Lin> read = () -> Lin.union(List.of(value(b.path("lexpr"), sc, clauseOfOperands),
                value(b.path("rexpr"), sc, clauseOfOperands)));
        Lin l = operands == null ? vetted(read) : read.get();
        return opaque ? l.opaqueToo() : l;
    }

    private Lin indirection(JsonNode b, Scope sc, String clause) {
        JsonNode arg = b.path("arg");
        List<JsonNode> ind = list(b, "indirection");
        List<Lin> parts = new ArrayList<>();
        boolean subscripted = false;
        for (JsonNode i : ind) {
            if (is(i, "A_Indices")) {
                subscripted = true;
            }
        }
        // A subscript out of range is NULL (and a slice of a wrong bound fails), so with a subscript both the value
        // and the index steer the result.
        String steering = clause != null || !subscripted ? clause : TotalExpressions.clause("subscript");
        for (JsonNode i : ind) {
            if (is(i, "A_Indices")) {
                parts.add(value(body(i).path("lidx"), sc, steering));
                parts.add(value(body(i).path("uidx"), sc, steering));
            }
        }
        Lin base;
        Optional<Source> row = rowAlias(arg, sc);
        String field = ind.isEmpty() ? null : sval(ind.getFirst());
        int next = 0;
        if (row.isPresent() && field != null) {
            // (p).ssn: one field of a row alias; (p).f where p has no column f is the call f(p).
            Optional<Lin> col = row.get().column(field);
            base = col.isPresent() ? col.get() : attributeCall(field, row.get().wholeRow(), arg);
            if (clause != null) {
                lineage.predicate(base, clause, false);
            }
            next = 1;
        } else {
            base = value(arg, sc, steering);
        }
        for (JsonNode i : ind.subList(next, ind.size())) {
            String f = sval(i);
            if (f != null) {
                // A field of a composite value is not modelled, and where the value has no such field the server
                // calls the function f on it: judged as that call, whichever it is.
                base = attributeCall(f, base, next == 0 && i == ind.getFirst() ? arg : null);
            }
        }
        parts.add(base);
        return Lin.union(parts);
    }

    /**
     * {@code (x).f} or {@code t.f} that is not a column the gateway knows: the server runs it as the call {@code
     * f(x)} when {@code x} has no field {@code f} (attribute notation), so it is recorded and judged as that call:
     * the allowlist sees the function, a function not vetted total makes its argument steer, and an opaque one
     * makes the value opaque. A composite value's real field is judged the same way (fail closed).
     */
    private Lin attributeCall(String name, Lin argument, JsonNode argumentNode) {
        if (!lineage.catalog.definesFunction(name)) {
            // No function has that name: a field of a composite value (information_schema._pg_expandarray(...)).n,
            // as pgjdbc's metadata queries read), or a cast to a type named so, which can fail by the value.
            lineage.predicate(argument, TotalExpressions.clause("field or cast ." + name), false);
            return argument.opaqueToo();
        }
        boolean opaque = lineage.call(null, name);
        List<JsonNode> args = List.of(argumentNode == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance()
                : argumentNode);
        if (!TotalExpressions.function(null, name, args)) {
            lineage.predicate(argument, TotalExpressions.clause(name + "()"), false);
        }
        return opaque ? argument.opaqueToo() : argument.indirect();
    }

    /** The source a bare name in {@code (p)} stands for, when it names a row alias rather than a column. */
    private Optional<Source> rowAlias(JsonNode arg, Scope sc) {
        if (!is(arg, "ColumnRef")) {
            return Optional.empty();
        }
        List<JsonNode> fields = list(body(arg), "fields");
        // (p) or (p.*): the row of the FROM item p.
        boolean star = fields.size() == 2 && is(fields.getLast(), "A_Star");
        if ((fields.size() != 1 && !star) || sval(fields.getFirst()) == null) {
            return Optional.empty();
        }
        String alias = sval(fields.getFirst());
        for (Scope s = sc; s != null; s = s.parent) {
            for (Source src : s.sources) {
                if (src.alias().equals(alias) && (star || src.column(alias).isEmpty())) {
                    return Optional.of(src);
                }
            }
        }
        return Optional.empty();
    }

    /** {@code *}, {@code p.*} and {@code (p).*} in a select list: the columns they expand to; null otherwise. */
    List<Col> expand(JsonNode val, Scope sc) {
        if (is(val, "ColumnRef")) {
            List<JsonNode> fields = list(body(val), "fields");
            if (!is(fields.getLast(), "A_Star")) {
                return null;
            }
            if (fields.size() == 1) {
                return List.copyOf(sc.star);
            }
            List<String> parts = names(fields.subList(0, fields.size() - 1));
            Optional<Source> s = findSource(sc, parts);
            return sourceColumns(s);
        }
        if (is(val, "A_Indirection")) {
            List<JsonNode> ind = list(body(val), "indirection");
            if (ind.isEmpty() || !is(ind.getLast(), "A_Star")) {
                return null;
            }
            Optional<Source> row = ind.size() == 1 ? rowAlias(body(val).path("arg"), sc) : Optional.empty();
            if (row.isPresent()) {
                return sourceColumns(row);
            }
            return List.of(new Col("*", value(body(val).path("arg"), sc, null).opaqueToo()));
        }
        return null;
    }

    private static List<Col> sourceColumns(Optional<Source> s) {
        if (s.isEmpty() || s.get().columns() == null) {
            return List.of(new Col("*", Lin.OPAQUE));
        }
        return s.get().pending() ? List.of() : s.get().columns();
    }

    /**
     * For {@code column = constant} (or parameter; either side, through casts that keep the value): the column's
     * lineage. Null for any other expression.
     */
    Lin equalityLookup(JsonNode e, Scope sc) {
        if (!isEquality(e)) {
            return null;
        }
        JsonNode l = body(e).path("lexpr");
        JsonNode r = body(e).path("rexpr");
        JsonNode column = isConstant(r) ? valueKeeping(l) : isConstant(l) ? valueKeeping(r) : null;
        if (column == null || !is(column, "ColumnRef")) {
            return null;
        }
        return column(list(body(column), "fields"), sc);
    }

    /**
     * For {@code a = b} where each side is one column's own value (through casts that keep it, deterministic
     * collations, and the CTEs, subqueries and views it is read through): the two columns. Null for anything else.
     */
    List<ColumnRef> equalityJoin(JsonNode e, Scope sc) {
        if (!isEquality(e)) {
            return null;
        }
        JsonNode l = valueKeeping(body(e).path("lexpr"));
        JsonNode r = valueKeeping(body(e).path("rexpr"));
        if (!is(l, "ColumnRef") || !is(r, "ColumnRef")) {
            return null;
        }
        Lin left = column(list(body(l), "fields"), sc);
        Lin right = column(list(body(r), "fields"), sc);
        boolean own = left.direct() && !left.opaque() && left.sources().size() == 1
                && right.direct() && !right.opaque() && right.sources().size() == 1;
        return own ? List.of(left.sources().iterator().next(), right.sources().iterator().next()) : null;
    }

    /** {@code =} as an operator, pg_catalog's or unqualified. */
    private static boolean isEquality(JsonNode e) {
        if (!is(e, "A_Expr") || !"AEXPR_OP".equals(text(body(e), "kind"))) {
            return false;
        }
        List<String> op = names(list(body(e), "name"));
        String schema = Tree.schemaOf(op);
        return "=".equals(Tree.last(op)) && (schema == null || schema.equals("pg_catalog"));
    }

    /**
     * Under casts that keep the value and deterministic collations, the expression itself; null when a cast changes
     * the value or a collation may make unequal values compare equal.
     */
    private JsonNode valueKeeping(JsonNode e) {
        while (is(e, "TypeCast") || is(e, "CollateClause")) {
            if (is(e, "TypeCast") ? !keepsValue(body(e).path("typeName")) : !deterministic(body(e))) {
                return null;
            }
            e = body(e).path("arg");
        }
        return e;
    }

    /** A COLLATE clause naming a collation the catalog knows to be deterministic. */
    private boolean deterministic(JsonNode collateClause) {
        List<String> name = names(list(collateClause, "collname"));
        return !name.isEmpty() && lineage.catalog.deterministicCollation(Tree.last(name));
    }

    /** A constant (not NULL) or a parameter, through casts. */
    static boolean isConstant(JsonNode e) {
        while (is(e, "TypeCast")) {
            e = body(e).path("arg");
        }
        return (is(e, "A_Const") && !body(e).path("isnull").asBoolean(false)) || is(e, "ParamRef");
    }

    static boolean keepsValue(JsonNode typeName) {
        List<String> n = names(list(typeName, "names"));
        String schema = Tree.schemaOf(n);
        return VALUE_KEEPING_CASTS.contains(Tree.last(n)) && (schema == null || schema.equals("pg_catalog"))
                && !typeName.has("typmods") && !typeName.has("arrayBounds") && !typeName.has("setof");
    }

    // ---- column references --------------------------------------------------------------------------------------

    /** A column reference's lineage; a plain column keeps its column's directness. */
    private Lin column(List<JsonNode> fields, Scope sc) {
        List<String> parts = names(fields);
        if (fields.isEmpty()) {
            return Lin.OPAQUE;
        }
        boolean star = is(fields.getLast(), "A_Star");
        if (fields.size() == 1) {
            if (star) {
                return Lin.union(sc.sources.stream().map(Source::wholeRow).toList());
            }
            return unqualified(parts.getFirst(), sc);
        }
        List<String> qualifier = parts.subList(Math.max(0, parts.size() - 3), parts.size() - 1);
        if (star) {
            return findSource(sc, parts.subList(0, parts.size() - 1)).map(Source::wholeRow).orElse(Lin.OPAQUE);
        }
        String name = parts.getLast();
        Optional<Source> src = findSource(sc, qualifier);
        if (src.isPresent()) {
            Source s = src.get();
            if (s.columns() == null) {
                return Lin.OPAQUE;
            }
            // Not a column of that relation: the server calls f on the whole row (t.f is f(t)). A function in FROM
            // without a column list has columns we do not know (jsonb_each_text's key): its name is one of them
            // unless a function has it.
            Optional<Lin> col = s.column(name);
            if (col.isEmpty() && s.openColumns() && !lineage.catalog.definesFunction(name)) {
                return s.wholeRow();
            }
            return col.isPresent() ? col.get() : attributeCall(name, s.wholeRow(), null);
        }
        // "x.f" where x is a column of composite type rather than a relation: its field, or the call f(x).
        Lin asColumn = unqualified(qualifier.getFirst(), sc);
        return attributeCall(name, asColumn, null);
    }

    private static Lin unqualified(String name, Scope sc) {
        for (Scope s = sc; s != null; s = s.parent) {
            Lin merged = s.merged.get(name);
            if (merged != null) {
                return merged;
            }
            List<Lin> candidates = new ArrayList<>();
            boolean unknownHere = false;
            for (Source src : s.sources) {
                src.column(name).ifPresent(candidates::add);
                unknownHere |= src.columns() == null;
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
                if (src.alias().equals(name)) {
                    return src.wholeRow();
                }
            }
        }
        return unresolved(sc);
    }

    /** True when {@code e} references a whole row ({@code p}, {@code p.*} or {@code *}): a composite value. */
    private static boolean wholeRow(JsonNode e, Scope sc) {
        if (!is(e, "ColumnRef")) {
            return false;
        }
        List<JsonNode> fields = list(body(e), "fields");
        if (fields.isEmpty() || is(fields.getLast(), "A_Star")) {
            return !fields.isEmpty();
        }
        if (fields.size() != 1) {
            return false;
        }
        String name = names(fields).getFirst();
        for (Scope s = sc; s != null; s = s.parent) {
            if (s.merged.containsKey(name)) {
                return false;
            }
            boolean alias = false;
            for (Source src : s.sources) {
                if (src.columns() == null || src.column(name).isPresent()) {
                    return false;
                }
                alias |= src.alias().equals(name);
            }
            if (alias) {
                return true;
            }
        }
        return false;
    }

    /** True when a bare name is a column (or row alias) of some FROM item in scope. */
    static boolean inScope(String name, Scope sc) {
        for (Scope s = sc; s != null; s = s.parent) {
            if (s.merged.containsKey(name)) {
                return true;
            }
            for (Source src : s.sources) {
                if (src.columns() == null || src.column(name).isPresent() || src.alias().equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A name nothing in scope defines: it may be any of them, and we cannot say which. */
    private static Lin unresolved(Scope sc) {
        List<Lin> all = new ArrayList<>();
        if (sc != null) {
            for (Source s : sc.sources) {
                all.add(s.wholeRow());
            }
        }
        return Lin.union(all).opaqueToo();
    }

    /** The FROM item a qualifier ({@code p}, {@code public.patients}) names, innermost scope first. */
    private static Optional<Source> findSource(Scope sc, List<String> qualifier) {
        if (qualifier.isEmpty() || qualifier.contains(null)) {
            return Optional.empty();
        }
        String name = qualifier.getLast();
        String schema = qualifier.size() >= 2 ? qualifier.get(qualifier.size() - 2) : null;
        for (Scope s = sc; s != null; s = s.parent) {
            for (Source src : s.sources) {
                boolean match = schema == null
                        ? src.alias().equals(name)
                        : !src.aliased() && name.equals(src.table()) && schema.equals(src.schema());
                if (match) {
                    return Optional.of(src);
                }
            }
        }
        return Optional.empty();
    }
}
