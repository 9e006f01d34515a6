package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.config.LimitsConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One address opening connections as fast as it can gets its burst and then the configured rate; the excess is
 * refused with 53300 and audited, while another address (127.0.0.2, still loopback) connects as usual.
 */
class StartupFloodTest {
    @TempDir
    Path dir;

    @Test
    void aFloodFromOneAddressIsRateLimitedAndOtherAddressesAreUnaffected() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withLimits(c,
                new LimitsConfig(200, 1 << 20, Duration.ofSeconds(10), 2, 5)))) {
            int accepted = 0;
            int refused = 0;
            long start = System.nanoTime();
            for (int i = 0; i < 40; i++) {
                try (Connection c = gw.connect()) {
                    accepted++;
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).isEqualTo("53300");
                    assertThat(e.getMessage()).contains("limits.connect_rate_per_address");
                    refused++;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // The burst of 5, plus 2 a second for as long as the flood took.
            assertThat(accepted).isBetween(5, 5 + (int) Math.ceil(2 * seconds) + 1);
            assertThat(refused).isEqualTo(40 - accepted);

            Properties other = new Properties();
            other.setProperty("localSocketAddress", "127.0.0.2");
            for (int i = 0; i < 5; i++) {
                try (Connection c = gw.connect(other)) {
                    assertThat(c.isValid(2)).isTrue();
                }
            }
            assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '53300'"
                    + " and detail like '%connect_rate_per_address%' and client_address like '127.0.0.1:%'"))
                    .hasSize(refused);
        }
    }
}
