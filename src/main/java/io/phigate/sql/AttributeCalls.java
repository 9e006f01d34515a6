package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Field selections the server may run as function calls. PostgreSQL reads {@code (x).f}, when {@code x} has no field
 * {@code f}, as the call {@code f(x)} ("attribute notation", PostgreSQL's docs, 8.16.5 and 38.5.2): {@code
 * (1).pg_sleep}, {@code ('seq').nextval} and {@code (ssn).pg_size_bytes} run the functions. A scan of the whole tree
 * for calls must see these too, or a call hides from it behind a field name.
 */
public final class AttributeCalls {
    /**
     * One field selection read as a call.
     *
     * @param name     the field's name, which is the function's when the server calls it
     * @param argument what it selects from ({@link MissingNode} for a field of a field: not a constant)
     * @param onName   true when the argument is a bare name ({@code (p).f}, {@code (p.*).f}): a row alias or a
     *                 column, which only the statement's scope tells apart
     */
    public record Call(String name, JsonNode argument, boolean onName) {
    }

    private AttributeCalls() {
    }

    /**
     * The field selections of one {@code A_Indirection} node's body, read as calls; callers meet the node in the
     * walk they already make over the tree, so no walk of its own is needed.
     */
    public static List<Call> of(JsonNode indirection) {
        List<Call> out = new ArrayList<>();
        JsonNode arg = indirection.path("arg");
        boolean first = true;
        for (JsonNode i : Tree.list(indirection, "indirection")) {
            String field = Tree.sval(i);
            if (field != null) {
                out.add(first ? new Call(field, arg, bareName(arg)) : new Call(field, MissingNode.getInstance(), false));
            }
            first = false;
        }
        return out;
    }

    /** {@code p} or {@code p.*}: a row alias or a column, which only the scope tells apart. */
    private static boolean bareName(JsonNode arg) {
        if (!Tree.is(arg, "ColumnRef")) {
            return false;
        }
        List<JsonNode> fields = Tree.list(Tree.body(arg), "fields");
        return Tree.sval(fields.getFirst()) != null
                && (fields.size() == 1 || (fields.size() == 2 && Tree.is(fields.getLast(), "A_Star")));
    }
}
