package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The expressions vetted as total and null-faithful: for every value of their inputs they return a value (never an
 * error) and return NULL only where an input is NULL. A value computed from a masked column can leave the gateway
 * only redacted, but the way it is computed can still answer a question about it: {@code 1/(ascii(ssn) - 49)}
 * raises division by zero exactly when the SSN starts with 1, {@code nullif(ssn, '123-45-6789')} and
 * {@code regexp_match(ssn, '^1')} are NULL exactly when it does (and a redacted NULL is still NULL),
 * {@code regexp_matches(ssn, '^1')} in a select list yields a row only when it matches, {@code ssn::int} fails on
 * a letter. The analyser therefore counts every column under any other expression in an output position as
 * steering the result (decision 0035), so the predicate rule refuses it where the column is masked. Deny by
 * default: what is not listed here steers.
 *
 * <p>The lists are short on purpose. A derived value of a masked column is redacted whatever the function, so
 * refusing one costs the client only a redaction tag; each entry must hold for every input, argument position and
 * type the server may resolve it to.
 */
final class TotalExpressions {
    /** The clause a refusal names when a value under a non-total expression would steer the result. */
    static final String CLAUSE = "an expression that can fail or turn NULL";

    /**
     * Built-in functions (pg_catalog, or unqualified and resolved there) total and null-faithful for any argument,
     * with the argument counts for which that holds: {@code length(bytea, name)} raises on an unknown encoding
     * name, so only one-argument {@code length} is listed.
     */
    private static final Map<String, Set<Integer>> FUNCTIONS = Map.ofEntries(
            Map.entry("upper", Set.of(1)), Map.entry("lower", Set.of(1)), Map.entry("initcap", Set.of(1)),
            Map.entry("length", Set.of(1)), Map.entry("char_length", Set.of(1)),
            Map.entry("character_length", Set.of(1)), Map.entry("octet_length", Set.of(1)),
            Map.entry("md5", Set.of(1)), Map.entry("btrim", Set.of(1, 2)), Map.entry("ltrim", Set.of(1, 2)),
            Map.entry("rtrim", Set.of(1, 2)), Map.entry("reverse", Set.of(1)), Map.entry("left", Set.of(2)),
            Map.entry("right", Set.of(2)), Map.entry("translate", Set.of(3)),
            Map.entry("quote_literal", Set.of(1)), Map.entry("quote_ident", Set.of(1)),
            Map.entry("quote_nullable", Set.of(1)), Map.entry("to_json", Set.of(1)), Map.entry("to_jsonb", Set.of(1)),
            Map.entry("row_to_json", Set.of(1, 2)),
            // Aggregates that pick a value. Not string_agg, array_agg, json_agg: over a join with
            // generate_series they grow with the rows to the server's size limit, and fail or not by the values'
            // lengths.
            Map.entry("min", Set.of(1)), Map.entry("max", Set.of(1)));

    /** Variadic built-ins total and null-faithful for any number of arguments (concat skips NULLs). */
    private static final Set<String> VARIADIC_FUNCTIONS = Set.of("concat", "concat_ws");

    /**
     * Operators that compare or concatenate; arithmetic is not here ({@code ascii(ssn) * 2147483647} overflows
     * exactly for some values), nor LIKE, SIMILAR TO or regular-expression operators (a pattern taken from a
     * column fails when it ends with an escape character).
     */
    private static final Set<String> OPERATORS = Set.of("=", "<>", "<", ">", "<=", ">=", "||");

    /**
     * A_Expr kinds vetted: one comparison of two scalars (NULL exactly where an operand is), and IS [NOT] DISTINCT
     * FROM (never NULL). Not IN, ANY, ALL or BETWEEN: they combine comparisons under three-valued logic, so a NULL
     * among the others makes the result NULL or not depending on the value ({@code ssn IN ('123-45-6789', NULL)} is
     * true or NULL), and they stop at the first comparison that decides, so a later operand that can fail runs only
     * for some values.
     */
    private static final Set<String> OPERATOR_KINDS = Set.of("AEXPR_OP", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT");

    /**
     * Node types whose own step is total and null-faithful (coalesce, greatest and least return NULL only when
     * every argument is NULL, and evaluate a later argument only where the earlier ones are NULL, which their own
     * nullness shows anyway; IS NULL never fails); containers of other nodes count as their contents. Not AND and
     * OR ({@code (ssn < '5') OR NULL} is true or NULL, and {@code (ssn < '5') AND 1/0 = 1} fails only for some
     * values): {@code NOT} alone is vetted, in {@link #bool}.
     */
    private static final Set<String> NODES = Set.of("CoalesceExpr", "MinMaxExpr", "NullTest", "BooleanTest",
            "RowExpr", "A_ArrayExpr", "List", "String", "Integer", "Float", "Boolean", "BitString",
            "GroupingFunc");

    /** Casts every value converts to without error: to text, whose length modifier only truncates. */
    private static final Set<String> CASTS = Set.of("text", "varchar", "bpchar", "name");

    private TotalExpressions() {
    }

    /** True when the built-in call {@code schema.name(args)} is vetted total. */
    static boolean function(String schema, String name, List<JsonNode> args) {
        if (schema != null && !schema.equals("pg_catalog")) {
            return false;
        }
        Set<Integer> arities = FUNCTIONS.get(name);
        if ((arities != null && arities.contains(args.size())) || VARIADIC_FUNCTIONS.contains(name)) {
            return true;
        }
        return switch (name) {
            // substr(text, int [, int]) fails on a negative length, and substring(text, text) is a regular
            // expression that is NULL where it does not match: only the positional form with constants is total.
            case "substr", "substring" -> (args.size() == 2 || args.size() == 3)
                    && args.stream().skip(1).allMatch(a -> integer(a) != null)
                    && (args.size() == 2 || integer(args.get(2)) >= 0);
            // Field 0 is an error.
            case "split_part" -> args.size() == 3 && integer(args.get(2)) != null && integer(args.get(2)) != 0;
            // A NULL key is an error; values are only quoted.
            case "json_build_object", "jsonb_build_object" -> args.size() % 2 == 0 && everyKeyConstant(args);
            default -> false;
        };
    }

    private static boolean everyKeyConstant(List<JsonNode> args) {
        for (int i = 0; i < args.size(); i += 2) {
            JsonNode k = args.get(i);
            if (!is(k, "A_Const") || body(k).path("isnull").asBoolean(false)) {
                return false;
            }
        }
        return true;
    }

    /** An integer constant's value; null for anything else (a parameter may be any value). */
    private static Long integer(JsonNode e) {
        if (!is(e, "A_Const") || !body(e).has("ival")) {
            return null;
        }
        return body(e).path("ival").path("ival").asLong(0);
    }

    /** True for an operator expression of {@code kind} with operator {@code schema.name} vetted total. */
    static boolean operator(String kind, String schema, String name) {
        if (!OPERATOR_KINDS.contains(kind) || (schema != null && !schema.equals("pg_catalog"))) {
            return false;
        }
        return OPERATORS.contains(name);
    }

    /** True for a node type whose own step is vetted total. */
    static boolean node(String type) {
        return NODES.contains(type);
    }

    /** True for a BoolExpr vetted total: NOT only. */
    static boolean bool(JsonNode body) {
        return "NOT_EXPR".equals(Tree.text(body, "boolop"));
    }

    /** True for a cast to a type every value converts to (text and its kin, with any length, not arrays). */
    static boolean cast(JsonNode typeName) {
        List<String> n = names(list(typeName, "names"));
        String schema = Tree.schemaOf(n);
        return CASTS.contains(Tree.last(n)) && (schema == null || schema.equals("pg_catalog"))
                && !typeName.has("arrayBounds") && !typeName.has("setof");
    }

    /**
     * True when every step under {@code node} is vetted, so what it computes is at most a constant factor longer
     * than the columns, constants and parameters it reads. The server caps a value's size (a jsonb string at 256
     * MiB, any value at 1 GiB), so {@code to_jsonb(repeat('x', 268435455) || ltrim(substr(ssn, 1, 1), '01234'))}
     * fails exactly when the trim left the digit: a vetted step is total only while its operands stay bounded.
     * CASE counts by its results (its conditions steer on their own); a subquery counts as unbounded.
     */
    static boolean bounded(JsonNode node, Map<JsonNode, Boolean> memo) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            return true;
        }
        Boolean known = memo.get(node);
        if (known != null) {
            return known;
        }
        boolean ok = steps(node, memo) && padding(node) <= PADDING_LIMIT;
        memo.put(node, ok);
        return ok;
    }

    /**
     * The most bytes the constants and parameters under {@code node} may put into its value (decision 0054). The
     * constant-factor argument of {@link #bounded} holds for each constant or parameter once: all of a statement's
     * text, or all of a Bind's values, fit in one frame (64 MiB by default), a quarter of jsonb's cap. It fails
     * where one parameter is joined in several times ({@code $1 || ($1 || ($1 || ($1 || $1 || x)))}) or an
     * escaping step multiplies it ({@code quote_literal} doubles a backslash, {@code to_json} writes a control
     * character as six bytes, a cast to text of a row, array or jsonb escapes again): nested, a 32 MiB parameter
     * then crosses the cap or not by one character the masked column contributes. So joins add their operands'
     * padding, escaping steps and casts multiply it by six, steps of a fixed or shrinking size (md5, length,
     * comparisons) clear it, and a parameter counts as a whole frame.
     */
    static long padding(JsonNode node) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            return 0;
        }
        JsonNode b = body(node);
        return switch (Tree.type(node)) {
            case "A_Const" -> b.has("sval") ? b.path("sval").path("sval").asText("").length() * 4L : 8;
            case "ParamRef" -> PARAMETER_BYTES;
            case "ColumnRef", "SQLValueFunction", "NullTest", "BooleanTest", "GroupingFunc" -> 0;
            case "FuncCall" -> {
                String fn = Tree.last(names(list(b, "funcname")));
                List<JsonNode> args = list(b, "args");
                if (FIXED_SIZE.contains(fn)) {
                    yield 0;
                }
                long p = COMBINING.contains(fn) ? sum(args) : max(args);
                yield ESCAPING.contains(fn) ? Math.multiplyExact(Math.min(p, PADDING_CEILING), ESCAPE_FACTOR) : p;
            }
            case "A_Expr" -> {
                List<JsonNode> operands = List.of(b.path("lexpr"), b.path("rexpr"));
                yield "||".equals(Tree.last(names(list(b, "name")))) ? sum(operands) : 0;
            }
            case "RowExpr" -> sum(list(b, "args"));
            case "A_ArrayExpr" -> sum(list(b, "elements"));
            case "TypeCast" -> Math.min(padding(b.path("arg")), PADDING_CEILING) * ESCAPE_FACTOR;
            case "CollateClause" -> padding(b.path("arg"));
            default -> {
                long p = 0;
                for (java.util.Iterator<JsonNode> it = b.elements(); it.hasNext(); ) {
                    JsonNode v = it.next();
                    for (JsonNode e : v.isArray() ? v : List.of(v)) {
                        if (e.isObject() && e.size() == 1 && Character.isUpperCase(e.fieldNames().next().charAt(0))) {
                            p = Math.max(p, padding(e));
                        }
                    }
                }
                yield p;
            }
        };
    }

    private static long sum(List<JsonNode> nodes) {
        long p = 0;
        for (JsonNode n : nodes) {
            p = Math.min(p + padding(n), PADDING_CEILING);
        }
        return p;
    }

    private static long max(List<JsonNode> nodes) {
        long p = 0;
        for (JsonNode n : nodes) {
            p = Math.max(p, padding(n));
        }
        return p;
    }

    /** Each vetted step's own check, and its operands' (without the padding, which {@link #bounded} adds). */
    private static boolean steps(JsonNode node, Map<JsonNode, Boolean> memo) {
        JsonNode b = body(node);
        return switch (Tree.type(node)) {
            case "ColumnRef", "A_Const", "ParamRef", "SQLValueFunction" -> true;
            case "FuncCall" -> {
                List<String> fn = names(list(b, "funcname"));
                List<JsonNode> args = list(b, "args");
                yield function(Tree.schemaOf(fn), Tree.last(fn), args) && all(args, memo)
                        && (!COMBINING.contains(Tree.last(fn)) || atMostOneVariable(args));
            }
            case "A_Expr" -> {
                List<String> op = names(list(b, "name"));
                yield operator(String.valueOf(Tree.text(b, "kind")), Tree.schemaOf(op), Tree.last(op))
                        && !is(b.path("lexpr"), "RowExpr") && !is(b.path("rexpr"), "RowExpr")
                        && bounded(b.path("lexpr"), memo) && bounded(b.path("rexpr"), memo)
                        && (!"||".equals(Tree.last(op))
                            || atMostOneVariable(List.of(b.path("lexpr"), b.path("rexpr"))));
            }
            case "RowExpr", "A_ArrayExpr" -> children(b, memo)
                    && atMostOneVariable(list(b, Tree.type(node).equals("RowExpr") ? "args" : "elements"));
            case "TypeCast" -> cast(b.path("typeName")) && bounded(b.path("arg"), memo);
            case "CollateClause" -> bounded(b.path("arg"), memo);
            case "BoolExpr" -> bool(b) && all(list(b, "args"), memo);
            case "CaseExpr" -> {
                boolean results = bounded(b.path("defresult"), memo);
                for (JsonNode w : list(b, "args")) {
                    results &= bounded(body(w).path("result"), memo);
                }
                yield results;
            }
            default -> NODES.contains(Tree.type(node)) && children(b, memo);
        };
    }

    /** True when {@code node}'s own step is vetted (its operands aside): where {@link #bounded} must also hold. */
    static boolean ownStep(JsonNode node) {
        JsonNode b = body(node);
        return switch (Tree.type(node)) {
            case "FuncCall" -> {
                List<String> fn = names(list(b, "funcname"));
                yield function(Tree.schemaOf(fn), Tree.last(fn), list(b, "args"));
            }
            case "A_Expr" -> {
                List<String> op = names(list(b, "name"));
                yield operator(String.valueOf(Tree.text(b, "kind")), Tree.schemaOf(op), Tree.last(op))
                        && !is(b.path("lexpr"), "RowExpr") && !is(b.path("rexpr"), "RowExpr");
            }
            case "TypeCast" -> cast(b.path("typeName"));
            case "BoolExpr" -> bool(b);
            default -> NODES.contains(Tree.type(node)) && !Tree.type(node).equals("List");
        };
    }

    /**
     * Steps that join their operands into one value. With two operands that are not constants, one may be a value
     * the session stored at nearly the server's size limit (a temp table filled from repeat()), and the join fails
     * or not by the other's length, so only one operand may vary.
     */
    private static final Set<String> COMBINING = Set.of("concat", "concat_ws", "json_build_object",
            "jsonb_build_object");
    /** Vetted steps whose output may be longer than their input by escaping (see {@link #padding}). */
    private static final Set<String> ESCAPING = Set.of("quote_literal", "quote_ident", "quote_nullable", "to_json",
            "to_jsonb", "row_to_json", "json_build_object", "jsonb_build_object");
    /** Vetted steps whose output has a size of its own, whatever the input's. */
    private static final Set<String> FIXED_SIZE = Set.of("md5", "length", "char_length", "character_length",
            "octet_length");
    /** The worst an escaping step multiplies: a control character in JSON is six bytes ({@code \u0001}). */
    private static final long ESCAPE_FACTOR = 6;
    /** A parameter's value may fill a frame: limits.max_frame_bytes by default. */
    static final long PARAMETER_BYTES = 64L << 20;
    /** At most one frame's worth of constants and parameters in a value: a quarter of jsonb's 256 MiB cap. */
    static final long PADDING_LIMIT = PARAMETER_BYTES;
    private static final long PADDING_CEILING = 1L << 40;

    private static boolean atMostOneVariable(List<JsonNode> operands) {
        int variable = 0;
        for (JsonNode o : operands) {
            JsonNode e = o;
            while (is(e, "TypeCast")) {
                e = body(e).path("arg");
            }
            if (!is(e, "A_Const") && !is(e, "ParamRef")) {
                variable++;
            }
        }
        return variable <= 1;
    }

    private static boolean all(List<JsonNode> nodes, Map<JsonNode, Boolean> memo) {
        for (JsonNode n : nodes) {
            if (!bounded(n, memo)) {
                return false;
            }
        }
        return true;
    }

    /** Every node among a body's fields, arrays and plain structs included. */
    private static boolean children(JsonNode b, Map<JsonNode, Boolean> memo) {
        for (java.util.Iterator<JsonNode> it = b.elements(); it.hasNext(); ) {
            JsonNode v = it.next();
            for (JsonNode e : v.isArray() ? v : List.of(v)) {
                if (!e.isObject() || e.isEmpty()) {
                    continue;
                }
                String first = e.fieldNames().next();
                boolean node = e.size() == 1 && Character.isUpperCase(first.charAt(0));
                if (node ? !bounded(e, memo) : !children(e, memo)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The clause naming the expression, for the refusal: {@code an expression that can fail ... (nullif)}. */
    static String clause(String what) {
        return CLAUSE + " (" + what + ")";
    }
}
