package io.phigate.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.PgGrammar;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the deny-by-default rules read from the server's parse tree beyond {@link io.phigate.sql.StatementFacts}:
 * the arguments of the calls allowed only in some forms ({@code set_config}, {@code current_setting}) and every
 * operator the statement names. Read only when a rule needs it (the statement calls one of those functions, or
 * the upstream defines operators outside pg_catalog), so ordinary statements are not parsed twice.
 */
final class StatementTree {
    private final List<JsonNode> trees;

    private StatementTree(List<JsonNode> trees) {
        this.trees = trees;
    }

    /** The statement's parse trees, or null when the grammar rejects it or is not available. */
    static StatementTree of(String text) {
        if (text == null || !PgGrammar.available()) {
            return null;
        }
        PgGrammar.Parsed parsed = PgGrammar.parse(text);
        if (!parsed.ok()) {
            return null;
        }
        List<JsonNode> trees = new ArrayList<>();
        parsed.statements().forEach(s -> trees.add(s.tree()));
        return new StatementTree(trees);
    }

    /** For each call of a function whose last name part is {@code function}: its arguments, in order. */
    List<List<JsonNode>> callsOf(String function) {
        List<List<JsonNode>> out = new ArrayList<>();
        for (JsonNode t : trees) {
            walk(t, node -> {
                JsonNode call = node.get("FuncCall");
                if (call != null && function.equals(last(call.get("funcname")))) {
                    List<JsonNode> args = new ArrayList<>();
                    call.path("args").forEach(args::add);
                    out.add(args);
                }
                // (pid).pg_cancel_backend is pg_cancel_backend(pid): attribute notation, one argument.
                JsonNode indirection = node.get("A_Indirection");
                if (indirection != null) {
                    for (io.phigate.sql.AttributeCalls.Call c : io.phigate.sql.AttributeCalls.of(indirection)) {
                        if (function.equals(c.name())) {
                            out.add(List.of(c.argument()));
                        }
                    }
                }
            });
        }
        return out;
    }

    /**
     * Every operator named, as written: {@code ["="]}, or {@code ["public", "==="]} for {@code OPERATOR(public.===)}.
     * Operators of expressions (including LIKE, IN, IS DISTINCT FROM, BETWEEN, which the grammar names by their
     * operator), of {@code ANY}/{@code ALL} subqueries and of {@code ORDER BY ... USING}.
     */
    Set<List<String>> operators() {
        Set<List<String>> out = new LinkedHashSet<>();
        for (JsonNode t : trees) {
            walk(t, node -> {
                addName(out, node.path("A_Expr").get("name"));
                addName(out, node.path("SubLink").get("operName"));
                addName(out, node.path("SortBy").get("useOp"));
            });
        }
        return out;
    }

    /** Every node of the given type ({@code "SelectStmt"}), as its body, at any depth. */
    List<JsonNode> nodes(String type) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode t : trees) {
            walk(t, node -> {
                JsonNode body = node.get(type);
                if (body != null) {
                    out.add(body);
                }
            });
        }
        return out;
    }

    /** Every node of the given type under {@code root}, as the node that holds it ({@code {"ColumnRef": ...}}). */
    static List<JsonNode> nodesIn(JsonNode root, String type) {
        List<JsonNode> out = new ArrayList<>();
        walk(root, node -> {
            if (node.has(type)) {
                out.add(node);
            }
        });
        return out;
    }

    /** A constant: a literal, perhaps cast ({@code 'on'::text}). */
    static boolean isConstant(JsonNode arg) {
        JsonNode cast = arg.get("TypeCast");
        return arg.has("A_Const") || (cast != null && isConstant(cast.path("arg")));
    }

    /** A bound parameter ({@code $1}), perhaps cast. */
    static boolean isParameter(JsonNode arg) {
        JsonNode cast = arg.get("TypeCast");
        return arg.has("ParamRef") || (cast != null && isParameter(cast.path("arg")));
    }

    /**
     * The text of a constant string argument as the server will have it, or null when it is not one, or when a cast
     * could change it: only a cast to {@code text} or to {@code varchar} without a length is seen through, since a
     * cast to {@code varchar(n)}, {@code char} or a domain cuts the text short ({@code 'role.x'::varchar(4)} is
     * {@code role} to the server).
     */
    static String constantText(JsonNode arg) {
        JsonNode cast = arg.get("TypeCast");
        if (cast != null) {
            return keepsText(cast.path("typeName")) ? constantText(cast.path("arg")) : null;
        }
        JsonNode s = arg.path("A_Const").path("sval").get("sval");
        return s == null ? null : s.asText();
    }

    /** {@code text} or {@code varchar}, perhaps qualified with pg_catalog, with no length or array bounds. */
    private static boolean keepsText(JsonNode typeName) {
        JsonNode names = typeName.path("names");
        if (typeName.has("typmods") || typeName.has("arrayBounds") || names.isEmpty() || names.size() > 2
                || (names.size() == 2 && !"pg_catalog".equals(names.get(0).path("String").path("sval").asText()))) {
            return false;
        }
        String type = last(names);
        return "text".equals(type) || "varchar".equals(type);
    }

    private static void addName(Set<List<String>> out, JsonNode name) {
        if (name == null || !name.isArray()) {
            return;
        }
        List<String> parts = new ArrayList<>();
        name.forEach(p -> parts.add(p.path("String").path("sval").asText()));
        out.add(List.copyOf(parts));
    }

    private static String last(JsonNode name) {
        if (name == null || !name.isArray() || name.isEmpty()) {
            return null;
        }
        return name.get(name.size() - 1).path("String").path("sval").asText();
    }

    /** Visits every object node, depth first, without recursion (trees may be up to PgGrammar's depth limit). */
    private static void walk(JsonNode root, java.util.function.Consumer<JsonNode> visit) {
        java.util.ArrayDeque<JsonNode> todo = new java.util.ArrayDeque<>();
        todo.push(root);
        while (!todo.isEmpty()) {
            JsonNode n = todo.pop();
            if (n.isObject()) {
                visit.accept(n);
            }
            if (n.isContainerNode()) {
                n.forEach(todo::push);
            }
        }
    }
}
