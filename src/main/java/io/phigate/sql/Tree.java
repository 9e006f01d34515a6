package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reading libpg_query's JSON parse tree: a node is {@code {"Type": {fields}}}; fields whose value is zero, false
 * or empty are left out, enums are strings and names are {@code {"String": {"sval": "x"}}}, already folded by
 * the server's rules.
 */
final class Tree {
    private Tree() {
    }

    /**
     * Calls {@code visit} with every field of every object under {@code tree} (its name and value), at any depth, so
     * that nothing a statement holds is left unread by a reader that looks for one kind of node.
     */
    static void everyField(JsonNode tree, java.util.function.BiConsumer<String, JsonNode> visit) {
        java.util.Deque<JsonNode> todo = new java.util.ArrayDeque<>();
        todo.push(tree);
        while (!todo.isEmpty()) {
            JsonNode n = todo.pop();
            if (n.isArray()) {
                n.forEach(todo::push);
            } else if (n.isObject()) {
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    visit.accept(e.getKey(), e.getValue());
                    todo.push(e.getValue());
                }
            }
        }
    }

    /** The node's type ({@code "SelectStmt"}), or "" for a missing or empty node. */
    static String type(JsonNode node) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            return "";
        }
        return node.fieldNames().next();
    }

    /** The node's fields (what is inside {@code {"Type": ...}}). */
    static JsonNode body(JsonNode node) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            return MissingNode.getInstance();
        }
        return node.elements().next();
    }

    /** True for a node of this type. */
    static boolean is(JsonNode node, String type) {
        return node != null && node.isObject() && node.has(type);
    }

    /** The elements of a list field; empty when absent. */
    static List<JsonNode> list(JsonNode body, String field) {
        JsonNode n = body.path(field);
        if (!n.isArray()) {
            return List.of();
        }
        List<JsonNode> out = new ArrayList<>(n.size());
        n.forEach(out::add);
        return out;
    }

    /** A text field, or null when absent. */
    static String text(JsonNode body, String field) {
        JsonNode n = body.path(field);
        return n.isTextual() ? n.asText() : null;
    }

    /** The value of a String node, or null. */
    static String sval(JsonNode node) {
        return is(node, "String") ? node.path("String").path("sval").asText("") : null;
    }

    /** A list of String nodes as names ({@code ["pg_catalog", "lower"]}); other nodes as null. */
    static List<String> names(List<JsonNode> nodes) {
        List<String> out = new ArrayList<>(nodes.size());
        for (JsonNode n : nodes) {
            out.add(sval(n));
        }
        return out;
    }

    /** The last of a qualified name's parts. */
    static String last(List<String> parts) {
        return parts.isEmpty() ? null : parts.getLast();
    }

    /** The schema of a qualified name ({@code a.b}: a; {@code c.a.b}: a), or null when unqualified. */
    static String schemaOf(List<String> parts) {
        return parts.size() >= 2 ? parts.get(parts.size() - 2) : null;
    }

    /** Visits every object node under {@code node}, depth first, the node itself included. */
    static void forEachObject(JsonNode node, java.util.function.BiConsumer<String, JsonNode> visitor) {
        if (node == null) {
            return;
        }
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isObject()) {
                    visitor.accept(e.getKey(), e.getValue());
                }
                forEachObject(e.getValue(), visitor);
            }
        } else if (node.isArray()) {
            for (JsonNode n : node) {
                forEachObject(n, visitor);
            }
        }
    }
}
