package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rows of a view over a tagged table kept as values elsewhere. A view's row type carries no declared tag, so decision
 * 0093's holders missed it: a history table {@code (old v)} an administrator filled from {@code v = SELECT id, ssn
 * FROM patients} gave every SSN in clear through {@code SELECT old}, and {@code WHERE (old).ssn LIKE '1%'} answered
 * by row count; the same through a materialized view and a view over that view. A view's row is now tagged by its
 * columns' lineage (decision 0095).
 */
class RowsOfAViewKeptTest {
    private static final String DROP = "DROP TABLE IF EXISTS public.rows_of_view_history;"
            + " DROP VIEW IF EXISTS public.rows_of_view_outer, public.rows_of_view;"
            + " DROP MATERIALIZED VIEW IF EXISTS public.rows_of_mview";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static List<String> ssns;

    @BeforeAll
    static void start() throws Exception {
        ssns = SsnUnderAMovedPath.ssnsInClear();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
            s.execute("CREATE VIEW public.rows_of_view AS SELECT id, ssn FROM patients");
            s.execute("CREATE VIEW public.rows_of_view_outer AS SELECT * FROM public.rows_of_view");
            s.execute("CREATE MATERIALIZED VIEW public.rows_of_mview AS SELECT id, ssn FROM patients");
            s.execute("CREATE TABLE public.rows_of_view_history (at timestamptz, old public.rows_of_view,"
                    + " outer_old public.rows_of_view_outer, mold public.rows_of_mview, olds public.rows_of_view[])");
            s.execute("INSERT INTO public.rows_of_view_history SELECT now(), v, ROW(v.id, v.ssn)::public.rows_of_view_outer,"
                    + " ROW(v.id, v.ssn)::public.rows_of_mview,"
                    + " ARRAY[v] FROM public.rows_of_view v");
            s.execute("GRANT SELECT ON public.rows_of_view_history TO " + TestDatabase.get().user());
        }
        gw = SsnUnderAMovedPath.startMasking(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
        }
    }

    @Test
    void aViewsRowKeptAsAValueIsMaskedWhole() throws Exception {
        List<String> reads = List.of(
                "SELECT old FROM rows_of_view_history",
                "SELECT outer_old FROM rows_of_view_history",
                "SELECT mold FROM rows_of_view_history",
                "SELECT olds FROM rows_of_view_history",
                "SELECT h::text FROM rows_of_view_history h");
        for (String mode : List.of("simple", "extended")) {
            Properties p = new Properties();
            p.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(p); Statement s = c.createStatement()) {
                for (String sql : reads) {
                    List<String> got = SsnUnderAMovedPath.column(s, sql);
                    assertThat(got).as(mode + ": " + sql).isNotEmpty();
                    assertThat(ssns).as(mode + ": " + sql).noneMatch(ssn -> got.stream().anyMatch(v -> v.contains(ssn)));
                }
            }
        }
        List<Map<String, Object>> done = gw.auditEventually("kind = 'statement_completed'"
                + " and detail like '%(ssn)=%' and detail not like '%refused%'", 2 * reads.size());
        assertThat(done).hasSizeGreaterThanOrEqualTo(2 * reads.size());
        assertThat(done).allSatisfy(r -> assertThat(ssns).noneMatch(String.valueOf(r)::contains));
    }

    @Test
    void aFieldOfAViewsKeptRowSteersNothing() throws Exception {
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            for (String sql : List.of(
                    "SELECT count(*) FROM rows_of_view_history WHERE (old).ssn LIKE '1%'",
                    "SELECT count(*) FROM rows_of_view_history WHERE (outer_old).ssn LIKE '1%'",
                    "SELECT count(*) FROM rows_of_view_history WHERE (mold).ssn LIKE '1%'",
                    "SELECT at FROM rows_of_view_history ORDER BY (olds[1]).ssn LIMIT 1",
                    "SELECT (old).ssn FROM rows_of_view_history")) {
                assertThatThrownBy(() -> SsnUnderAMovedPath.column(s, sql)).as(sql)
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                        .hasMessageContaining("holds PHI (ssn)");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%rows_of_view_history%holds PHI (ssn)%'", 5)).hasSizeGreaterThanOrEqualTo(5);
    }

    @Test
    void aMaskedSessionCannotFillAHolderOfAViewsRowsItMade() throws Exception {
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE own_holder (x public.rows_of_view)");
            for (String sql : List.of(
                    "INSERT INTO own_holder SELECT v FROM public.rows_of_view v",
                    "INSERT INTO own_holder SELECT ROW(id, ssn)::public.rows_of_view FROM patients",
                    "CREATE TEMP TABLE own_copy AS SELECT v FROM public.rows_of_view v",
                    "CREATE TYPE pg_temp.own_box AS (p public.rows_of_view)")) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql)
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            assertThat(SsnUnderAMovedPath.column(s, "SELECT count(*) FROM own_holder")).containsExactly("0");
        }
    }
}
