package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditConfig.CheckpointConfig;
import io.phigate.audit.AuditEvent.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signed checkpoints catch what the chain alone cannot: a rewritten chain, a cut-off tail, a forged checkpoint. */
class AuditCheckpointTest {
    @TempDir
    Path dir;
    Path file;
    Path key;
    Path shipped;

    private AuditConfig config(int every, Duration interval) {
        return new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1), "gw-a",
                new CheckpointConfig(key, shipped, every, interval));
    }

    @BeforeEach
    void keys() throws Exception {
        file = dir.resolve("audit.db");
        key = dir.resolve("keys/audit-signing.key");
        shipped = dir.resolve("shipped/audit.checkpoints");
        CheckpointKeys.generate(key);
    }

    private void write(AuditStore store, int records) throws Exception {
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = 1; i <= records; i++) {
            batch.add(new AuditEvent.StatementCompleted(Instant.now(), "s", i, Outcome.OK, null, "SELECT 1", 1, 10));
            if (batch.size() == 50) {
                store.appendDurably(batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            store.appendDurably(batch);
        }
    }

    private PublicKey publicKey() throws Exception {
        return CheckpointKeys.readPublic(CheckpointKeys.publicFile(key));
    }

    private AuditVerifier.Report verify() throws Exception {
        return AuditVerifier.verifySqlite(file, publicKey(), shipped);
    }

    @Test
    void checkpointsAreSignedStoredShippedAndVerify() throws Exception {
        try (var store = new AuditStore(config(1000, Duration.ofHours(1)))) {
            write(store, 2500);
        }
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.checkpointsVerified()).isEqualTo(2); // 1000 and 2000, each found in the store and the file
        assertThat(report.lastCheckpointSize()).containsEntry("gw-a", 2000L);
        assertThat(Files.readString(shipped)).contains("phigate audit log/gw-a\n1000\n").contains("\u2014 phigate ");
    }

    @Test
    void anIdleLogIsCheckpointedAfterTheInterval() throws Exception {
        try (var store = new AuditStore(config(1_000_000, Duration.ofMillis(200)))) {
            write(store, 3);
            // The records reach the store within the ingester's linger (1 s), then the interval runs from there.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!verify().lastCheckpointSize().containsKey("gw-a") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
        }
        assertThat(verify().lastCheckpointSize()).containsEntry("gw-a", 3L);
    }

    @Test
    void aChainRewrittenByAnAttackerFailsTheCheckpointRoot() throws Exception {
        try (var store = new AuditStore(config(100, Duration.ofHours(1)))) {
            write(store, 250);
        }
        // The attacker edits record 42 and recomputes every hash after it, so the chain alone looks intact.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("drop index audit_event_chain");
                s.execute("update audit_event set outcome = 'error' where chain_seq = 42");
            }
            String prev = null;
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select " + RecordHash.SELECT_LIST + ", seq from audit_event order by chain_seq");
                 PreparedStatement up = c.prepareStatement("update audit_event set prev_hash = ?, hash = ? where seq = ?")) {
                while (rs.next()) {
                    String[] v = RecordHash.valuesFrom(rs, 1);
                    if (prev != null) {
                        v[2] = prev;
                    }
                    String h = RecordHash.hex(RecordHash.of(v));
                    up.setString(1, v[2]);
                    up.setString(2, h);
                    up.setLong(3, rs.getLong(v.length + 1));
                    up.executeUpdate();
                    prev = h;
                }
            }
            c.commit();
        }
        assertThat(AuditVerifier.verifySqlite(file).intact()).as("the chain alone is fooled").isTrue();
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).isFalse();
        assertThat(report.problems().getFirst().what()).contains("rewritten");
        assertThat(report.problems().getFirst().chainSeq()).isEqualTo(100);
    }

    @Test
    void aTruncatedTailBeyondTheLastStoredCheckpointIsCaughtByTheShippedCopy() throws Exception {
        try (var store = new AuditStore(config(100, Duration.ofHours(1)))) {
            write(store, 450);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("delete from audit_event where chain_seq > 250");
            s.execute("delete from audit_checkpoint where tree_size > 250");
        }
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).isFalse();
        assertThat(report.problems()).anySatisfy(p -> assertThat(p.what()).contains("truncated").contains("400"));
    }

    @Test
    void aCheckpointSignedByAnotherKeyIsRejected() throws Exception {
        try (var store = new AuditStore(config(100, Duration.ofHours(1)))) {
            write(store, 150);
        }
        Path otherKey = dir.resolve("other/key");
        CheckpointKeys.generate(otherKey);
        byte[] root = new byte[32];
        Instant t = Instant.now();
        Checkpoint forged = new Checkpoint("gw-a", 150, root, t, "deadbeef",
                CheckpointKeys.sign(CheckpointKeys.readPrivate(otherKey), Checkpoint.body("gw-a", 150, root, t)));
        Files.writeString(shipped, forged.note() + "\n", java.nio.file.StandardOpenOption.APPEND);
        AuditVerifier.Report report = verify();
        assertThat(report.problems()).anySatisfy(p -> assertThat(p.what()).contains("forged"));
    }

    @Test
    void eachCheckpointIsPostedToTheWitnessAndVerifiesThere() throws Exception {
        List<String> received = java.util.Collections.synchronizedList(new ArrayList<>());
        com.sun.net.httpserver.HttpServer witness = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        witness.createContext("/checkpoints", exchange -> {
            received.add(new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        witness.start();
        try {
            java.net.URI url = java.net.URI.create("http://127.0.0.1:" + witness.getAddress().getPort() + "/checkpoints");
            try (var store = new AuditStore(new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5),
                    Duration.ofSeconds(1), "gw-a", new CheckpointConfig(key, shipped, 100, Duration.ofHours(1), url)))) {
                write(store, 250);
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (received.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            witness.stop(0);
        }
        assertThat(received).hasSize(2);
        for (String note : received) {
            Checkpoint cp = Checkpoint.parse(note);
            assertThat(CheckpointKeys.verify(publicKey(), cp.body(), cp.signature())).isTrue();
        }
        assertThat(received).extracting(n -> Checkpoint.parse(n).treeSize()).containsExactlyInAnyOrder(100L, 200L);
    }

    @Test
    void aMissingSigningKeyRefusesToStart() {
        Path missing = dir.resolve("nope.key");
        assertThatThrownBy(() -> new AuditStore(new AuditConfig("sqlite:" + file, file, 10, Duration.ofSeconds(1),
                Duration.ofSeconds(1), "gw-a", new CheckpointConfig(missing, shipped, 10, Duration.ofSeconds(1)))))
                .isInstanceOf(AuditUnavailableException.class).hasMessageContaining("nope.key");
    }
}
