package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.StatementFacts.FunctionCall;
import java.util.List;
import java.util.Set;

/**
 * Every function a statement's parse tree names, wherever it stands, added to what the lineage walk found. The walk
 * follows the fields it models; a field it skips (an attack used TABLESAMPLE's REPEATABLE argument to hide
 * {@code set_config} and {@code query_to_xml} from the allowlist) must not hide a call, so this scan reads the whole
 * tree without regard to meaning. {@code XMLTABLE} in FROM is a node of its own rather than a call; it is listed as
 * the function {@code xmltable}, which the allowlist does not vet, so its XPath filter cannot steer rows unseen.
 * A field selection {@code (x).f} counts as the call {@code f(x)} the server may make of it ({@link AttributeCalls})
 * when a function has that name, unless {@code x} is a bare name: then only the statement's scope says whether it is a row alias with a column
 * {@code f}, and {@link Expressions} judges it there.
 */
final class EveryCall {
    private EveryCall() {
    }

    /** The calls of built-ins that may change state ({@link Catalog#changesState}), qualified as written. */
    static Set<String> changingState(Set<FunctionCall> functions, Catalog catalog) {
        Set<String> out = new java.util.LinkedHashSet<>();
        for (FunctionCall f : functions) {
            if (catalog.changesState(f.schema(), f.name())) {
                out.add(f.qualified());
            }
        }
        return java.util.Collections.unmodifiableSet(out);
    }

    /** Adds the call a field of a parse tree makes, if any; called with every field ({@link Tree#everyField}). */
    static void visit(String field, JsonNode value, Set<FunctionCall> functions, Catalog catalog) {
        if (field.equals("FuncCall")) {
            List<String> name = Tree.names(Tree.list(value, "funcname"));
            if (!name.isEmpty()) {
                functions.add(new FunctionCall(Tree.schemaOf(name), Tree.last(name)));
            }
        } else if (field.equals("RangeTableFunc")) {
            functions.add(new FunctionCall(null, "xmltable"));
        } else if (field.equals("A_Indirection")) {
            for (AttributeCalls.Call c : AttributeCalls.of(value)) {
                if (!c.onName() && catalog.definesFunction(c.name())) {
                    functions.add(new FunctionCall(null, c.name()));
                }
            }
        }
    }
}
