// Writes schema4-store.db and its three exports with the gateway build before decision 0060 (schema 4: statement
// text indexed per record). Not compiled by the build; run once against that build's jar:
//   java -cp phigate.jar Schema4Store.java OUT_DIR
// Schema4MigrationTest writes the same events with today's code and compares hashes and exports byte for byte, so
// the events here and in StatementTextEvents must stay the same.
import io.phigate.audit.AuditConfig;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditExport;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.AuditStore;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

public class Schema4Store {
    static final Instant T = Instant.parse("2026-12-01T10:00:00.123456Z");
    static final String PREPARED = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
    static final List<String> TEXTS = List.of(
            "select mrn, first_name from patients where mrn = $1",
            "SELECT e.code FROM public.encounters e JOIN patients p ON e.patient_id = p.id WHERE p.id = $1",
            "select 'Müller' as name, 'ÄRZTIN' as role",
            "select * from notes where body like '100%'",
            "BEGIN");

    static List<AuditEvent> events() {
        List<AuditEvent> events = new ArrayList<>();
        events.add(new AuditEvent.SessionStarted(T, "s1", "10.0.0.7:5544", "clinic", "https://issuer", "agent-1",
                "sha256:ab", "postgres", Map.of("application_name", "pgbench"), "TLSv1.3"));
        long id = 0;
        for (int i = 0; i < 12; i++) {
            Instant at = T.plusMillis(++id);
            events.add(new AuditEvent.StatementRequested(at, "s1", id, "10.0.0.7:5544", "clinic", "https://issuer",
                    "agent-1", AuditEvent.Protocol.EXTENDED, PREPARED, List.of(Long.toString(1000 + i)), "P0_1", ""));
            events.add(new AuditEvent.StatementCompleted(at, "s1", id, AuditEvent.Outcome.OK, null, "SELECT 1", 1,
                    40 + i, new AuditEvent.RecordedResponse(3, "ab".repeat(32), new byte[]{1, 2, 3}, false), null));
        }
        for (String text : TEXTS) {
            Instant at = T.plusMillis(++id);
            events.add(new AuditEvent.StatementRequested(at, "s1", id, "10.0.0.7:5544", "clinic", "https://issuer",
                    "agent-1", AuditEvent.Protocol.SIMPLE, text, null, null, null));
            events.add(new AuditEvent.StatementCompleted(at, "s1", id, AuditEvent.Outcome.ERROR, "42P01", null, 0, 7));
        }
        events.add(new AuditEvent.SessionEnded(T.plusMillis(++id), "s1", "client terminated", id - 1, 5000));
        return events;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        Path file = dir.resolve("schema4-store.db");
        var config = new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1));
        try (var store = new AuditStore(config)) {
            List<AuditEvent> all = events();
            store.appendDurably(all.subList(0, 20)); // two groups, so the chain spans commits
            store.appendDurably(all.subList(20, all.size()));
        }
        for (AuditExport.Format format : AuditExport.Format.values()) {
            var out = new StringWriter();
            AuditExport.write(AuditQueries.of(config), format, null, null, out);
            Files.writeString(dir.resolve("schema4-export." + format.name().toLowerCase()), out.toString());
        }
    }
}
