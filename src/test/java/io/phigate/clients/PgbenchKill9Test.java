package io.phigate.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditVerifier;
import io.phigate.audit.CheckpointKeys;
import io.phigate.identity.KeyTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash consistency at scale: a 4-client pgbench runs a one-insert script through a gateway in its own JVM,
 * which is killed with SIGKILL at a random moment, twenty times over the same audit file. After every kill the
 * audit log verifies (hash chain and signed checkpoints), and the number of inserts PostgreSQL executed never
 * exceeds the number of request records. The server-side count is the table's sequence, which advances for every
 * execution of the insert, committed or not, so it cannot hide a statement that ran and rolled back.
 */
class PgbenchKill9Test {
    private static final int ROUNDS = Integer.getInteger("phigate.kill9.rounds", 20);

    @TempDir
    Path dir;

    @Test
    void requestRecordsAlwaysCoverWhatPostgresExecutedAcrossTwentyKill9s() throws Exception {
        Path pgbench = ClientTools.find("pgbench");
        TestDatabase db = TestDatabase.get();
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists kill9_counter");
            s.execute("create table kill9_counter (id bigserial primary key, client int, at timestamptz default now())");
        }
        Path script = dir.resolve("insert.sql");
        Files.writeString(script, "insert into kill9_counter (client) values (:client_id);\n");
        Path jwtKey = KeyTool.generate(dir.resolve("keys"));
        Path auditKey = dir.resolve("keys/audit-signing.key");
        CheckpointKeys.generate(auditKey);
        Path audit = dir.resolve("audit.db");
        Random random = new Random(20261128);
        long previousExecuted = 0;
        for (int round = 0; round < ROUNDS; round++) {
            int port = ChildGateway.freePort();
            Path config = ChildGateway.writeConfig(dir, port, """
                    replica: kill9
                    checkpoints:
                      key_file: keys/audit-signing.key
                      every: 100
                      interval: 300ms
                    """);
            // C1 only and serial GC: twenty JVM starts dominate this test's time, not the gateway's throughput.
            ChildGateway gateway = ChildGateway.start(config, port, dir.resolve("gateway-" + round + ".log"),
                    List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
            String token = KeyTool.mint(jwtKey, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
            ProcessBuilder pb = new ProcessBuilder(pgbench.toString(), "-n", "-c", "4", "-j", "2", "-T", "60",
                    "-f", script.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("pgbench-" + round + ".log").toFile());
            pb.environment().putAll(Map.of("PGPASSWORD", token, "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(port),
                    "PGUSER", "kill9-agent", "PGDATABASE", "clinical", "PGSSLMODE", "disable"));
            Process bench = pb.start();
            try {
                // Arm the kill once inserts flow, then strike at a random moment within the next second.
                long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (executed(db) < previousExecuted + 20 && System.nanoTime() < warm && bench.isAlive()) {
                    Thread.sleep(20);
                }
                assertThat(executed(db)).as("round %d: inserts flowing", round).isGreaterThanOrEqualTo(previousExecuted + 20);
                Thread.sleep(random.nextInt(1000));
                gateway.kill();
            } finally {
                bench.destroy();
                bench.waitFor(10, TimeUnit.SECONDS);
                bench.destroyForcibly();
            }

            // The restart: the killed gateway's journal is replayed into the store before anything reads it.
            ChildGateway.recoverAudit(config);
            long executed = executed(db);
            long requested = requested(audit);
            assertThat(executed).as("round %d: statements PostgreSQL executed vs request records", round)
                    .isLessThanOrEqualTo(requested);
            AuditVerifier.Report report = AuditVerifier.verifySqlite(audit,
                    CheckpointKeys.readPublic(CheckpointKeys.publicFile(auditKey)), dir.resolve("audit.db.checkpoints"));
            assertThat(report.intact()).as("round %d: %s", round, report.problems()).isTrue();
            System.out.printf("kill -9 round %d: executed %d, requested %d, checkpoints verified %d%n", round,
                    executed, requested, report.checkpointsVerified());
            previousExecuted = executed;
        }
    }

    /** Executions of the insert as PostgreSQL counts them: the sequence advances even for ones rolled back. */
    private static long executed(TestDatabase db) throws SQLException {
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select case when is_called then last_value else 0 end from kill9_counter_id_seq")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long requested(Path audit) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + audit); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from audit_event where kind = 'statement_requested'"
                     + " and statement like 'insert into kill9_counter%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
