package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A result larger than the gateway's heap streams through: the gateway runs in its own JVM capped at 256 MiB and
 * a client reads 1 GiB through it. If the gateway held rows, it would die of OutOfMemoryError and the read fail.
 */
class LargeResultTest {
    private static final long ONE_GIB = 1L << 30;

    @TempDir
    Path dir;

    @Test
    void aOneGibResultStreamsThroughAGatewayWithA256MibHeap() throws Exception {
        TestDatabase db = TestDatabase.get();
        Path key = GatewayHarnessKeys.generate(dir);
        int port = io.phigate.ChildGateway.freePort();
        Path config = io.phigate.ChildGateway.writeConfig(dir, port, "");
        try (io.phigate.ChildGateway gateway = io.phigate.ChildGateway.start(config, port, dir.resolve("gateway.log"))) {
            Properties p = new Properties();
            p.setProperty("user", "triage-agent");
            p.setProperty("password", io.phigate.identity.KeyTool.mint(key, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                    List.of(GatewayHarness.AUDIENCE), java.time.Duration.ofMinutes(10), java.util.Map.of()));
            long bytes = 0;
            long rows = 0;
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p)) {
                c.setAutoCommit(false); // lets pgjdbc fetch through a portal in pieces instead of holding all rows
                try (Statement s = c.createStatement()) {
                    s.setFetchSize(2_000);
                    try (ResultSet rs = s.executeQuery("select g, repeat(md5(g::text), 32) from generate_series(1, 1100000) g")) {
                        while (rs.next()) {
                            bytes += rs.getString(2).length();
                            rows++;
                        }
                    }
                }
                c.commit();
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            assertThat(rows).isEqualTo(1_100_000);
            assertThat(bytes).isGreaterThan(ONE_GIB);
            assertThat(gateway.isAlive()).as(Files.readString(dir.resolve("gateway.log"))).isTrue();
        }
    }

    /** Keys in {@code dir/keys}, as the YAML above expects. */
    private static final class GatewayHarnessKeys {
        static Path generate(Path dir) throws IOException {
            return io.phigate.identity.KeyTool.generate(dir.resolve("keys"));
        }
    }
}
