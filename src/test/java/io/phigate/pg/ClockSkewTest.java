package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.identity.IdentityConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's clock, or its issuer's, off from the gateway's: through the whole connection path, a token expired
 * or not yet valid by less than identity.clock_skew (30 s here) is accepted; by more, it is refused with 28P01
 * and audited.
 */
class ClockSkewTest {
    @TempDir
    Path dir;

    @Test
    void tokensWithinClockSkewAreAcceptedAndBeyondItRefusedAndAudited() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withIdentity(c,
                new IdentityConfig(c.identity().issuers(), Duration.ofSeconds(30), Duration.ZERO)))) {
            Instant now = Instant.now();
            connect(gw, gw.tokenValidBetween(now.minusSeconds(600), now.minusSeconds(15))).close();
            connect(gw, gw.tokenValidBetween(now.plusSeconds(15), now.plusSeconds(600))).close();

            assertThatThrownBy(() -> connect(gw, gw.tokenValidBetween(now.minusSeconds(600), now.minusSeconds(60))))
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("expired");
                    });
            assertThatThrownBy(() -> connect(gw, gw.tokenValidBetween(now.plusSeconds(60), now.plusSeconds(600))))
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("not yet valid");
                    });
            assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '28P01' and subject = '"
                    + GatewayHarness.AGENT + "'")).hasSize(2);
            assertThat(gw.audit("kind = 'session_started'")).hasSize(2);
        }
    }

    private static Connection connect(GatewayHarness gw, String token) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", token);
        return DriverManager.getConnection(gw.jdbcUrl(), p);
    }
}
