package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Temporary tables a masked session creates and fills itself (issue 25 item 1, decision 0050), through pgjdbc: what
 * the session wrote reads back exactly as in a pass-through session, and what it could not have vouched for (a
 * table shadowing a PHI table, one a trigger filled, one a rolled-back CREATE left behind) stays masked.
 */
class SessionTablesThroughGatewayTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> seeds;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            // A table whose trigger copies an SSN into whatever "trigger_log" means on the writer's search path:
            // a temporary table of that name comes first.
            s.execute("CREATE TABLE IF NOT EXISTS trigger_source (id int)");
            s.execute("GRANT ALL ON trigger_source TO " + db.user());
            s.execute("""
                    CREATE OR REPLACE FUNCTION trigger_copies_ssn() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      EXECUTE 'INSERT INTO trigger_log SELECT ssn FROM patients ORDER BY id LIMIT 5';
                      RETURN NEW;
                    END $$""");
            s.execute("DROP TRIGGER IF EXISTS copies_ssn ON trigger_source");
            s.execute("CREATE TRIGGER copies_ssn AFTER INSERT ON trigger_source FOR EACH ROW"
                    + " EXECUTE FUNCTION trigger_copies_ssn()");
        }
        seeds = new LinkedHashSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients ORDER BY id LIMIT 50")) {
            while (rs.next()) {
                seeds.add(rs.getString(1));
            }
        }
        // Detection off, so that only lineage stands between a trigger's SSNs and the client.
        gw = GatewayHarness.startMasked(dir, """
                public.patients.ssn: ssn
                public.patients.last_name: name
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
    }

    private static List<List<String>> rows(Statement s, String sql) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    private static final String[] FILL = {
        "CREATE TEMP TABLE notes (id int, note text, at date)",
        "INSERT INTO notes VALUES (1, 'first', '2020-01-02'), (2, 'second', NULL)",
        "ALTER TABLE notes ADD COLUMN score numeric DEFAULT 1.5",
        "UPDATE notes SET note = note || '!' WHERE id = 2",
        "CREATE TEMP TABLE copied AS SELECT id, upper(note) AS loud FROM notes",
    };

    private static List<List<String>> filled(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : FILL) {
                s.execute(sql);
            }
            List<List<String>> out = new ArrayList<>(rows(s, "SELECT * FROM notes ORDER BY id"));
            out.addAll(rows(s, "SELECT c.id, c.loud, n.score FROM copied c JOIN notes n USING (id) ORDER BY 1"));
            return out;
        }
    }

    @Test
    void temporaryTableFilledWithTheSessionsOwnValuesReadsBackAsInPassThrough() throws Exception {
        List<List<String>> direct;
        try (Connection c = TestDatabase.get().direct()) {
            direct = filled(c);
        }
        try (Connection c = gw.connect()) {
            assertThat(filled(c)).isEqualTo(direct).isNotEmpty();
            try (Statement s = c.createStatement()) {
                // Prepared statements (extended protocol, server-side) read the same.
                s.execute("PREPARE again AS SELECT note FROM notes ORDER BY id");
                assertThat(rows(s, "EXECUTE again")).containsExactly(List.of("first"), List.of("second!"));
            }
        }
    }

    @Test
    void temporaryTableShadowingAPhiTableStaysMasked() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE patients (ssn text)");
            s.execute("INSERT INTO patients VALUES ('written-by-me')");
            assertThat(rows(s, "SELECT ssn FROM patients")).doesNotContain(List.of("written-by-me"));
        }
    }

    @Test
    void temporaryTableATriggerFilledWithPhiStaysMasked() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE trigger_log (v text)");
            s.execute("INSERT INTO trigger_source VALUES (1)");
            List<List<String>> got = rows(s, "SELECT v FROM trigger_log");
            assertThat(got).hasSize(5);
            for (List<String> row : got) {
                assertThat(seeds).doesNotContain(row.getFirst());
            }
        }
    }

    @Test
    void createCommittedByACommitStatementReadsBackAsTheSessionWroteIt() throws Exception {
        // The COMMIT's CommandComplete tag is what says it committed (decision 0083 reads it only where it matters).
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("CREATE TEMP TABLE kept (v text)");
            s.execute("INSERT INTO kept VALUES ('inside')");
            c.commit();
            c.setAutoCommit(true);
            assertThat(rows(s, "SELECT v FROM kept")).containsExactly(List.of("inside"));
        }
    }

    @Test
    void createRolledBackLeavesTheNameAsTheServerHasIt() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("CREATE TEMP TABLE gone (v text)");
            s.execute("INSERT INTO gone VALUES ('inside')");
            assertThat(rows(s, "SELECT v FROM gone")).containsExactly(List.of("inside"));
            c.rollback();
            c.setAutoCommit(true);
            assertThatThrownBy(() -> rows(s, "SELECT v FROM gone")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("does not exist");
            s.execute("CREATE TEMP TABLE gone (v text, w text)");
            s.execute("INSERT INTO gone VALUES ('after', 'rollback')");
            assertThat(rows(s, "SELECT v, w FROM gone")).containsExactly(List.of("after", "rollback"));
        }
    }

    @Test
    void copyingTaggedColumnsIntoATemporaryTableIsRefusedNamingThem() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("CREATE TEMP TABLE leak AS SELECT id, ssn FROM patients"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("public.patients.ssn");
        }
    }

    @Test
    void untaggedColumnsOfAPhiTableCopyIntoATemporaryTableAndReadBack() throws Exception {
        List<List<String>> direct;
        String query = "SELECT id, state FROM kept ORDER BY id LIMIT 20";
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE kept AS SELECT id, state FROM patients");
            direct = rows(s, query);
        }
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE kept AS SELECT id, state FROM patients");
            assertThat(rows(s, query)).isEqualTo(direct).hasSize(20);
        }
    }

    @Test
    void aNullTheGatewaySubstitutesComesWithOneNoticeNamingTheColumnAndTheRule() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            List<List<String>> got = rows(s, "SELECT id, length(ssn) AS ssn_length FROM patients ORDER BY id LIMIT 30");
            assertThat(got).hasSize(30).allSatisfy(row -> assertThat(row.get(1)).isNull());
            List<String> notices = new ArrayList<>();
            for (java.sql.SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.add(w.getMessage());
            }
            // One per statement and column, not one per row; names and the rule, no value.
            assertThat(notices).hasSize(1);
            assertThat(notices.getFirst()).contains("\"ssn_length\"", "public.patients.ssn (ssn)", "redact");
            for (String seed : seeds) {
                assertThat(notices.getFirst()).doesNotContain(seed);
            }
            s.clearWarnings();
            rows(s, "SELECT id, length(state) AS state_length FROM patients ORDER BY id LIMIT 3");
            assertThat((Object) s.getWarnings()).as("no NULL substituted, nothing to say").isNull();
        }
        List<java.util.Map<String, Object>> completed = gw.auditEventually(
                "kind = 'statement_completed' and detail like '%ssn_length(ssn)=redact%'", 1);
        assertThat(completed).hasSize(1);
    }
}
