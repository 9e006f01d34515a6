package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditVerifier;
import io.phigate.audit.CheckpointKeys;
import io.phigate.identity.KeyTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-ahead rule under kill -9: a gateway process is killed at random moments while four clients insert
 * through it. Afterwards every row PostgreSQL committed has its request record, and the audit log (hash chain
 * and signed checkpoints) verifies.
 */
class CrashConsistencyTest {
    private static final int ROUNDS = 4;

    @TempDir
    Path dir;

    @Test
    void everyCommittedRowHasItsAuditRecordAfterRepeatedKill9() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists crash_log");
            s.execute("create table crash_log (id bigserial primary key, tag text not null unique)");
        }
        Path jwtKey = KeyTool.generate(dir.resolve("keys"));
        Path auditKey = dir.resolve("keys/audit-signing.key");
        CheckpointKeys.generate(auditKey);
        Random random = new Random(20261127);
        AtomicLong tags = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            int port = io.phigate.ChildGateway.freePort();
            Path config = io.phigate.ChildGateway.writeConfig(dir, port, """
                    replica: crash-test
                    checkpoints:
                      key_file: keys/audit-signing.key
                      every: 50
                      interval: 500ms
                    """);
            io.phigate.ChildGateway gateway = io.phigate.ChildGateway.start(config, port,
                    dir.resolve("gateway-" + round + ".log"));
            String token = KeyTool.mint(jwtKey, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                clients.add(Thread.ofVirtual().start(() -> insertUntilFailure(port, token, tags, stop)));
            }
            // Arm the kill only once inserts flow: a cold gateway JVM takes a while to serve its first session.
            long before = tags.get();
            long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (tags.get() < before + 20 && System.nanoTime() < warm) {
                Thread.sleep(50);
            }
            assertThat(tags.get()).as("round " + round + " inserts flowing").isGreaterThanOrEqualTo(before + 20);
            Thread.sleep(300 + random.nextInt(1500));
            gateway.kill(); // SIGKILL: no shutdown hook, no flush, mid-commit
            stop.set(true);
            for (Thread t : clients) {
                t.join(10_000);
            }
            System.out.println("round " + round + ": tags so far " + tags.get());
            // The restart's first step: the journal's acknowledged records go into the store (decision 0021).
            io.phigate.ChildGateway.recoverAudit(config);
        }

        Set<String> committed = new HashSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select tag from crash_log")) {
            while (rs.next()) {
                committed.add(rs.getString(1));
            }
        }
        Set<String> requested = new HashSet<>();
        Path audit = dir.resolve("audit.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + audit); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select parameters from audit_event where kind = 'statement_requested'"
                     + " and statement like 'insert into crash_log%'")) {
            while (rs.next()) {
                String p = rs.getString(1);
                requested.add(p.substring(2, p.length() - 2)); // ["tag"]
            }
        }
        assertThat(committed).hasSizeGreaterThan(50);
        assertThat(requested).containsAll(committed);

        AuditVerifier.Report report = AuditVerifier.verifySqlite(audit,
                CheckpointKeys.readPublic(CheckpointKeys.publicFile(auditKey)), dir.resolve("audit.db.checkpoints"));
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.checkpointsVerified()).isPositive();
    }

    private static void insertUntilFailure(int port, String token, AtomicLong tags, AtomicBoolean stop) {
        Properties p = new Properties();
        p.setProperty("user", "crash-agent");
        p.setProperty("password", token);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p);
             PreparedStatement ps = c.prepareStatement("insert into crash_log (tag) values (?)")) {
            while (!stop.get()) {
                ps.setString(1, "t" + tags.incrementAndGet());
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            // the gateway was killed under us
        }
    }
}
