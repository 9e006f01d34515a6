package io.phigate.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Wrote {@code journal-v1/}: run once with the build before journal frame version 2 (parent of the commit that adds
 * it), as {@code java -cp target/test-classes:target/classes:DEPS io.phigate.audit.JournalV1FixtureGenerator OUT}.
 * The store is held locked, so every acknowledged record stays in the journal, as a crash would leave it.
 */
final class JournalV1FixtureGenerator {
    static List<AuditEvent> events() {
        Instant t = Instant.parse("2026-12-07T08:00:00.123456Z");
        byte[] plain = "id|name\n1|Ada Lovelace\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] response = ResponseRecorder.stored(plain, plain.length);
        return List.of(
                new AuditEvent.SessionStarted(t, "s1", "10.0.0.7:50123", "main", "https://idp.invalid", "agent-1",
                        "c1a1", "agent", Map.of("application_name", "pgbench"), "TLSv1.3", "analyst", "ticket 7", null),
                new AuditEvent.StatementRequested(t.plusMillis(1), "s1", 1, "10.0.0.7:50123", "main",
                        "https://idp.invalid", "agent-1", AuditEvent.Protocol.EXTENDED,
                        "SELECT name FROM patients WHERE id = $1 AND note = 'Zoë ✓'", List.of("1"), "s_1", ""),
                new AuditEvent.StatementCompleted(t.plusMillis(2), "s1", 1, AuditEvent.Outcome.OK, null, "SELECT 1", 1,
                        812, new AuditEvent.RecordedResponse(25, "ab".repeat(32), response, false), null),
                new AuditEvent.StatementRequested(t.plusMillis(3), "s1", 2, "10.0.0.7:50123", "main",
                        "https://idp.invalid", "agent-1", AuditEvent.Protocol.SIMPLE, "SELECT 42", null, null, null),
                new AuditEvent.StatementCompleted(t.plusMillis(4), "s1", 2, AuditEvent.Outcome.ERROR, "42P01", null, 0,
                        90),
                new AuditEvent.SessionEnded(t.plusMillis(5), "s1", "client closed", 2, 5));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("journal-v1");
        Path file = dir.resolve("audit.db");
        AuditConfig c = new AuditConfig("sqlite:" + file, file, 100, Duration.ofSeconds(1), Duration.ofMillis(100));
        try (var store = new AuditStore(c)) {
            try (Connection lock = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = lock.createStatement()) {
                s.execute("BEGIN EXCLUSIVE");
                for (AuditEvent e : events()) {
                    store.appendDurably(List.of(e));
                }
                store.close();
            }
        }
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        for (Path seg : AuditJournal.segmentFiles(c.journalDir())) {
            Files.copy(seg, out.resolve(seg.getFileName()));
        }
    }
}
