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
    private boolean codeInTransaction;
    private final CodeOutOfSight code = new CodeOutOfSight(CATALOG, () -> codeCreated, () -> codeInTransaction);

    private boolean mayRun(String sql) {
        StatementAnalysis a = analyzer.analyze(sql).getFirst();
        return code.mayRun(a);
    }

    @Test
    void statementsReadingPlainTablesAndTransactionMarksRunNothing() {
        for (String sql : new String[] {"SELECT id FROM plain", "SHOW search_path", "SET work_mem = '4MB'", "BEGIN",
                "SAVEPOINT s", "RELEASE s", "CREATE TABLE t (id int)", "INSERT INTO pg_temp.scratch VALUES (1)",
                "INSERT INTO plain VALUES (1)", "UPDATE plain SET id = id + 1 WHERE id = 3", "DELETE FROM plain",
                "COMMIT", "END", "ROLLBACK", "ROLLBACK TO s", "PREPARE TRANSACTION 'x'"}) {
            assertThat(mayRun(sql)).as(sql).isFalse();
        }
    }

    @Test
    void viewsTriggersFunctionsCommitsAndSetConstraintsMayRunCode() {
        for (String sql : new String[] {"SELECT id FROM summary", "INSERT INTO triggered VALUES (1)",
                "UPDATE triggered SET id = 2", "DELETE FROM triggered", "INSERT INTO public.unknown_table VALUES (1)",
                "INSERT INTO summary VALUES (1)", "MERGE INTO plain p USING plain q ON p.id = q.id WHEN MATCHED THEN DELETE",
                "INSERT INTO plain SELECT id FROM summary", "UPDATE plain SET id = hidden_redefine()",
                "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'",
                "SELECT hidden_redefine()", "SET CONSTRAINTS ALL IMMEDIATE",
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

    @Test
    void theEndOfATransactionRunsCodeOnlyWhereSomethingInItMayHave() {
        // deferred triggers are queued only by writes that run code; a ROLLBACK puts back what code set
        codeInTransaction = true;
        for (String sql : new String[] {"COMMIT", "END", "COMMIT AND CHAIN", "ROLLBACK", "ABORT", "ROLLBACK TO s",
                "PREPARE TRANSACTION 'x'"}) {
            assertThat(mayRun(sql)).as(sql).isTrue();
        }
        assertThat(mayRun("BEGIN")).isFalse();
    }

    @Test
    void aWriteReachingAChildOrACascadedTableThatRunsCodeRunsCode() {
        // attack10: the relaxed rule holds only if the analysis's writes include every table the server writes
        TableRef parent = new TableRef("public", "parent_plain");
        TableRef kid = new TableRef("public", "kid_triggered");
        TableRef referenced = new TableRef("public", "ref_plain");
        TableRef referencing = new TableRef("public", "ref_kid");
        PgCatalog catalog = PgCatalog.builder().searchPath("public")
                .table(16500, "public", "parent_plain", "id").table(16501, "public", "kid_triggered", "id")
                .inherits(kid, parent).runsCode(kid)
                .table(16502, "public", "ref_plain", "id").table(16503, "public", "ref_kid", "parent")
                .runsCode(referencing).foreignKey(referencing, referenced, 'c', 'd')
                .build();
        SqlAnalyzer reach = new SqlAnalyzer(catalog, 0);
        CodeOutOfSight judged = new CodeOutOfSight(catalog, () -> false, () -> false);
        for (String sql : new String[] {"INSERT INTO parent_plain VALUES (1)", "UPDATE parent_plain SET id = 2",
                "DELETE FROM ONLY parent_plain", "DELETE FROM ref_plain", "UPDATE ref_plain SET id = 3"}) {
            assertThat(judged.mayRun(reach.analyze(sql).getFirst())).as(sql).isTrue();
        }
        assertThat(judged.mayRun(reach.analyze("INSERT INTO ref_plain VALUES (1)").getFirst())).isFalse();
    }

    @Test
    void aReadOfAParentWithAForeignPartitionRunsItsWrapper() {
        TableRef parent = new TableRef("public", "parted_plain");
        TableRef remote = new TableRef("public", "parted_remote");
        PgCatalog catalog = PgCatalog.builder().searchPath("public")
                .table(16510, "public", "parted_plain", "id")
                .relation(new io.phigate.sql.Relation(16511, "public", "parted_remote",
                        io.phigate.sql.Relation.Kind.FOREIGN_TABLE, java.util.List.of("id"), null))
                .inherits(remote, parent).table(16512, "public", "alone", "id")
                .build();
        SqlAnalyzer reach = new SqlAnalyzer(catalog, 0);
        CodeOutOfSight judged = new CodeOutOfSight(catalog, () -> false, () -> false);
        assertThat(judged.mayRun(reach.analyze("SELECT id FROM parted_plain").getFirst())).isTrue();
        assertThat(judged.mayRun(reach.analyze("SELECT id FROM alone").getFirst())).isFalse();
    }
}
