package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The types a text names, as the server's grammar reads it: every {@code TypeName} of its parse tree (a cast, a
 * typed literal such as {@code dom 'x'}, a column definition, a function's column list), by its last name part as
 * the grammar gives it (folded, or as quoted). Making a value of a domain runs its CHECK constraints without any
 * function being named, so this is how a statement is seen to run a domain's code ({@link
 * PgCatalog#makingValuesRunsCode}).
 */
public final class TypeNames {
    private TypeNames() {
    }

    /** The type names of every statement of {@code text}; null when the grammar does not accept it (read as unknown). */
    public static Set<String> in(String text) {
        if (text == null) {
            return null;
        }
        PgGrammar.Parsed parsed = PgGrammar.parse(text);
        if (!parsed.ok()) {
            return null;
        }
        Set<String> out = new LinkedHashSet<>();
        for (PgGrammar.Statement s : parsed.statements()) {
            collect(s.tree(), out);
        }
        return out;
    }

    /** The type names of one parse tree. */
    static void collect(JsonNode tree, Set<String> out) {
        // A TypeName is a node of its own in lists ({"TypeName": {...}}) and a bare struct in typed fields
        // (typeName, argType, returnType, ofTypename, sourcetype, targettype).
        Tree.everyField(tree, (field, value) -> {
            String last = isTypeName(field, value) ? Tree.last(Tree.names(Tree.list(value, "names"))) : null;
            if (last != null) {
                out.add(last);
            }
        });
    }

    private static boolean isTypeName(String field, JsonNode value) {
        return value.isObject() && value.path("names").isArray()
                && (field.equals("TypeName") || field.toLowerCase(java.util.Locale.ROOT).contains("type"));
    }

    /** True when {@code text} names a type whose values run code when made, or cannot be read (fail closed). */
    public static boolean runCode(String text, PgCatalog catalog) {
        if (!catalog.hasCodeTypes()) {
            return false;
        }
        Set<String> names = in(text);
        return names == null || names.stream().anyMatch(catalog::makingValuesRunsCode);
    }
}
