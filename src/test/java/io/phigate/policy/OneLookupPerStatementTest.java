package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A role granted {@code lookup} learns one bit per statement: whether a row with the value it names exists. Written
 * once per branch of a UNION ALL, per scalar subquery or per CTE, the lookup tested as many guesses as the statement
 * had room for in one round trip ({@code SELECT (SELECT count(*) FROM patients WHERE ssn = '...'), (...), ...});
 * a second lookup of the same column in one statement is refused (decision 0093).
 */
class OneLookupPerStatementTest {
    static final String LOOKER = "system:serviceaccount:clinical:one-lookup";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static String ssn;

    @BeforeAll
    static void start() throws Exception {
        ssn = ThroughTheGateway.firstSsn();
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    detection:
                      enabled: false
                roles:
                  - name: looker
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    lookup: [ssn]
                """.formatted(LOOKER));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void aStatementLooksUpAColumnOnce() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM patients WHERE ssn = '" + ssn + "'")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isPositive();
                }
                for (String sql : List.of(
                        "SELECT (SELECT count(*) FROM patients WHERE ssn = '" + ssn + "'),"
                                + " (SELECT count(*) FROM patients WHERE ssn = '000-00-0000')",
                        "SELECT count(*) FROM patients WHERE ssn = '" + ssn + "'"
                                + " UNION ALL SELECT count(*) FROM patients WHERE ssn = '000-00-0000'",
                        "WITH a AS (SELECT id FROM patients WHERE ssn = '" + ssn + "'),"
                                + " b AS (SELECT id FROM patients WHERE ssn = '000-00-0000') SELECT * FROM a, b",
                        "SELECT id FROM patients WHERE ssn = '" + ssn + "' AND ssn = '000-00-0000'")) {
                    assertRefused(s, sql, "a second lookup of the column in one statement");
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%a second lookup of the column in one statement%'", 8))
                .hasSizeGreaterThanOrEqualTo(8);
    }
}
