package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The order PostgreSQL reads the items of a {@code WITH RECURSIVE} in. Under RECURSIVE an item may name a later one
 * (the server sorts them by what they reference), so reading them as written resolved such a name as the table it
 * is also the name of: {@code WITH RECURSIVE j AS (SELECT department || '' FROM encounters), encounters(department)
 * AS (SELECT ssn FROM patients) SELECT * FROM j} returned the SSNs as an unmasked department. Pure.
 */
final class CteOrder {
    private CteOrder() {
    }

    /**
     * The items, each after every sibling it names (as an unqualified relation, anywhere in its query, which may
     * over-count a name an inner WITH redefines: then stricter, never looser). Ties keep the written order.
     *
     * @throws IllegalArgumentException when items name each other in a cycle (the server refuses mutual recursion)
     */
    static List<JsonNode> sorted(List<JsonNode> ctes) {
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        for (JsonNode node : ctes) {
            byName.putIfAbsent(text(body(node), "ctename"), node);
        }
        if (byName.size() != ctes.size()) {
            return ctes; // two items of one name: the server refuses the statement
        }
        Map<JsonNode, Set<String>> needs = new LinkedHashMap<>();
        for (JsonNode node : ctes) {
            String own = text(body(node), "ctename");
            Set<String> named = new HashSet<>();
            Tree.everyField(body(node).path("ctequery"), (field, value) -> {
                String relation = "RangeVar".equals(field) && value.path("schemaname").isMissingNode()
                        ? text(value, "relname") : null;
                if (relation != null && !relation.equals(own) && byName.containsKey(relation)) {
                    named.add(relation);
                }
            });
            needs.put(node, named);
        }
        List<JsonNode> out = new ArrayList<>();
        Set<String> done = new HashSet<>();
        while (out.size() < ctes.size()) {
            JsonNode next = null;
            for (JsonNode node : ctes) {
                if (!done.contains(text(body(node), "ctename")) && done.containsAll(needs.get(node))) {
                    next = node;
                    break;
                }
            }
            if (next == null) {
                throw new IllegalArgumentException("WITH RECURSIVE items that name each other in a cycle");
            }
            out.add(next);
            done.add(text(body(next), "ctename"));
        }
        return out;
    }
}
