package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TypeNamesTest {

    @Test
    void everyWayOfMakingAValueOfATypeNamesIt() {
        assertThat(named("SELECT 'x'::hidden_dom")).contains("hidden_dom");
        assertThat(named("SELECT CAST('x' AS s.Hidden_Dom)")).contains("hidden_dom");
        assertThat(named("SELECT \"Hidden\" 'x'")).contains("Hidden");
        assertThat(named("SELECT '{x}'::hidden_dom[]")).contains("hidden_dom");
        assertThat(named("SELECT ROW('x')::comp")).contains("comp");
        assertThat(named("CREATE TEMP TABLE t (a hidden_dom)")).contains("hidden_dom");
        assertThat(named("SELECT * FROM json_to_record('{}') AS r(a hidden_dom)")).contains("hidden_dom");
        assertThat(named("SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS b hidden_dom PATH 'b')"))
                .contains("hidden_dom");
        assertThat(named("PREPARE p(hidden_dom) AS SELECT $1")).contains("hidden_dom");
        assertThat(named("SELECT 1; SELECT 'x'::other")).contains("other");
    }

    @Test
    void aTextWithoutTypesNamesNoneAndOneTheGrammarRejectsIsUnknown() {
        assertThat(named("SELECT id, ssn FROM patients WHERE id = $1")).isEmpty();
        assertThat(named("SELEC 1")).isNull();
    }

    @Test
    void onlyACatalogWithCodeTypesMakesAnyStatementCode() {
        PgCatalog none = PgCatalog.builder().table(16400, "public", "people", "id", "d").build();
        PgCatalog some = PgCatalog.builder().table(16400, "public", "people", "id", "d")
                .table(16401, "public", "plain", "id", "note")
                .codeType("hidden_dom").codeType("people")
                .knownType("hidden_dom").knownType("people").knownType("plain").knownType("text").knownType("int4")
                .build();
        assertThat(makes(none, "SELECT 'x'::hidden_dom")).isFalse();
        assertThat(makes(none, "SELECT coalesce(d, 'x') FROM people")).isFalse();
        // named in the text
        assertThat(makes(some, "SELECT 'x'::hidden_dom")).isTrue();
        assertThat(makes(some, "SELECT 'x'::text, 1::int")).isFalse();
        // a name the catalog does not know: a temporary table's row type, a type made since
        assertThat(makes(some, "SELECT '(x)'::t")).isTrue();
        // no type named: an untyped literal takes a code-typed column's type, a row type comes from a row
        assertThat(makes(some, "SELECT coalesce(d, 'x') FROM people")).isTrue();
        assertThat(makes(some, "SELECT jsonb_populate_record(p, '{}') FROM plain p")).isTrue();
        assertThat(makes(some, "SELECT pg_catalog.domain_in('x', 16390, -1)")).isTrue();
        // a relation the catalog does not know (a temporary table) may have such a column
        assertThat(makes(some, "SELECT * FROM my_temp")).isTrue();
        assertThat(makes(some, "SELECT note FROM plain WHERE id = 1")).isFalse();
        assertThat(makes(some, "SELECT typname FROM pg_catalog.pg_type")).isFalse();
    }

    @Test
    void theTypesNamedComeFromTheAnalysisAndAnAnalysisWithoutThemIsCode() {
        PgCatalog some = PgCatalog.builder().table(16400, "public", "people", "id", "d")
                .codeType("hidden_dom").knownType("hidden_dom").knownType("text").build();
        StatementAnalysis read = new SqlAnalyzer(some).analyze("SELECT 'x'::text").getFirst();
        assertThat(read.facts().typeNames()).containsExactly("text");
        assertThat(TypeNames.mayMakeCodeValues(read, some)).isFalse();
        // The same statement with facts not read from its tree: what it names is unknown, so it counts as code.
        StatementAnalysis untyped = new StatementAnalysis(read.kind(), read.operations(), read.reads(), read.writes(),
                read.outputs(), read.opaqueFunctions(), false, null, null, null, true, null, read.text());
        assertThat(untyped.facts().typeNames()).isNull();
        assertThat(TypeNames.mayMakeCodeValues(untyped, some)).isTrue();
    }

    @Test
    void aParseMessagesParameterTypesCountAsTheSameTypesNamedInTheText() {
        PgCatalog some = PgCatalog.builder().codeType("hidden_dom").knownType(16390, "hidden_dom")
                .knownType(23, "int4").knownType(25, "text").build();
        java.util.List<StatementAnalysis> plain = new SqlAnalyzer(some).analyze("SELECT $1 IS NOT NULL");
        assertThat(TypeNames.mayMakeCodeValues(plain.getFirst(), some)).isFalse();
        assertThat(typed(plain, some, 16390)).isTrue();
        assertThat(typed(plain, some, 23, 25)).isFalse();
        assertThat(TypeNames.withParameterTypes(plain, new int[] {23, 25, 0}, some)).as("nothing to add").isSameAs(plain);
        assertThat(typed(plain, some, 0)).as("inferred by the server from the text").isFalse();
        assertThat(typed(plain, some, (int) 3_999_999_999L)).as("an OID the catalog does not know").isTrue();
        // Nothing to read where no type's values run code; the analysis itself is left as it was.
        PgCatalog none = PgCatalog.builder().build();
        assertThat(TypeNames.withParameterTypes(plain, new int[] {16390}, none)).isSameAs(plain);
        assertThat(plain.getFirst().facts().typeNames()).isEmpty();
    }

    private static boolean typed(java.util.List<StatementAnalysis> analyses, PgCatalog catalog, int... oids) {
        return TypeNames.mayMakeCodeValues(TypeNames.withParameterTypes(analyses, oids, catalog).getFirst(), catalog);
    }

    @Test
    void aFieldMentionsTypeInAnyCaseAnywhereInItsName() {
        for (String f : new String[]{"TypeName", "typeName", "argType", "returnType", "ofTypename", "sourcetype",
                "targettype", "TYPE", "type", "xtypex"}) {
            assertThat(TypeNames.mentionsType(f)).as(f).isTrue();
        }
        for (String f : new String[]{"names", "typ", "ype", "tyype", "t-ype", "location", "typmods", ""}) {
            assertThat(TypeNames.mentionsType(f)).as(f).isFalse();
        }
        // What it stands for, on every field name of trees that name types in each way the grammar has.
        int fields = 0;
        for (String sql : new String[]{"SELECT CAST('x' AS s.d), 'x'::d[], d 'x', ROW(1)::c, $1::int",
                "CREATE TABLE t (a d, b int[]) ; CREATE FUNCTION f(a d) RETURNS SETOF d LANGUAGE sql AS 'SELECT 1'",
                "CREATE CAST (d AS text) WITH INOUT; CREATE TYPE c AS (a d); ALTER TABLE t ALTER a TYPE d",
                "SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS b d PATH 'b'), json_to_record('{}') AS r(a d)"}) {
            for (PgGrammar.Statement s : PgGrammar.parse(sql).statements()) {
                java.util.List<String> names = new java.util.ArrayList<>();
                Tree.everyField(s.tree(), (field, value) -> names.add(field));
                for (String f : names) {
                    assertThat(TypeNames.mentionsType(f)).as(f)
                            .isEqualTo(f.toLowerCase(java.util.Locale.ROOT).contains("type"));
                    fields++;
                }
            }
        }
        assertThat(fields).isGreaterThan(100);
    }

    /** The type names the analysis of each statement of {@code sql} read; null when any is unparsed. */
    private static Set<String> named(String sql) {
        Set<String> out = new LinkedHashSet<>();
        for (StatementAnalysis a : new SqlAnalyzer(PgCatalog.builder().build()).analyze(sql)) {
            if (!a.parsed()) {
                return null;
            }
            out.addAll(a.facts().typeNames());
        }
        return out;
    }

    private static boolean makes(PgCatalog catalog, String sql) {
        return TypeNames.mayMakeCodeValues(new SqlAnalyzer(catalog).analyze(sql).getFirst(), catalog);
    }
}
