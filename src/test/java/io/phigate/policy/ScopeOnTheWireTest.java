package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A role's scope and justification, enforced on the wire from the parsed statement before anything is forwarded,
 * in simple and extended protocol, and recorded.
 */
class ScopeOnTheWireTest {
    static final String READER = "system:serviceaccount:clinical:reader";
    static final String AUDITOR = "system:serviceaccount:compliance:auditor";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.patients", "public.medications"], operations: [select] }
                  - name: auditor
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.*"], operations: [select] }
                    justification: required
                """.formatted(READER, AUDITOR));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    private Connection as(String subject, String mode) throws Exception {
        return ThroughTheGateway.as(gw, subject, mode);
    }

    @Test
    void outOfScopeTablesAndOperationsAreRefusedBeforeTheyRun() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as(READER, mode); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM patients")) {
                    assertThat(rs.next()).isTrue();
                }
                assertRefused(s, "SELECT count(*) FROM encounters", "encounters");
                assertRefused(s, "DELETE FROM patients WHERE id < 0", "DELETE");
                assertRefused(s, "SELECT p.id FROM patients p JOIN encounters e ON e.patient_id = p.id", "encounters");
                assertRefused(s, "CREATE TABLE scope_probe (x int)", "scope_probe");
                // the session carries on after a refusal
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM medications")) {
                    assertThat(rs.next()).isTrue();
                }
            }
        }
        List<Map<String, Object>> refused = gw.auditEventually(
                "kind = 'statement_completed' and outcome = 'refused' and sqlstate = '42501'", 8);
        assertThat(refused).hasSizeGreaterThanOrEqualTo(8);
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'DELETE FROM patients%'")).hasSize(2);
    }

    @Test
    void aRequiredJustificationIsAskedForThenRecordedOnEveryStatement() throws Exception {
        try (Connection c = as(AUDITOR, "simple"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT count(*) FROM patients"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("requires a justification")
                    .hasMessageContaining("SET phigate.justification");
            s.execute("SET phigate.justification = 'HIPAA audit 2026-11, ticket 4711'");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM patients /* justified */")) {
                assertThat(rs.next()).isTrue();
            }
        }
        List<Map<String, Object>> rows = gw.auditEventually(
                "kind = 'statement_requested' and statement like '%/* justified */%'", 1);
        assertThat(String.valueOf(rows.getFirst().get("detail"))).contains("ticket 4711");
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'SET phigate.justification%'")).hasSize(1);
    }
}
