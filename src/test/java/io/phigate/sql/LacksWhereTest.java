package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LacksWhereTest {

    @Test
    void onlyATopLevelWhereRestrictsTheStatement() {
        assertThat(SqlAnalyzer.lacksWhere("DELETE FROM patients")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("delete from patients where id = 1")).isFalse();
        assertThat(SqlAnalyzer.lacksWhere("UPDATE patients SET note = (SELECT note FROM t WHERE t.id = 1)")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("WITH x AS (SELECT id FROM t WHERE id > 3) DELETE FROM patients")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("DELETE FROM patients USING x WHERE patients.id = x.id")).isFalse();
        assertThat(SqlAnalyzer.lacksWhere("DELETE FROM patients WHERE CURRENT OF c")).isFalse();
    }

    @Test
    void commentsStringsAndQuotedNamesAreNotAWhere() {
        assertThat(SqlAnalyzer.lacksWhere("DELETE FROM patients -- where id = 1")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("DELETE FROM patients /* where */")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("UPDATE patients SET note = 'where'")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("UPDATE patients SET \"where\" = 1")).isTrue();
        assertThat(SqlAnalyzer.lacksWhere("UPDATE patients SET note = $$ where $$")).isTrue();
    }
}
