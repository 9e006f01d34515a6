package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.identity.KeyTool;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 2,000 authenticated sessions held open and idle, each with its own upstream backend (a dedicated PostgreSQL with
 * max_connections 2100), while a new session still connects and queries. Measures the gateway's heap after GC
 * and RSS per idle session, and holds them to the budget documented in docs/reliability.md.
 */
class IdleConnectionsTest {
    private static final int SESSIONS = Integer.getInteger("phigate.idle.sessions", 2000);
    /**
     * docs/reliability.md: 256 KiB of heap per idle session (measured 194 KiB, of which 176 KiB are the session's
     * I/O buffers) and 384 KiB of RSS (measured 239 KiB).
     */
    private static final long HEAP_PER_SESSION_BUDGET = 256 * 1024;
    private static final long RSS_PER_SESSION_BUDGET = 384 * 1024;

    @TempDir
    Path dir;

    @Test
    void twoThousandIdleSessionsStayWithinTheMemoryBudgetAndTheGatewayKeepsServing() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "127.0.0.1").setServerConfig("max_connections", String.valueOf(SESSIONS + 100))
                .setServerConfig("shared_buffers", "16MB").start()) {
            try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("create database clinical");
            }
            Path jwtKey = KeyTool.generate(dir.resolve("keys"));
            Files.writeString(dir.resolve("pw"), "unused-under-trust\n");
            int port = ChildGateway.freePort();
            Path config = ChildGateway.writeConfig(dir, port, postgres.getPort(), "postgres", dir.resolve("pw"), "", """
                    limits:
                      max_sessions: %d
                      connect_rate_per_address: 0
                    """.formatted(SESSIONS + 10));
            String token = KeyTool.mint(jwtKey, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(30), Map.of());
            try (ChildGateway gateway = ChildGateway.start(config, port, dir.resolve("gateway.log"), List.of("-Xmx512m"))) {
                List<RawClient> clients = Collections.synchronizedList(new ArrayList<>());
                try {
                    clients.add(login(port, token)); // warm: classes loaded, pools sized
                    long heap0 = gateway.heapUsedAfterGc();
                    long rss0 = gateway.rssBytes();
                    long start = System.nanoTime();
                    try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                        List<Future<?>> opened = new ArrayList<>();
                        for (int i = 1; i < SESSIONS; i++) {
                            opened.add(pool.submit(() -> clients.add(login(port, token))));
                        }
                        for (Future<?> f : opened) {
                            f.get();
                        }
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    long heap1 = gateway.heapUsedAfterGc();
                    long rss1 = gateway.rssBytes();
                    long heapPer = (heap1 - heap0) / (SESSIONS - 1);
                    long rssPer = (rss1 - rss0) / (SESSIONS - 1);
                    System.out.printf("%d idle sessions opened in %.1f s; gateway heap after GC %d -> %d MiB (%d KiB a session),"
                            + " RSS %d -> %d MiB (%d KiB a session)%n", SESSIONS, seconds, heap0 >> 20, heap1 >> 20,
                            heapPer >> 10, rss0 >> 20, rss1 >> 20, rssPer >> 10);

                    Properties p = new Properties();
                    p.setProperty("user", "late-agent");
                    p.setProperty("password", token);
                    try (Connection late = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p);
                         ResultSet rs = late.createStatement().executeQuery("select count(*) from pg_stat_activity where backend_type = 'client backend'")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(SESSIONS + 1);
                    }
                    assertThat(heapPer).isLessThan(HEAP_PER_SESSION_BUDGET);
                    assertThat(rssPer).isLessThan(RSS_PER_SESSION_BUDGET);
                } finally {
                    for (RawClient c : clients) {
                        c.close();
                    }
                }
            }
        }
    }

    private static RawClient login(int port, String token) throws Exception {
        RawClient c = new RawClient(port);
        c.login(token);
        return c;
    }
}
