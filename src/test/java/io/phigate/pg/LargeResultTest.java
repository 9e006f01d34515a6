package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
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
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path config = dir.resolve("phigate.yaml");
        Files.writeString(config, """
                listen:
                  postgres: 127.0.0.1:%d
                upstreams:
                  clinical:
                    address: 127.0.0.1:%d
                    database: clinical
                    credentials:
                      user: %s
                      password_file: %s
                identity:
                  issuers:
                    - issuer: %s
                      audience: %s
                      jwks_file: keys/jwks.json
                audit:
                  store: sqlite:audit.db
                """.formatted(port, db.port(), db.user(), db.passwordFile(), GatewayHarness.ISSUER, GatewayHarness.AUDIENCE));
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Process gateway = new ProcessBuilder(List.of(javaBin, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "io.phigate.cli.Main", "serve", "--config", config.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile()).start();
        try {
            awaitPort(port, gateway);
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
        } finally {
            gateway.destroy();
            if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
                gateway.destroyForcibly();
            }
        }
    }

    private static void awaitPort(int port, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("gateway exited with " + process.exitValue());
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("gateway did not listen on " + port);
    }

    /** Keys in {@code dir/keys}, as the YAML above expects. */
    private static final class GatewayHarnessKeys {
        static Path generate(Path dir) throws IOException {
            return io.phigate.identity.KeyTool.generate(dir.resolve("keys"));
        }
    }
}
