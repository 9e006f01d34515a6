package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.List;
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

    /**
     * Adds the type a field of a parse tree names, when it is a {@code TypeName}: a node of its own in lists
     * ({@code {"TypeName": {...}}}) and a bare struct in typed fields (typeName, argType, returnType, ofTypename,
     * sourcetype, targettype). Called with every field of a statement's tree ({@link Tree#everyField}), in the
     * analyser's one walk that also finds every call ({@link SqlAnalyzer}), so the text is not parsed again.
     */
    static void visit(String field, JsonNode value, Set<String> out) {
        if (isTypeName(field, value)) {
            String last = Tree.last(Tree.names(Tree.list(value, "names")));
            if (last != null) {
                out.add(last);
            }
        }
    }

    /**
     * Tests in the order of cost: most fields of a tree are a location or a name, and few objects' field names say
     * "type" (in any case; the parse tree's field names are ASCII, user text is only ever a value).
     */
    private static boolean isTypeName(String field, JsonNode value) {
        return value.isObject() && mentionsType(field) && value.path("names").isArray();
    }

    /**
     * {@code field.toLowerCase(Locale.ROOT).contains("type")} for an ASCII name, without a new string for every
     * field of every statement: "type" is looked for only where a {@code y} stands.
     */
    static boolean mentionsType(String field) {
        for (int i = 1; i + 2 < field.length(); i++) {
            char c = field.charAt(i);
            if ((c == 'y' || c == 'Y') && field.regionMatches(true, i - 1, "type", 0, 4)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The name under which a parameter type OID the catalog does not know is counted: no type can be named so (the
     * server's names end at a NUL byte), so {@link PgCatalog#knowsType} never knows it and it is read as code, as an
     * unknown name in the text is.
     */
    static final String UNKNOWN_OID = "\u0000unknown type OID";

    /**
     * {@code analyses} as the server runs them when a Parse message gives {@code parameterTypes}: a parameter whose
     * type is a domain has the domain's CHECK run when a value is bound to it, with no type named in the text
     * (decision 0080). Each type given by OID counts exactly as the same type named in the text would (by its
     * name, {@link #mayMakeCodeValues}); an OID the catalog does not know (a type made since it was read, a temporary
     * table's row type) counts as an unknown name. OID 0 leaves the type to the server, which infers it from the
     * text: from a type the text names or a column it reads, both already judged. Only the names that change the
     * judgment are added (a type known to run no code, such as pgjdbc's int4 and varchar, adds nothing), so the
     * ordinary Parse keeps its cached analysis: a copy per Parse cost 1-7 µs on the shared machine. Unchanged where the
     * catalog holds no type whose values run code (nothing would read the names) or no type is given.
     */
    public static List<StatementAnalysis> withParameterTypes(List<StatementAnalysis> analyses, int[] parameterTypes,
                                                             PgCatalog catalog) {
        if (catalog == null || !catalog.hasCodeTypes() || parameterTypes == null) {
            return analyses;
        }
        Set<String> named = new LinkedHashSet<>();
        for (int oid : parameterTypes) {
            String name = oid == 0 ? null : catalog.typeName(oid);
            if (oid != 0 && name == null) {
                named.add(UNKNOWN_OID);
            } else if (name != null && catalog.makingValuesRunsCode(name)) {
                named.add(name);
            }
        }
        if (named.isEmpty()) {
            return analyses;
        }
        return analyses.stream().map(a -> a.withTypeNames(named)).toList();
    }

    /**
     * Built-ins that make a value of a type chosen while the statement runs (by a row argument's type, an OID or a
     * name given as text), so no TypeName in the text says which.
     */
    static final Set<String> RUN_TIME_TYPES = Set.of("json_populate_record", "json_populate_recordset",
            "jsonb_populate_record", "jsonb_populate_recordset", "jsonb_populate_record_valid", "record_in",
            "record_recv", "domain_in", "domain_recv", "array_in", "array_recv", "range_in", "range_recv",
            "multirange_in", "multirange_recv", "pg_input_is_valid", "pg_input_error_info");

    private static final Set<String> SERVER_SCHEMAS = Set.of("pg_catalog", "information_schema");

    /**
     * True when running {@code a} may make a value of a type whose values run code ({@link
     * PgCatalog#makingValuesRunsCode}), where the catalog holds such a type; false where it holds none. A value is
     * made where the text names the type (a cast, a typed literal, a column definition), and also where it names
     * none: a row type comes from a whole-row reference ({@code jsonb_populate_record(p, ...)}) or from a relation
     * made since the catalog was read, and expressions over a column of such a type may resolve to it. So, fail
     * closed: a type name the catalog does not know, a read of a relation whose row type is such a
     * type or that the catalog does not know (a temporary table), a built-in of {@link #RUN_TIME_TYPES}, a
     * statement the grammar does not accept, or an analysis whose type names were not read from its parse tree
     * ({@link StatementFacts#typeNames()} null). The type names, calls and reads are all the analysis's own: the
     * text is not parsed again.
     */
    public static boolean mayMakeCodeValues(StatementAnalysis a, PgCatalog catalog) {
        if (!catalog.hasCodeTypes()) {
            return false;
        }
        if (!a.parsed()) {
            return true;
        }
        for (StatementFacts.FunctionCall f : a.facts().functions()) {
            if (RUN_TIME_TYPES.contains(f.name().toLowerCase(java.util.Locale.ROOT))) {
                return true;
            }
        }
        for (TableRef t : a.reads()) {
            if (!SERVER_SCHEMAS.contains(t.schema()) && (catalog.makingValuesRunsCode(t.table())
                    || catalog.relation(t.schema(), t.table()).isEmpty())) {
                return true;
            }
        }
        Set<String> names = a.facts().typeNames();
        return names == null || names.stream().anyMatch(n -> catalog.makingValuesRunsCode(n) || !catalog.knowsType(n));
    }
}
