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
 * Under {@code WITH RECURSIVE} an item may name a later one: the server reads the items in the order of what they
 * name, and the analysis read them as written, so a name a later item defines resolved to the table of that name.
 * The SSNs came back as an unmasked {@code encounters.department}, and a join of masked keys against a later item of
 * literals named {@code patients} said which of them exist.
 */
class RecursiveWithNamesTest {
    static final String LOOKER = "system:serviceaccount:clinical:recursive-with-names";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> ssns = new HashSet<>();
    static String ssn;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE ssn IS NOT NULL")) {
            while (rs.next()) {
                ssns.add(rs.getString(1));
            }
        }
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
    static void stop() throws Exception {
        gw.close();
    }

    @Test
    void aLaterItemNamedLikeATableIsReadAsTheItem() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode); Statement s = c.createStatement()) {
                List<String> got = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("WITH RECURSIVE j AS (SELECT department || '' AS d FROM encounters),"
                        + " encounters(department) AS (SELECT ssn FROM patients) SELECT d FROM j"
                        + " /* recursive-with-names */")) {
                    while (rs.next()) {
                        got.add(rs.getString(1));
                    }
                }
                assertThat(got).as(mode).isNotEmpty().noneMatch(ssns::contains);
                assertRefused(s, "WITH RECURSIVE j AS (SELECT b.id FROM public.patients a JOIN patients b"
                        + " ON a.ssn = b.ssn), patients AS (SELECT * FROM (VALUES (1, '" + ssn + "'),"
                        + " (2, '000-00-0000')) v(id, ssn)) SELECT id FROM j /* recursive-with-names */",
                        "holds PHI (ssn)");
                try (ResultSet rs = s.executeQuery("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r"
                        + " WHERE n < 3), later AS (SELECT n FROM r) SELECT count(*) FROM later")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(3);
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%recursive-with-names%'",
                4)).hasSize(4);
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%holds PHI (ssn)%would steer%'", 2)).hasSizeGreaterThanOrEqualTo(2);
    }
}
