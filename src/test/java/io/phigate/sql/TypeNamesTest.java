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
    void onlyACatalogWithCodeTypesMakesACastCode() {
        PgCatalog none = PgCatalog.builder().build();
        PgCatalog some = PgCatalog.builder().codeType("hidden_dom").build();
        assertThat(TypeNames.runCode("SELECT 'x'::hidden_dom", none)).isFalse();
        assertThat(TypeNames.runCode("SELECT 'x'::hidden_dom", some)).isTrue();
        assertThat(TypeNames.runCode("SELECT 'x'::text", some)).isFalse();
        assertThat(TypeNames.runCode("SELEC 1", some)).isTrue();
    }
}
