package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.config.LimitsConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The session bound and the token lifetime end connections with clear errors. */
class SessionLimitsTest {
    @TempDir
    Path dir;

    @Test
    void connectionsBeyondMaxSessionsGet53300AndSlotsAreReturned() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withLimits(c,
                new LimitsConfig(2, 1 << 20, Duration.ofSeconds(5))))) {
            try (Connection a = gw.connect(); Connection b = gw.connect()) {
                assertThatThrownBy(() -> gw.connect().close())
                        .satisfies(e -> {
                            assertThat(((SQLException) e).getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("limits.max_sessions");
                        });
                assertThat(a.isValid(2)).isTrue();
                assertThat(b.isValid(2)).isTrue();
            }
            // Closed sessions give their slots back; refused handshakes never kept one.
            Thread.sleep(200);
            try (Connection a = gw.connect(); Connection b = gw.connect()) {
                assertThat(a.isValid(2) && b.isValid(2)).isTrue();
            }
            assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '53300'")).hasSize(1);
        }
    }

    @Test
    void aSessionEndsWhenItsTokenExpires() throws Exception {
        // The session lives until exp + clock_skew + session_grace: here 4 s + 1 s + 0 s. Generous, because a
        // loaded 2-core CI machine can take a second or more to open the first session.
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withIdentity(c,
                new io.phigate.identity.IdentityConfig(c.identity().issuers(), Duration.ofSeconds(1), Duration.ZERO)))) {
            Properties p = new Properties();
            p.setProperty("user", "triage-agent");
            p.setProperty("password", gw.token(GatewayHarness.AGENT, Duration.ofSeconds(4)));
            try (Connection c = DriverManager.getConnection(gw.jdbcUrl(), p)) {
                try (ResultSet rs = c.createStatement().executeQuery("select 1")) {
                    assertThat(rs.next()).isTrue();
                }
                try (ResultSet rs = c.createStatement().executeQuery("select 2")) {
                    assertThat(rs.next()).as("still inside the token's lifetime").isTrue();
                }
                Thread.sleep(6_500);
                assertThatThrownBy(() -> c.createStatement().executeQuery("select 1"))
                        .isInstanceOf(SQLException.class);
                assertThat(c.isValid(1)).isFalse();
            }
            assertThat(gw.auditEventually("kind = 'session_ended' and detail like '%token expired%'", 1)).hasSize(1);
        }
    }
}
