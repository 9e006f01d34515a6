package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.config.LimitsConfig;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that have not become sessions yet are bounded by limits.max_handshakes, whatever address they come
 * from: past it a new connection is told 53300 at once and audited, and a running session does not count.
 */
class HandshakeLimitTest {
    @TempDir
    Path dir;

    @Test
    void connectionsStillStartingPastTheLimitAreRefusedAtOnceWithAClearError() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withLimits(c,
                new LimitsConfig(200, 1 << 20, Duration.ofSeconds(30), 1_000, 1_000, 2)))) {
            // Two sessions running take no handshake permit.
            try (Connection a = gw.connect(); Connection b = gw.connect();
                 Socket silent1 = new Socket("127.0.0.1", gw.port());
                 Socket silent2 = new Socket("127.0.0.1", gw.port())) {
                // The two silent connections sit in their startup until limits.startup_timeout.
                long started = System.nanoTime();
                assertThatThrownBy(() -> awaitRefusal(gw)).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("53300");
                    assertThat(e.getMessage()).contains("limits.max_handshakes");
                });
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(25));
                assertThat(a.isValid(2)).isTrue();
                assertThat(b.isValid(2)).isTrue();
            }
            // The silent ones closed: their permits come back and connections start again.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            Connection next = null;
            while (next == null) {
                try {
                    next = gw.connect();
                } catch (SQLException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(50);
                }
            }
            next.close();
            assertThat(gw.auditEventually("kind = 'connection_refused' and sqlstate = '53300'"
                    + " and detail like '%max_handshakes%'", 1)).isNotEmpty();
        }
    }

    /**
     * The silent sockets' handlers may not have taken their permits yet; the limit shows within a few tries on a
     * quiet machine, and took more than 8 s once in a full suite run on the shared 2-core machine. Still well
     * inside limits.startup_timeout (30 s), so a refusal can only come from the two silent connections.
     */
    private static void awaitRefusal(GatewayHarness gw) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            gw.connect().close();
            Thread.sleep(20);
        }
    }
}
