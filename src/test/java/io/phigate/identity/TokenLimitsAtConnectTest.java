package io.phigate.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lifetime limit and the printable-subject rule at the gateway's front door, with pgjdbc: refusal and record. */
class TokenLimitsAtConnectTest {
    @TempDir
    Path dir;

    private static Connection connect(GatewayHarness gw, String token) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", token);
        return DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    @Test
    void aTokenLivingCenturiesIsRefusedAndTheRecordSaysWhy() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            Instant now = Instant.now();
            String forever = gw.tokenValidBetween(now.minusSeconds(5), now.plus(Duration.ofDays(365L * 300)));
            assertThatThrownBy(() -> connect(gw, forever)).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("28P01");
                assertThat(e.getMessage()).contains("exceeds identity.max_token_lifetime (24h)");
            });
            assertThat(gw.auditEventually("kind = 'connection_refused' and detail like '%max_token_lifetime%'", 1))
                    .hasSize(1);

            String workday = gw.tokenValidBetween(now.minusSeconds(5), now.plus(Duration.ofHours(8)));
            try (Connection c = connect(gw, workday)) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void aSubjectWithALineBreakIsRefusedAtConnect() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            for (String subject : List.of("agent\nphigate: forged line", "agent\u2028forged")) {
                String token = KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, subject,
                        List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(5), Map.of());
                assertThatThrownBy(() -> connect(gw, token)).isInstanceOfSatisfying(SQLException.class, e ->
                        assertThat(e.getMessage()).contains("token claim sub contains a control character"));
            }
            assertThat(gw.auditEventually("kind = 'connection_refused' and detail like '%control character%'", 2))
                    .hasSize(2);
        }
    }
}
