package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that wants a delete a rule holds for approval, without asking: every other form of the same delete,
 * through pgjdbc and the gateway, must be held (or refused) too, and no row may go.
 */
class ApprovalBypassTest {
    static final String AGENT = "system:serviceaccount:clinical:bypass-agent";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), """
                approvers:
                  phi-approvers:
                    match: { issuer: "%s", claims: { groups: "phi-approvers" } }
                rules:
                  - name: purges
                    when: { operations: [delete], tables: [bypass_t] }
                    require_approval: { group: phi-approvers, approvers: 1, timeout: 30s, mode: ticket }
                  - name: counted
                    when: { operations: [insert], tables: [bypass_counter] }
                    require_approval: { group: phi-approvers, approvers: 1, timeout: 30s, uses: 2 }
                """.formatted(GatewayHarness.ISSUER));
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS bypass_t, bypass_log, bypass_rule CASCADE");
            s.execute("CREATE TABLE bypass_t (id int primary key, note text)");
            s.execute("INSERT INTO bypass_t SELECT g, 'row ' || g FROM generate_series(1, 80) g");
            s.execute("CREATE OR REPLACE VIEW bypass_v AS SELECT * FROM bypass_t");
            s.execute("CREATE TABLE bypass_log (id int)");
            s.execute("CREATE OR REPLACE FUNCTION bypass_purge(i int) RETURNS void LANGUAGE sql"
                    + " AS 'DELETE FROM bypass_t WHERE id = i'");
            s.execute("CREATE OR REPLACE FUNCTION bypass_on_log() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN DELETE FROM bypass_t WHERE id = NEW.id; RETURN NEW; END $$");
            s.execute("CREATE TRIGGER bypass_on_log AFTER INSERT ON bypass_log FOR EACH ROW"
                    + " EXECUTE FUNCTION bypass_on_log()");
            s.execute("CREATE OR REPLACE VIEW bypass_fv AS SELECT id, bypass_purge(id)::text AS gone FROM bypass_t");
            s.execute("DROP TABLE IF EXISTS bypass_plain, bypass_counter");
            s.execute("CREATE TABLE bypass_counter (n int)");
            // Two overloads: which one runs depends on the parameter type the Parse declares, not on the text.
            s.execute("CREATE OR REPLACE FUNCTION bypass_f(i int) RETURNS text LANGUAGE sql AS 'SELECT ''looked'''");
            s.execute("CREATE OR REPLACE FUNCTION bypass_f(i text) RETURNS text LANGUAGE sql"
                    + " AS 'DELETE FROM bypass_t WHERE id = i::int RETURNING ''deleted'''");
            s.execute("CREATE TABLE bypass_plain (id int)");
            s.execute("CREATE OR REPLACE FUNCTION bypass_chk(i int) RETURNS boolean LANGUAGE plpgsql AS"
                    + " $$ BEGIN DELETE FROM bypass_t WHERE id = i; RETURN true; END $$");
            s.execute("DROP TABLE IF EXISTS bypass_checked, bypass_domained");
            s.execute("CREATE TABLE bypass_checked (id int CHECK (bypass_chk(id)))");
            s.execute("DROP DOMAIN IF EXISTS bypass_dom");
            s.execute("CREATE DOMAIN bypass_dom AS int CHECK (bypass_chk(VALUE))");
            s.execute("CREATE TABLE bypass_domained (id bypass_dom)");
            s.execute("CREATE TABLE bypass_rule (id int)");
            s.execute("CREATE RULE bypass_rule_purge AS ON INSERT TO bypass_rule DO INSTEAD"
                    + " DELETE FROM bypass_t WHERE id = NEW.id");
        }
        gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    static int counted() throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM bypass_counter")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static Connection agent(String mode) throws Exception {
        return agent(mode, new Properties());
    }

    static Connection agent(String mode, Properties p) throws Exception {
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token(AGENT, Duration.ofMinutes(5)));
        p.setProperty("preferQueryMode", mode);
        return java.sql.DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    static boolean present(int id) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM bypass_t WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    @Test
    void noOtherFormOfAHeldDeleteRunsWithoutApproval() throws Exception {
        Map<Integer, String> forms = new LinkedHashMap<>();
        forms.put(1, "DO $$ BEGIN DELETE FROM bypass_t WHERE id = 1; END $$");
        forms.put(2, "SELECT bypass_purge(2)");
        forms.put(3, "INSERT INTO bypass_log VALUES (3)");
        forms.put(4, "INSERT INTO bypass_rule VALUES (4)");
        forms.put(5, "SELECT 1; DELETE FROM bypass_t WHERE id = 5");
        forms.put(6, "WITH d AS (DELETE FROM bypass_t WHERE id = 6 RETURNING *) SELECT count(*) FROM d");
        forms.put(7, "COPY (DELETE FROM bypass_t WHERE id = 7 RETURNING id) TO STDOUT");
        forms.put(8, "EXPLAIN ANALYZE DELETE FROM bypass_t WHERE id = 8");
        forms.put(9, "MERGE INTO bypass_t t USING (SELECT 9 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE");
        forms.put(10, "DELETE FROM bypass_v WHERE id = 10");
        forms.put(11, "DELETE FROM public.bypass_t WHERE id = 11");
        forms.put(12, "DELETE FROM \"bypass_t\" WHERE id = 12");
        forms.put(13, "DELETE FROM ONLY bypass_t WHERE id = 13");
        forms.put(14, "BEGIN; DELETE FROM bypass_t WHERE id = 14; COMMIT");
        forms.put(15, "CREATE TEMP TABLE bypass_tmp AS WITH d AS (DELETE FROM bypass_t WHERE id = 15 RETURNING *) SELECT * FROM d");
        forms.put(16, "SELECT * FROM (SELECT 1) x, LATERAL (SELECT bypass_purge(16)) y");
        forms.put(17, "CREATE TEMP VIEW bypass_tv AS SELECT * FROM bypass_t; DELETE FROM bypass_tv WHERE id = 17");
        forms.put(18, "DECLARE c CURSOR WITH HOLD FOR SELECT bypass_purge(18); FETCH ALL FROM c");
        forms.put(19, "SELECT query_to_xml('DELETE FROM bypass_t WHERE id = 19 RETURNING id', true, false, '')");
        forms.put(20, "CREATE TEMP TABLE bypass_tt (id int); CREATE RULE r AS ON INSERT TO bypass_tt DO INSTEAD DELETE FROM bypass_t WHERE id = NEW.id; INSERT INTO bypass_tt VALUES (20)");
        forms.put(21, "CREATE FUNCTION pg_temp.p(i int) RETURNS void LANGUAGE sql AS 'DELETE FROM bypass_t WHERE id = i'; SELECT pg_temp.p(21)");
        forms.put(22, "PREPARE p22 AS SELECT 1; DEALLOCATE p22; PREPARE p22 AS DELETE FROM bypass_t WHERE id = 22; EXECUTE p22");
        forms.put(23, "SELECT * FROM bypass_fv WHERE id = 23");
        forms.put(24, "CREATE TEMP TABLE bypass_tg (id int); CREATE TRIGGER g AFTER INSERT ON bypass_tg FOR EACH ROW EXECUTE FUNCTION bypass_on_log(); INSERT INTO bypass_tg VALUES (24)");
        forms.put(25, "INSERT INTO bypass_checked VALUES (25)");
        forms.put(26, "INSERT INTO bypass_domained VALUES (26)");
        StringBuilder ran = new StringBuilder();
        for (String mode : List.of("simple", "extended")) {
            for (Map.Entry<Integer, String> f : forms.entrySet()) {
                int id = f.getKey() + (mode.equals("simple") ? 0 : 40);
                String sql = f.getValue().replace("= " + f.getKey(), "= " + id).replace("(" + f.getKey() + ")", "(" + id + ")")
                        .replace("SELECT " + f.getKey() + " AS", "SELECT " + id + " AS");
                String outcome;
                try (Connection c = agent(mode); Statement s = c.createStatement()) {
                    s.execute(sql);
                    outcome = "ran";
                } catch (SQLException e) {
                    outcome = e.getSQLState() + " " + e.getMessage().lines().findFirst().orElse("");
                }
                if (!present(id)) {
                    ran.append(mode).append(": ").append(sql).append(" -> ").append(outcome).append('\n');
                }
                System.out.println("PROBE " + mode + " " + id + " " + outcome + " :: " + sql);
            }
        }
        assertThat(ran.toString()).as("deletes that ran without approval").isEmpty();
    }

    @Test
    void codeInstalledByOneStatementIsHeldBeforeALaterInnocentOneCanRunIt() throws Exception {
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE bypass_split (id int)");
            String held = null;
            try {
                s.execute("CREATE TRIGGER g AFTER INSERT ON bypass_split FOR EACH ROW EXECUTE FUNCTION bypass_on_log()");
            } catch (SQLException e) {
                held = ApprovalsApiClient.ticketId(e);
            }
            assertThat(held).as("CREATE TRIGGER is held as the code it installs").isNotNull();
            try {
                s.execute("INSERT INTO bypass_split VALUES (79)");
            } catch (SQLException e) {
                ApprovalsApiClient.ticketId(e); // a temporary table's own code is unknown: held too
            }
        }
        assertThat(present(79)).isTrue();
    }

    @Test
    void writesToTablesWithoutCodeStillRunWithoutApproval() throws Exception {
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("INSERT INTO bypass_plain VALUES (1)")).isEqualTo(1);
            assertThat(s.executeUpdate("UPDATE bypass_plain SET id = 2 WHERE id = 1")).isEqualTo(1);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM bypass_t WHERE id = 80")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void anApprovalGivenToAHeldStatementReleasesThatStatementOnlyNeverAsATicketElsewhere() throws Exception {
        ApprovalsApiClient api = new ApprovalsApiClient(gw);
        String insert = "INSERT INTO bypass_counter VALUES (1)";
        try (Connection held = agent("simple"); Connection other = agent("simple")) {
            java.util.concurrent.CompletableFuture<Integer> released = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        try (Statement s = held.createStatement()) {
                            return s.executeUpdate(insert);
                        } catch (SQLException e) {
                            throw new RuntimeException(e);
                        }
                    });
            String id = api.pending("bypass_counter", "alice@hospital.example").get("id").asText();
            api.decide(id, "alice@hospital.example", true, "one row");
            assertThat(released.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
            // The same agent, in another session, names the approval as a ticket for the identical statement.
            try (Statement s = other.createStatement()) {
                s.execute("SET phigate.approval = '" + id + "'");
                s.setQueryTimeout(2); // not a ticket: it is held as a new request, and the timeout's cancel withdraws it
                try {
                    s.executeUpdate(insert);
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).isEqualTo("57014");
                }
            }
        }
        assertThat(counted()).as("rows the one approval inserted").isEqualTo(1);
    }

    @Test
    void aTicketIsBoundToTheParameterTypesItsParseDeclared() throws Exception {
        ApprovalsApiClient api = new ApprovalsApiClient(gw);
        String sql = "SELECT bypass_f(?)";
        Properties textParameters = new Properties();
        textParameters.setProperty("binaryTransfer", "false"); // an int4 parameter goes as the text "78"
        try (Connection c = agent("extended", textParameters)) {
            String id;
            try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setInt(1, 78); // declared int4: the harmless overload
                ps.executeQuery();
                throw new AssertionError("expected a ticket refusal");
            } catch (SQLException e) {
                id = ApprovalsApiClient.ticketId(e);
            }
            api.decide(id, "alice@hospital.example", true, "a look-up");
            try (Statement s = c.createStatement()) {
                s.execute("SET phigate.approval = '" + id + "'");
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, "78"); // declared varchar: the same text and value, the other overload
                ps.executeQuery();
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("PA001");
            }
        }
        assertThat(present(78)).as("the approval for bypass_f(int) ran bypass_f(text)").isTrue();
    }
}
