package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target of an INSERT, UPDATE, DELETE or MERGE is a table, whatever the statement's WITH names: the server never
 * reads a WITH item as a target. The analysis did, so a WITH item of literals named {@code patients} stood for the
 * updated table: its RETURNING handed the SSNs back in clear and its WHERE searched them by prefix.
 */
class WithItemNamedLikeTargetTest {
    static final String WRITER = "system:serviceaccount:clinical:with-item-target";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> ssns = new HashSet<>();

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE ssn IS NOT NULL")) {
            while (rs.next()) {
                ssns.add(rs.getString(1));
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    detection:
                      enabled: false
                roles:
                  - name: writer
                    match: { subject: "%s" }
                    upstreams: [clinical]
                """.formatted(WRITER));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    @Test
    void aWithItemNamedLikeTheTargetIsNotTheTarget() throws Exception {
        String with = "WITH patients AS (SELECT 'x'::text AS ssn, 0 AS id, 'a'::text AS first_name) ";
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, WRITER, mode); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                List<String> got = new ArrayList<>();
                try (ResultSet rs = s.executeQuery(with + "UPDATE patients SET first_name = first_name"
                        + " WHERE id <= 3 RETURNING ssn || '', patients::text /* with-item-target */")) {
                    while (rs.next()) {
                        got.add(rs.getString(1));
                        got.add(rs.getString(2));
                    }
                }
                assertThat(got).as(mode).isNotEmpty()
                        .noneMatch(v -> v != null && ssns.stream().anyMatch(v::contains));
                c.rollback();
                assertRefused(s, with + "UPDATE patients SET first_name = first_name WHERE ssn LIKE '1%'"
                        + " /* with-item-target */", "holds PHI (ssn)");
                c.rollback();
                assertRefused(s, with + "DELETE FROM patients WHERE ssn LIKE '1%' /* with-item-target */",
                        "holds PHI (ssn)");
                c.rollback();
                assertRefused(s, with + "MERGE INTO patients USING (SELECT 1 AS k) s ON patients.id = s.k WHEN MATCHED"
                        + " AND patients.ssn LIKE '1%' THEN UPDATE SET first_name = patients.first_name"
                        + " /* with-item-target */", "holds PHI (ssn)");
                c.rollback();
                try (ResultSet rs = s.executeQuery("WITH e AS (SELECT 1 AS id) UPDATE encounters SET"
                        + " department = department FROM e WHERE encounters.id = e.id RETURNING e.id")) {
                    assertThat(rs.next()).as("a WITH item is still read in FROM").isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                }
                c.rollback();
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%with-item-target%'",
                8)).hasSize(8);
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%holds PHI (ssn)%would steer%'", 6)).hasSizeGreaterThanOrEqualTo(6);
    }
}
