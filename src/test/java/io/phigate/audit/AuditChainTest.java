package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hash chain detects each kind of tampering and names the first bad record. */
class AuditChainTest {
    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void write20Records() throws Exception {
        file = dir.resolve("audit.db");
        try (var store = new AuditStore(new AuditConfig("sqlite:" + file, file, 1000, Duration.ofSeconds(5),
                Duration.ofSeconds(1), "gw-a", null))) {
            for (int i = 1; i <= 10; i++) {
                store.appendDurably(List.of(
                        new AuditEvent.StatementRequested(Instant.now(), "s1", i, "10.0.0.1:5000", "clinical", "iss",
                                "agent", Protocol.EXTENDED, "select * from patients where id = $1", List.of("" + i), "", ""),
                        new AuditEvent.StatementCompleted(Instant.now(), "s1", i, Outcome.OK, null, "SELECT 1", 1, 50)));
            }
        }
    }

    private void tamper(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("drop index if exists audit_event_chain"); // an attacker with file access can do this too
            s.execute(sql);
        }
    }

    private AuditVerifier.Problem firstProblem() throws Exception {
        AuditVerifier.Report report = AuditVerifier.verifySqlite(file);
        assertThat(report.intact()).isFalse();
        return report.problems().getFirst();
    }

    @Test
    void theVerifyCommandExitsNonZeroAndNamesTheRecord() throws Exception {
        assertThat(io.phigate.cli.TestAccess.run("audit", "verify", "--store", file.toString())).isZero();
        tamper("update audit_event set subject = 'someone-else' where chain_seq = 15");
        var out = new java.io.ByteArrayOutputStream();
        var old = System.out;
        System.setOut(new java.io.PrintStream(out, true));
        int code;
        try {
            code = io.phigate.cli.TestAccess.run("audit", "verify", "--store", file.toString());
        } finally {
            System.setOut(old);
        }
        assertThat(code).isEqualTo(1);
        assertThat(out.toString()).contains("TAMPERED: replica gw-a, record 15");
    }

    @Test
    void aStoreFileDeletedUnderTheWriterLeavesAVisibleGap() throws Exception {
        try (var store = new AuditStore(new AuditConfig("sqlite:" + file, file, 1000, Duration.ofSeconds(5),
                Duration.ofSeconds(1), "gw-a", null))) {
            store.appendDurably(List.of(new AuditEvent.SessionEnded(Instant.now(), "s1", "x", 1, 1)));
            // In the store file, not only in the journal, before the file goes: then it is lost with the file.
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
            for (String suffix : new String[]{"", "-wal", "-shm"}) {
                Files.deleteIfExists(Path.of(file + suffix));
            }
            List<AuditEvent> more = new ArrayList<>();
            more.add(new AuditEvent.SessionEnded(Instant.now(), "s2", "y", 1, 1));
            store.appendDurably(more);
        }
        AuditVerifier.Problem p = firstProblem();
        assertThat(p.chainSeq()).isEqualTo(1);
        assertThat(p.what()).contains("records 1 to 21 are missing");
    }
}
