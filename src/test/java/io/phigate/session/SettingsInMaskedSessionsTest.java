package io.phigate.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings a masked session may change, through pgjdbc (decision 0054): the ones the gateway reads statements by
 * only to the value it reads with, as a string constant (a bound value would change how the server reads the rest
 * of an extended batch the gateway has already judged), and no planner setting (one can force an index-only scan
 * whose row order is a masked column's sort order).
 */
class SettingsInMaskedSessionsTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static List<String> lastNames = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS settings_people");
            s.execute("CREATE TABLE settings_people (id int PRIMARY KEY, code text, pad text)");
            // Codes out of id order, behind an index: an index-only scan returns them sorted.
            s.execute("INSERT INTO settings_people SELECT g, (ARRAY['M-9','M-1','M-5','M-2','M-8','M-3'])[g],"
                    + " repeat('x', 500) FROM generate_series(1, 6) g");
            s.execute("CREATE INDEX settings_people_code ON settings_people (code)");
            s.execute("VACUUM ANALYZE settings_people");
            s.execute("GRANT SELECT ON settings_people TO " + db.user());
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT upper(last_name) FROM patients")) {
            while (rs.next()) {
                lastNames.add(rs.getString(1));
            }
        }
        gw = GatewayHarness.startMasked(dir, """
                public.patients.ssn: ssn
                public.patients.last_name: name
                public.settings_people.code: mrn
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS settings_people");
        }
    }

    private static List<String> column(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Test
    void aBoundStandardConformingStringsIsRefusedBeforeTheBatchRuns() throws Exception {
        // Gateway (standard strings): two constants. Server after 'off': 'a'' , ' then upper(last_name) FROM patients.
        String batch = "SELECT set_config('standard_conforming_strings', ?, false);"
                + " SELECT 'a\\' , ' , upper(last_name) FROM patients --'";
        try (Connection c = gw.connect()) {
            List<String> received = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(batch)) {
                ps.setString(1, "off");
                assertThatThrownBy(() -> {
                    boolean rows = ps.execute();
                    while (rows || ps.getUpdateCount() != -1) {
                        if (rows) {
                            try (ResultSet rs = ps.getResultSet()) {
                                while (rs.next()) {
                                    received.add(rs.getString(rs.getMetaData().getColumnCount()));
                                }
                            }
                        }
                        rows = ps.getMoreResults();
                    }
                }).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("standard_conforming_strings");
                });
            }
            assertThat(received).doesNotContainAnyElementsOf(lastNames);
            try (Statement s = c.createStatement()) {
                assertThat(column(s, "SHOW standard_conforming_strings")).containsExactly("on");
                assertThat(column(s, "SELECT set_config('standard_conforming_strings', 'on', false)"))
                        .containsExactly("on");
            }
        }
    }

    @Test
    void aPlannerSettingCannotSortRowsByAMaskedColumn() throws Exception {
        String sorted;
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("SET enable_seqscan = off");
            sorted = String.join(",", column(s, "SELECT code FROM settings_people"));
        }
        assertThat(sorted).as("directly, the index returns the codes sorted").isEqualTo("M-1,M-2,M-3,M-5,M-8,M-9");
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            for (String set : List.of("SET enable_seqscan = off", "SET LOCAL seq_page_cost = 100",
                    "SELECT set_config('random_page_cost', '0', false)")) {
                assertThatThrownBy(() -> s.execute(set)).as(set).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            assertThat(column(s, "SHOW enable_seqscan")).containsExactly("on");
            s.execute("SET statement_timeout = '5s'");
            s.execute("RESET enable_seqscan");
            assertThat(column(s, "SELECT code FROM settings_people")).hasSize(6)
                    .allSatisfy(code -> assertThat(code).startsWith("mrn_"));
        }
    }
}
