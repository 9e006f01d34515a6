package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditConfig;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.config.GatewayConfig;
import io.phigate.config.LimitsConfig;
import io.phigate.identity.KeyTool;
import io.phigate.identity.TokenVerifier;
import io.phigate.net.Listener;
import io.phigate.net.SessionThreads;
import io.phigate.pg.frontend.ClientHandshake;
import io.phigate.policy.Policy;
import io.phigate.session.SessionRegistry;
import io.phigate.sql.CatalogCache;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Plain sessions on the event loop (limits.event_loop: plain, decision 0097): the durable wait is bounded by the
 * audit write timeout and refused with 58030 past it, the connection's thread is released at the hand-off (the
 * loop records the session's end and releases what it held), and COPY streams both ways.
 */
class EventLoopSessionTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tables() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists el_counter");
            s.execute("create table el_counter (tag text)");
            s.execute("drop table if exists el_copy");
            s.execute("create table el_copy (id int, payload text)");
        }
    }

    /** Keeps events in memory; while stalled, an awaited record is never confirmed (a wedged journal writer). */
    static final class StallingAudit implements AuditSink {
        final List<AuditEvent> events = new CopyOnWriteArrayList<>();
        volatile boolean stalled;

        @Override
        public CompletableFuture<Void> append(List<AuditEvent> batch) {
            events.addAll(batch);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> appendAwaited(List<AuditEvent> batch) {
            if (stalled) {
                return new CompletableFuture<>();
            }
            events.addAll(batch);
            return CompletableFuture.supplyAsync(() -> null); // completes on another thread, as the writer does
        }

        @Override
        public void appendDurably(List<AuditEvent> batch) {
            events.addAll(batch);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aDurableWaitPastTheWriteTimeoutIsRefusedWith58030AndTheConnectionsThreadIsReleased() throws Exception {
        GatewayConfig base = GatewayHarness.defaultConfig(dir, TestDatabase.get());
        AuditConfig a = base.audit();
        GatewayConfig config = new GatewayConfig(base.listen(), base.upstreams(), base.identity(),
                new AuditConfig(a.store(), a.sqlitePath(), a.queueCapacity(), Duration.ofMillis(400), a.busyTimeout()),
                base.limits().withEventLoop(LimitsConfig.EventLoop.PLAIN, 1), base.tls(), base.policy(),
                base.baseDir());
        Path key = KeyTool.generate(dir.resolve("keys"));
        StallingAudit audit = new StallingAudit();
        SessionRegistry registry = new SessionRegistry(4);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        PgFrontDoor door = new PgFrontDoor(config, Policy.NONE, new CatalogCache(name -> {
            throw new IOException("no catalog is read without a policy");
        }), null, new ClientHandshake(config.tls(), null, new TokenVerifier(config.identity())), audit, registry,
                timers);
        try (door; Listener listener = new Listener("loop-test", new InetSocketAddress("127.0.0.1", 0), door,
                new SessionThreads(4), true)) {
            listener.start();
            String token = KeyTool.mint(key, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
            // socketTimeout: without the loop's timer the refused statement would never be answered.
            String url = "jdbc:postgresql://127.0.0.1:" + listener.address().getPort()
                    + "/clinical?sslmode=disable&socketTimeout=10";
            Properties p = new Properties();
            p.setProperty("user", "triage-agent");
            p.setProperty("password", token);
            try (Connection c = DriverManager.getConnection(url, p); Statement s = c.createStatement()) {
                assertThat(scalar(s, "select 1")).isEqualTo(1);
                awaitTrue("the connection's thread has ended: the session is on the loop",
                        () -> threads("loop-test-conn-").isEmpty());
                assertThat(threads("pg-upstream-")).as("no response pump either").isEmpty();
                assertThat(threads("pg-session-loop-")).hasSize(1);

                audit.stalled = true;
                long start = System.nanoTime();
                assertThatThrownBy(() -> s.executeUpdate("insert into el_counter values ('stalled')"))
                        .isInstanceOfSatisfying(SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo("58030"));
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(350),
                        Duration.ofSeconds(5));
                assertThat(rows("stalled")).as("nothing reached the server").isZero();

                audit.stalled = false;
                s.executeUpdate("insert into el_counter values ('after')");
                assertThat(rows("after")).as("the session goes on once the store answers").isEqualTo(1);
            }
            awaitTrue("the loop recorded the session's end", () -> audit.events.stream()
                    .anyMatch(e -> e instanceof AuditEvent.SessionEnded));
            awaitTrue("the loop released the registry entry and the slot", () -> registry.size() == 0
                    && registry.reserve());
            assertThat(audit.events.stream().filter(e -> e instanceof AuditEvent.StatementCompleted c
                    && "58030".equals(c.sqlState())).count()).as("the refusal is recorded").isEqualTo(1);
        } finally {
            timers.shutdownNow();
        }
    }

    @Test
    void copyFromStdinOfManyMegabytesAndBackOutStreamsThroughTheLoop() throws Exception {
        int rows = 200_000;
        String payload = "x".repeat(190);
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withLimits(c,
                c.limits().withEventLoop(LimitsConfig.EventLoop.PLAIN, 1)));
             Connection c = gw.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            List<ByteArrayInputStream> parts = new java.util.ArrayList<>();
            for (int i = 0; i < rows; i++) {
                parts.add(new ByteArrayInputStream((i + "\t" + payload + "\n").getBytes(StandardCharsets.UTF_8)));
            }
            long sent = parts.stream().mapToLong(ByteArrayInputStream::available).sum();
            assertThat(sent).isGreaterThan(36L << 20);
            long copied = copy.copyIn("copy el_copy from stdin", new SequenceInputStream(
                    Collections.enumeration(parts)), 1 << 16);
            assertThat(copied).isEqualTo(rows);
            long[] received = {0};
            long out = copy.copyOut("copy el_copy to stdout", new OutputStream() {
                @Override
                public void write(int b) {
                    received[0]++;
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    received[0] += len;
                }
            });
            assertThat(out).isEqualTo(rows);
            assertThat(received[0]).isEqualTo(sent);
            try (Statement s = c.createStatement()) {
                assertThat(scalar(s, "select count(*) from el_copy")).isEqualTo(rows);
            }
            assertThat(gw.auditEventually("kind = 'statement_completed' and command_tag = 'COPY " + rows + "'", 2))
                    .hasSize(2);
            assertThat(threads("pg-upstream-")).as("the session ran on the loop").isEmpty();
        }
    }

    private static List<String> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive())
                .map(Thread::getName).filter(n -> n.startsWith(prefix)).toList();
    }

    private static long scalar(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long rows(String tag) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            return scalar(s, "select count(*) from el_counter where tag = '" + tag + "'");
        }
    }

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(condition.getAsBoolean()).as(what).isTrue();
    }
}
