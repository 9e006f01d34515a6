package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ticket approved for one statement releases that statement only: not one whose text spells what the gateway adds
 * to the approved text, not one sent with other statements, not one read with other names (decision 0084). Through
 * pgjdbc, the real gateway and its approvals API.
 */
class TicketBindingTest {
    static final String AGENT = "system:serviceaccount:clinical:binding-agent";
    static final String APPROVER = "carol@hospital.example";

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
                    when: { operations: [delete], tables: [binding_t] }
                    require_approval: { group: phi-approvers, approvers: 1, timeout: 30s, mode: ticket, uses: 3 }
                """.formatted(GatewayHarness.ISSUER));
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS binding_t CASCADE");
            s.execute("CREATE TABLE binding_t (id int primary key)");
            s.execute("INSERT INTO binding_t SELECT generate_series(1, 20)");
            // Which overload runs depends on the type the Parse declares for $1, not on the text or the value.
            s.execute("CREATE OR REPLACE FUNCTION binding_f(i int) RETURNS text LANGUAGE sql AS 'SELECT ''looked'''");
            s.execute("CREATE OR REPLACE FUNCTION binding_f(i text) RETURNS text LANGUAGE sql"
                    + " AS 'DELETE FROM binding_t WHERE id = i::int RETURNING ''deleted'''");
        }
        gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void aTicketForDeclaredTypesDoesNotReleaseATextThatSpellsTheirNote() throws Exception {
        Properties textParameters = new Properties();
        textParameters.setProperty("binaryTransfer", "false"); // an int4 parameter goes as the text "7"
        try (Connection c = agent(textParameters)) {
            String id;
            try (PreparedStatement ps = c.prepareStatement("SELECT binding_f(?)")) {
                ps.setInt(1, 7); // declared int4: the harmless overload, as the approver reads it
                ps.executeQuery();
                throw new AssertionError("expected a ticket refusal");
            } catch (SQLException e) {
                id = ApprovalsApiClient.ticketId(e);
            }
            new ApprovalsApiClient(gw).decide(id, APPROVER, true, "a look-up");
            try (Statement s = c.createStatement()) {
                s.execute("SET phigate.approval = '" + id + "'");
            }
            // The same text with the gateway's note written into it, and $1 left untyped: the server picks
            // binding_f(text), the DELETE.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT binding_f(?)\n-- phigate: parameter types (OIDs) declared at Parse: 23")) {
                ps.setObject(1, "7", Types.OTHER);
                ps.executeQuery();
            } catch (SQLException e) {
                assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("PA001");
            }
        }
        assertThat(present(7)).as("the approval of binding_f(int) released binding_f(text)").isTrue();
    }

    @Test
    void aTicketDoesNotReleaseItsStatementSentWithAnother() throws Exception {
        try (Connection c = agent(new Properties()); Statement s = c.createStatement()) {
            String id = ticketFor(s, "DELETE FROM binding_t WHERE id = 11");
            new ApprovalsApiClient(gw).decide(id, APPROVER, true, "one row");
            s.execute("SET phigate.approval = '" + id + "'");
            for (String other : new String[]{"DELETE FROM binding_t WHERE id = 11; DELETE FROM binding_t WHERE id = 12",
                    "DELETE FROM binding_t WHERE id = 11\u3000", "DELETE FROM binding_t WHERE id = 11 OR id = 13"}) {
                assertThatThrownBy(() -> s.execute(other)).as(other).isInstanceOf(SQLException.class);
            }
        }
        assertThat(present(12)).isTrue();
        assertThat(present(13)).isTrue();
    }

    private static String ticketFor(Statement s, String sql) {
        try {
            s.execute(sql);
            throw new AssertionError("expected a ticket refusal: " + sql);
        } catch (SQLException e) {
            return ApprovalsApiClient.ticketId(e);
        }
    }

    private static Connection agent(Properties p) throws Exception {
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token(AGENT, Duration.ofMinutes(5)));
        p.setProperty("preferQueryMode", "extended");
        return java.sql.DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    private static boolean present(int id) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM binding_t WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }
}
