package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.TableRef;
import org.junit.jupiter.api.Test;

/** Which statements may run code the gateway does not read (decision 0064), by the session's catalog. */
class CodeOutOfSightTest {
    private static final PgCatalog CATALOG = PgCatalog.builder().searchPath("public")
            .table(16400, "public", "plain", "id")
            .table(16401, "public", "triggered", "id")
            .runsCode(new TableRef("public", "triggered"))
            .view(16402, "public", "summary", "SELECT id FROM public.plain", "id")
            .build();
    private final SqlAnalyzer analyzer = new SqlAnalyzer(CATALOG, 0);
    private boolean codeCreated;
    private final CodeOutOfSight code = new CodeOutOfSight(CATALOG, () -> codeCreated);

    private boolean mayRun(String sql) {
        StatementAnalysis a = analyzer.analyze(sql).getFirst();
        return code.mayRun(a);
    }

    @Test
    void statementsReadingPlainTablesAndTransactionMarksRunNothing() {
        for (String sql : new String[] {"SELECT id FROM plain", "SHOW search_path", "SET work_mem = '4MB'", "BEGIN",
                "SAVEPOINT s", "RELEASE s", "CREATE TABLE t (id int)", "INSERT INTO pg_temp.scratch VALUES (1)"}) {
            assertThat(mayRun(sql)).as(sql).isFalse();
        }
    }

    @Test
    void viewsTriggersFunctionsCommitsAndSetConstraintsMayRunCode() {
        for (String sql : new String[] {"SELECT id FROM summary", "INSERT INTO plain VALUES (1)",
                "SELECT hidden_redefine()", "COMMIT", "ROLLBACK", "ROLLBACK TO s", "SET CONSTRAINTS ALL IMMEDIATE",
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "DO 'BEGIN END'"}) {
            assertThat(mayRun(sql)).as(sql).isTrue();
        }
        assertThat(code.mayRun(null)).isTrue();
    }

    @Test
    void theSessionsTemporaryTablesRunCodeOnlyWhereItCreatedCode() {
        assertThat(mayRun("INSERT INTO pg_temp.scratch VALUES (1)")).isFalse();
        codeCreated = true;
        assertThat(mayRun("INSERT INTO pg_temp.scratch VALUES (1)")).isTrue();
    }
}
