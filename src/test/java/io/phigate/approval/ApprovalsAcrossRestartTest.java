package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests live in memory: a restart expires the ones left open, with a record for each, so an approved but
 * unredeemed ticket cannot be used after it (fail closed) and the chain says so.
 */
class ApprovalsAcrossRestartTest {
    @TempDir
    Path dir;

    private static String ticket(Connection c) {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM restart_probe WHERE id = 1");
            throw new AssertionError("expected a ticket refusal");
        } catch (SQLException e) {
            return ApprovalsApiClient.ticketId(e);
        }
    }

    @Test
    void aRestartExpiresOpenAndUnredeemedRequestsOnTheRecord() throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), """
                approvers:
                  phi-approvers:
                    match: { issuer: "%s", claims: { groups: "phi-approvers" } }
                rules:
                  - name: tickets
                    when: { operations: [delete], tables: [restart_probe] }
                    require_approval: { group: phi-approvers, timeout: 10m, mode: ticket }
                """.formatted(GatewayHarness.ISSUER));
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS restart_probe");
            s.execute("CREATE TABLE restart_probe (id int primary key)");
            s.execute("INSERT INTO restart_probe VALUES (1)");
        }
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        String approved;
        String pending;
        try (GatewayHarness gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"))) {
            ApprovalsApiClient api = new ApprovalsApiClient(gw);
            try (Connection c = gw.connect(simple)) {
                approved = ticket(c);
                api.decide(approved, "alice@hospital.example", true, "ok");
                pending = ticket(c);
            }
        }
        try (GatewayHarness gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"))) {
            List<Map<String, Object>> expired = gw.audit("kind = 'approval_decided' and outcome = 'expired'");
            assertThat(expired).extracting(r -> (String) r.get("detail")).anySatisfy(d -> assertThat(d)
                    .contains(approved).contains("the gateway restarted")).anySatisfy(d -> assertThat(d)
                    .contains(pending));
            try (Connection c = gw.connect(simple)) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET phigate.approval = '" + approved + "'");
                }
                assertThat(ticket(c)).as("the approved ticket did not survive the restart").isNotEqualTo(approved);
            }
            var chain = io.phigate.cli.TestAccess.capture("audit", "search", "--approval", approved, "--store",
                    gw.auditFile().toString());
            assertThat(chain.out()).contains("approval requested").contains("approved by").contains("expired");
        }
        try (GatewayHarness gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"))) {
            assertThat(gw.audit("kind = 'approval_decided' and outcome = 'expired' and detail like '%" + approved
                    + "%'")).as("expired once, not again at every start").hasSize(1);
            assertThat(io.phigate.cli.TestAccess.run("audit", "verify", "--store", gw.auditFile().toString())).isZero();
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FROM restart_probe")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }
}
