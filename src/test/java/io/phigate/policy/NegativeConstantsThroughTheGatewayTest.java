package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0085: a negative constant is judged as the server reads it, not as libpg_query's JSON wrote it (as 0).
 * Over a masked column, {@code substr(ssn, 1, -1)} fails on the server, so it is no total expression and is refused
 * before it runs; {@code split_part(ssn, '-', -1)} is total (only field 0 fails) and runs, its value masked.
 */
class NegativeConstantsThroughTheGatewayTest {
    static final String PREFIX = "system:serviceaccount:clinical:";
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
            roles:
              - { name: analyst, match: { subject: "%sanalyst" }, upstreams: [clinical] }
            """.formatted(PREFIX);

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static String lastGroupOfPatient1;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.startWithPolicy(dir, POLICY);
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT split_part(ssn, '-', -1) FROM patients WHERE id = 1")) {
            rs.next();
            lastGroupOfPatient1 = rs.getString(1);
        }
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void aNegativeLengthIsACallThatCanFailOverAMaskedColumn(String mode) throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, PREFIX + "analyst", mode); Statement s = c.createStatement()) {
            // The failing call under a CASE whose condition reads the column: the condition steers on its own
            // (refused before this decision too).
            assertRefused(s, "SELECT id FROM patients WHERE CASE WHEN ssn LIKE '1%' THEN substr('a', 1, -1) ELSE 'b' END"
                    + " = 'b'", "public.patients.ssn");
            assertRefused(s, "SELECT substr(ssn, 1, -1) FROM patients WHERE id = 1",
                    "an expression that can fail or turn NULL (substr())");
            assertRefused(s, "SELECT substr(ssn, 1, - /* the sign apart */ 1) FROM patients WHERE id = 1",
                    "an expression that can fail or turn NULL (substr())");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void aNegativeFieldIsTotalAndItsValueLeavesMasked(String mode) throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, PREFIX + "analyst", mode); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT split_part(ssn, '-', -1) FROM patients WHERE id = 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isNotNull().isNotEqualTo(lastGroupOfPatient1);
        }
    }
}
