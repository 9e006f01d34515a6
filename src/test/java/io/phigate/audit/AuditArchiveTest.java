package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditConfig.CheckpointConfig;
import io.phigate.audit.AuditEvent.Outcome;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Records past the retention go to an archive file; the chain, the tree and verification carry on across the cut. */
class AuditArchiveTest {
    private static final Instant OLD = Instant.parse("2018-03-01T08:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path file;
    Path key;
    Path shipped;
    Path out;

    @BeforeEach
    void keys() throws Exception {
        file = dir.resolve("audit.db");
        key = dir.resolve("keys/audit-signing.key");
        shipped = dir.resolve("shipped/audit.checkpoints");
        out = dir.resolve("archive/2018.jsonl.gz");
        CheckpointKeys.generate(key);
    }

    private AuditConfig config(int every) {
        return new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1), "gw-a",
                new CheckpointConfig(key, shipped, every, Duration.ofHours(1)));
    }

    /** Writes {@code n} records in batches of 50 (one commit each), timed from {@code start} a second apart. */
    private static void write(AuditStore store, int n, Instant start) throws Exception {
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var response = i % 7 == 0 ? new AuditEvent.RecordedResponse(3, "ab".repeat(32), new byte[]{1, 2, 3}, false)
                    : null;
            batch.add(new AuditEvent.StatementCompleted(start.plusSeconds(i), "s", i, Outcome.OK, null, "SELECT 1",
                    1, 10, response));
            if (batch.size() == 50) {
                store.appendDurably(batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            store.appendDurably(batch);
        }
    }

    private void writeOldAndNew(int old, int recent) throws Exception {
        try (var store = new AuditStore(config(50))) {
            write(store, old, OLD);
            write(store, recent, Instant.now());
        }
    }

    private LocalDate retentionLimit() {
        return LocalDate.now(ZoneOffset.UTC).minusDays(AuditConfig.DEFAULT_RETENTION.toDays());
    }

    private AuditArchive.Result archive() throws Exception {
        return AuditArchive.archive(config(50), retentionLimit(), out, null, Clock.systemUTC());
    }

    private AuditVerifier.Report verify() throws Exception {
        return AuditVerifier.verifySqlite(file, CheckpointKeys.readPublic(CheckpointKeys.publicFile(key)), shipped);
    }

    private void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }

    private String query(String q) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(q)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static List<JsonNode> readArchive(Path archive) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        try (var r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(archive)),
                StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(JSON.readTree(line));
            }
        }
        return lines;
    }

    @Test
    void onlyTheOldPrefixIsArchivedAndTheChainStillVerifies() throws Exception {
        writeOldAndNew(300, 100);
        String hash300 = query("SELECT hash FROM audit_event WHERE chain_seq = 300");
        String hash400 = query("SELECT hash FROM audit_event WHERE chain_seq = 400");

        AuditArchive.Result result = archive();

        assertThat(result.fromSeq()).isEqualTo(1);
        assertThat(result.toSeq()).isEqualTo(300);
        assertThat(result.checkpointSize()).isEqualTo(300);
        assertThat(query("SELECT count(*) || '/' || min(chain_seq) FROM audit_event")).isEqualTo("100/301");
        assertThat(query("SELECT up_to_seq || '/' || last_hash FROM audit_archive")).isEqualTo("300/" + hash300);
        assertThat(query("SELECT file_sha256 FROM audit_archive")).isEqualTo(result.sha256());

        assertThat(Files.getPosixFilePermissions(out)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        List<JsonNode> lines = readArchive(out);
        assertThat(lines).hasSize(301);
        JsonNode header = lines.getFirst();
        assertThat(header.path("format").asText()).isEqualTo(AuditArchive.FORMAT);
        assertThat(header.path("replica").asText()).isEqualTo("gw-a");
        assertThat(header.path("from_seq").asLong()).isEqualTo(1);
        assertThat(header.path("to_seq").asLong()).isEqualTo(300);
        assertThat(header.path("prev_hash_before").asText()).isEqualTo(RecordHash.GENESIS);
        assertThat(header.path("last_hash").asText()).isEqualTo(hash300);
        assertThat(header.path("frontier_after")).hasSize(Long.bitCount(300));
        assertThat(header.path("checkpoint").asText()).contains("phigate audit log/gw-a\n300\n");
        assertThat(lines.get(1).path("chain_seq").asLong()).isEqualTo(1);
        assertThat(lines.get(1).path("response").asText()).isEqualTo("AQID");
        assertThat(lines.getLast().path("hash").asText()).isEqualTo(hash300);
        assertThat(lines.get(150).path("prev_hash").asText()).isEqualTo(lines.get(149).path("hash").asText());

        AuditVerifier.Report report = verify();
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.archivedUpTo()).containsEntry("gw-a", 300L);
        assertThat(report.recordsPerReplica()).containsEntry("gw-a", 100L);
        assertThat(report.lastCheckpointSize()).containsEntry("gw-a", 400L);
        assertThat(report.checkpointsVerified()).isEqualTo(8); // 50 to 400

        // A reopened store continues the chain and the tree from where they stood.
        try (var store = new AuditStore(config(50))) {
            write(store, 50, Instant.now());
        }
        assertThat(query("SELECT prev_hash FROM audit_event WHERE chain_seq = 401")).isEqualTo(hash400);
        report = verify();
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.lastCheckpointSize()).containsEntry("gw-a", 450L);
        assertThat(report.checkpointsVerified()).isEqualTo(9);

        // Nothing old is left: a second run archives nothing.
        assertThat(AuditArchive.archive(config(50), retentionLimit(), dir.resolve("again.jsonl.gz"), null,
                Clock.systemUTC())).isNull();
    }

    @Test
    void aStoreArchivedToTheLastRecordContinuesFromTheArchive() throws Exception {
        writeOldAndNew(300, 0);
        archive();
        assertThat(query("SELECT count(*) FROM audit_event")).isEqualTo("0");
        String last = readArchive(out).getFirst().path("last_hash").asText();

        try (var store = new AuditStore(config(50))) {
            write(store, 60, Instant.now());
        }

        assertThat(query("SELECT min(chain_seq) FROM audit_event")).isEqualTo("301");
        assertThat(query("SELECT prev_hash FROM audit_event WHERE chain_seq = 301")).isEqualTo(last);
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.lastCheckpointSize()).containsEntry("gw-a", 350L);
    }

    @Test
    void tamperingAfterTheCutIsStillNamed() throws Exception {
        writeOldAndNew(300, 100);
        archive();
        sql("UPDATE audit_event SET statement = 'SELECT 2' WHERE chain_seq = 350");
        assertThat(verify().problems()).first().satisfies(p -> {
            assertThat(p.chainSeq()).isEqualTo(350);
            assertThat(p.what()).contains("edited");
        });
        sql("UPDATE audit_event SET statement = NULL WHERE chain_seq = 350");
        sql("DELETE FROM audit_event WHERE chain_seq = 301");
        assertThat(verify().problems()).first().satisfies(p -> {
            assertThat(p.chainSeq()).isEqualTo(301);
            assertThat(p.what()).contains("record 301 is missing");
        });
    }

    @Test
    void aForgedCutIsCaughtByTheRecordsAfterIt() throws Exception {
        writeOldAndNew(300, 100);
        archive();
        sql("UPDATE audit_archive SET last_hash = '" + "1".repeat(64) + "'");
        // The archive file no longer ends where the cut says, and the first record kept no longer follows it.
        assertThat(verify().problems()).extracting(AuditVerifier.Problem::chainSeq).containsExactly(1L, 301L);
    }

    @Test
    void aDayWithinTheRetentionIsRefused() throws Exception {
        writeOldAndNew(10, 0);
        assertThatThrownBy(() -> AuditArchive.archive(config(50), retentionLimit().plusDays(1), out, null,
                Clock.systemUTC()))
                .isInstanceOf(AuditArchive.RefusedException.class)
                .hasMessageContaining("records younger than audit.retention (6 years) are kept");
        assertThat(out).doesNotExist();
    }

    @Test
    void aCutNoCheckpointCoversIsRefused() throws Exception {
        try (var store = new AuditStore(config(1000))) {
            write(store, 300, OLD);
        }
        assertThatThrownBy(this::archive).isInstanceOf(AuditArchive.RefusedException.class)
                .hasMessageContaining("no checkpoint covers record 300 yet");
        assertThat(out).doesNotExist();
        assertThat(query("SELECT count(*) FROM audit_event")).isEqualTo("300");
    }

    @Test
    void aTamperedPrefixIsNotArchivedAway() throws Exception {
        writeOldAndNew(300, 0);
        sql("UPDATE audit_event SET statement = 'SELECT 2' WHERE chain_seq = 20");
        assertThatThrownBy(this::archive).isInstanceOf(AuditArchive.RefusedException.class)
                .hasMessageContaining("record 20 of replica gw-a does not verify");
        assertThat(query("SELECT count(*) FROM audit_event")).isEqualTo("300");
    }

    @Test
    void theCommandLineArchivesAndVerifyShowsTheCut() throws Exception {
        writeOldAndNew(150, 10);
        Path yaml = io.phigate.TestConfigs.write(dir, """
                store: sqlite:audit.db
                replica: gw-a
                checkpoints:
                  key_file: keys/audit-signing.key
                  file: shipped/audit.checkpoints
                  every: 50
                """);
        var refused = io.phigate.cli.TestAccess.capture("audit", "archive", "--config", yaml.toString(),
                "--before", LocalDate.now(ZoneOffset.UTC).toString(), "--out", out.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("records younger than audit.retention (6 years) are kept");

        var archived = io.phigate.cli.TestAccess.capture("audit", "archive", "--config", yaml.toString(),
                "--before", retentionLimit().toString(), "--out", out.toString());
        assertThat(archived.exitCode()).as(archived.err()).isZero();
        assertThat(archived.out()).contains("archived records 1 to 150 of replica gw-a");

        var verified = io.phigate.cli.TestAccess.capture("audit", "verify", "--config", yaml.toString());
        assertThat(verified.exitCode()).as(verified.out()).isZero();
        assertThat(verified.out()).contains("replica gw-a: records 1 to 150 archived")
                .contains("1 archive file(s) re-read").contains("INTACT");

        Files.move(out, dir.resolve("shipped-away.jsonl.gz"));
        var missing = io.phigate.cli.TestAccess.capture("audit", "verify", "--config", yaml.toString());
        assertThat(missing.exitCode()).as(missing.out()).isEqualTo(1);
        assertThat(missing.out()).contains("TAMPERED: replica gw-a, record 1: archive file").contains("is missing");
        var skipped = io.phigate.cli.TestAccess.capture("audit", "verify", "--config", yaml.toString(),
                "--skip-archive-files");
        assertThat(skipped.exitCode()).as(skipped.out()).isEqualTo(3);
        assertThat(skipped.out()).contains("WARNING: replica gw-a, records 1 to 150: archive file")
                .contains("NOT FULLY VERIFIED").doesNotContain("INTACT:");
    }

    @Test
    void theProveCommandProvesARecordAfterTheCutAndRefusesAnArchivedOne() throws Exception {
        writeOldAndNew(300, 100);
        archive();
        Path proof = dir.resolve("proof.json");
        var proved = io.phigate.cli.TestAccess.capture("audit", "prove", "--store", file.toString(), "--seq", "350",
                "--out", proof.toString());
        assertThat(proved.exitCode()).as(proved.err()).isZero();
        var checked = io.phigate.cli.TestAccess.capture("audit", "check-proof", "--proof", proof.toString(),
                "--public-key", CheckpointKeys.publicFile(key).toString());
        assertThat(checked.exitCode()).as(checked.out()).isZero();
        assertThat(checked.out()).contains("PROVEN: record 350 of replica gw-a");
        var archived = io.phigate.cli.TestAccess.capture("audit", "prove", "--store", file.toString(), "--seq", "10");
        assertThat(archived.exitCode()).isEqualTo(1);
        assertThat(archived.err()).contains("record 10 of replica gw-a was archived");
    }
}
