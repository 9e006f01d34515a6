package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TypeNamesTest {

    @Test
    void everyWayOfMakingAValueOfATypeNamesIt() {
        assertThat(TypeNames.in("SELECT 'x'::hidden_dom")).contains("hidden_dom");
        assertThat(TypeNames.in("SELECT CAST('x' AS s.Hidden_Dom)")).contains("hidden_dom");
        assertThat(TypeNames.in("SELECT \"Hidden\" 'x'")).contains("Hidden");
        assertThat(TypeNames.in("SELECT '{x}'::hidden_dom[]")).contains("hidden_dom");
        assertThat(TypeNames.in("SELECT ROW('x')::comp")).contains("comp");
        assertThat(TypeNames.in("CREATE TEMP TABLE t (a hidden_dom)")).contains("hidden_dom");
        assertThat(TypeNames.in("SELECT * FROM json_to_record('{}') AS r(a hidden_dom)")).contains("hidden_dom");
        assertThat(TypeNames.in("SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS b hidden_dom PATH 'b')"))
                .contains("hidden_dom");
        assertThat(TypeNames.in("PREPARE p(hidden_dom) AS SELECT $1")).contains("hidden_dom");
        assertThat(TypeNames.in("SELECT 1; SELECT 'x'::other")).contains("other");
    }

    @Test
    void aTextWithoutTypesNamesNoneAndOneTheGrammarRejectsIsUnknown() {
        assertThat(TypeNames.in("SELECT id, ssn FROM patients WHERE id = $1")).isEmpty();
        assertThat(TypeNames.in("SELEC 1")).isNull();
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

    private static boolean makes(PgCatalog catalog, String sql) {
        return TypeNames.mayMakeCodeValues(new SqlAnalyzer(catalog).analyze(sql).getFirst(), catalog);
    }
}
