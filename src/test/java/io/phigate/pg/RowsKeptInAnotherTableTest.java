package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * A tagged table's whole rows kept as a value in another table (a history table a trigger fills with {@code OLD},
 * typed by the table's row type, an array of it, or a composite over it) hold every value of the tagged column. The
 * tag on {@code patients.ssn} reached the column {@code ssn} only: {@code SELECT old FROM patients_history} gave
 * every SSN in clear, and {@code WHERE (old).ssn LIKE '1%'} answered by row count (decision 0093).
 */
class RowsKeptInAnotherTableTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static List<String> ssns;

    @BeforeAll
    static void start() throws Exception {
        ssns = SsnUnderAMovedPath.ssnsInClear();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.rows_kept_history, public.rows_kept_boxes");
            s.execute("DROP TYPE IF EXISTS public.rows_kept_box");
            s.execute("CREATE TABLE public.rows_kept_history (at timestamptz, old patients, olds patients[])");
            s.execute("INSERT INTO public.rows_kept_history SELECT now(), p, ARRAY[p] FROM patients p");
            s.execute("CREATE TYPE public.rows_kept_box AS (label text, row patients)");
            s.execute("CREATE TABLE public.rows_kept_boxes (box public.rows_kept_box)");
            s.execute("INSERT INTO public.rows_kept_boxes SELECT ROW('x', p)::public.rows_kept_box FROM patients p");
            String user = TestDatabase.get().user();
            s.execute("GRANT SELECT ON public.rows_kept_history, public.rows_kept_boxes TO " + user);
        }
        gw = SsnUnderAMovedPath.startMasking(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.rows_kept_history, public.rows_kept_boxes");
            s.execute("DROP TYPE IF EXISTS public.rows_kept_box");
        }
    }

    @Test
    void aRowKeptAsAValueIsMaskedWhole() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            Properties p = new Properties();
            p.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(p); Statement s = c.createStatement()) {
                for (String sql : List.of(
                        "SELECT old FROM rows_kept_history",
                        "SELECT olds FROM rows_kept_history",
                        "SELECT h FROM rows_kept_history h",
                        "SELECT h::text FROM rows_kept_history h",
                        "TABLE rows_kept_history",
                        "SELECT box FROM rows_kept_boxes",
                        "SELECT b::text FROM rows_kept_boxes b")) {
                    String got = everything(s, sql);
                    assertThat(ssns).as(mode + ": " + sql).noneMatch(got::contains);
                }
            }
        }
        try (Connection c = gw.connect(new Properties())) {
            StringWriter out = new StringWriter();
            c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY rows_kept_history TO STDOUT", out);
            assertThat(ssns).noneMatch(out.toString()::contains);
        }
    }

    @Test
    void aFieldOfAKeptRowSteersNothing() throws Exception {
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            for (String sql : List.of(
                    "SELECT count(*) FROM rows_kept_history WHERE (old).ssn LIKE '1%'",
                    "SELECT at FROM rows_kept_history ORDER BY (old).ssn LIMIT 1",
                    "SELECT count(*) FROM rows_kept_history WHERE olds[1] IS NULL",
                    "SELECT count(*) FROM rows_kept_boxes WHERE ((box).row).ssn > '5'",
                    // A kept row is one tagged value: no field of it is read apart, nor the row through code.
                    "SELECT (old).id FROM rows_kept_history",
                    "SELECT to_jsonb(h) FROM rows_kept_history h")) {
                assertThatThrownBy(() -> everything(s, sql)).as(sql)
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                        .hasMessageContaining("holds PHI (ssn)");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%rows_kept_%holds PHI (ssn)%'", 6)).hasSizeGreaterThanOrEqualTo(6);
    }

    private static String everything(Statement s, String sql) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                for (int i = 1; i <= n; i++) {
                    out.append(rs.getString(i)).append('|');
                }
            }
        }
        return out.toString();
    }
}
