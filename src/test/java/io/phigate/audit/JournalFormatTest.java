package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal's frames across versions (decision 0067): version 2 frames, whose body the producer encodes, read
 * back as the rows and chain places written; a journal the previous build left (version 1 frames, written by that
 * build: {@code journal-v1/}, see {@link JournalV1FixtureGenerator}) is replayed after an upgrade, and the chain
 * the new build extends from it verifies.
 */
class JournalFormatTest {
    @TempDir
    Path dir;

    private static final String V1_SEGMENT = "00000000000000000001.seg";

    @Test
    void aVersion2FrameReadsBackAsTheRowAndChainPlaceWritten() throws Exception {
        ByteBuffer out = ByteBuffer.allocate(64);
        String prev = RecordHash.GENESIS;
        List<AuditRow> rows = new ArrayList<>();
        List<String> hashes = new ArrayList<>();
        var chain = new RecordHash.Chain("gw-a");
        byte[] prevHex = prev.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        long seq = 41;
        for (AuditEvent e : JournalV1FixtureGenerator.events()) {
            AuditRow row = AuditRow.of(e);
            AuditRow.Encoded encoded = row.encode(true);
            byte[] hash = new byte[32];
            chain.hash(seq, prevHex, encoded.hashTail(), hash);
            assertThat(hash).as("the writer's chain hash is the verifier's")
                    .isEqualTo(RecordHash.of(row.hashedValues("gw-a", seq, prev)));
            out = AuditJournal.encode(out, seq, HexFormat.of().parseHex(prev), hash, encoded.journalBody(),
                    row.response(), new CRC32C());
            rows.add(row);
            prev = RecordHash.hex(hash);
            prevHex = prev.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            hashes.add(prev);
            seq++;
        }
        Path segment = dir.resolve(V1_SEGMENT);
        Files.write(segment, java.util.Arrays.copyOf(out.array(), out.position()));

        List<AuditJournal.Entry> read = readAll(segment);
        assertThat(read).hasSize(rows.size());
        String expectedPrev = RecordHash.GENESIS;
        for (int i = 0; i < read.size(); i++) {
            AuditJournal.Entry e = read.get(i);
            assertThat(e.seq()).isEqualTo(41 + i);
            assertThat(e.prevHash()).isEqualTo(expectedPrev);
            assertThat(e.hash()).isEqualTo(hashes.get(i));
            assertThat(e.row().hashedValues("gw-a", e.seq(), e.prevHash()))
                    .containsExactly(rows.get(i).hashedValues("gw-a", e.seq(), e.prevHash()));
            assertThat(e.row().response() == null).isEqualTo(rows.get(i).response() == null);
            expectedPrev = e.hash();
        }
        assertThat(read.get(2).row().response().deflated()).isEqualTo(rows.get(2).response().deflated());
    }

    @Test
    void aJournalThePreviousBuildLeftIsReplayedAndTheChainGoesOnFromIt() throws Exception {
        Path file = dir.resolve("audit.db");
        AuditConfig config = new AuditConfig("sqlite:" + file, file, 100, Duration.ofSeconds(2), Duration.ofMillis(100));
        Files.createDirectories(config.journalDir());
        try (InputStream v1 = getClass().getResourceAsStream("journal-v1/" + V1_SEGMENT)) {
            Files.copy(v1, config.journalDir().resolve(V1_SEGMENT));
        }
        assertThat(readAll(config.journalDir().resolve(V1_SEGMENT))).as("the fixture holds version-1 frames")
                .hasSize(JournalV1FixtureGenerator.events().size());

        try (var store = new AuditStore(config)) {
            // Replayed at open, before anything new is accepted; then this build appends version-2 frames.
            assertThat(storedTexts(file)).hasSize(JournalV1FixtureGenerator.events().size());
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s2", 1, "SELECT 'after the upgrade'", "x")));
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
        }

        AuditVerifier.Report report = AuditVerifier.verifySqlite(file);
        assertThat(report.problems()).isEmpty();
        assertThat(report.records()).isEqualTo(JournalV1FixtureGenerator.events().size() + 1);
        // The values the old build journaled are stored as the old build would have stored them.
        List<AuditRow> expected = JournalV1FixtureGenerator.events().stream().map(AuditRow::of).toList();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + RecordHash.SELECT_LIST + " FROM audit_event ORDER BY chain_seq")) {
            for (int i = 0; i < expected.size(); i++) {
                assertThat(rs.next()).isTrue();
                String[] stored = RecordHash.valuesFrom(rs, 1);
                assertThat(java.util.Arrays.copyOfRange(stored, RecordHash.CHAIN_COLUMNS, stored.length))
                        .containsExactly(java.util.Arrays.copyOfRange(expected.get(i).hashedValues(null, 0, null),
                                RecordHash.CHAIN_COLUMNS, stored.length));
            }
        }
        assertThat(storedTexts(file)).contains("SELECT name FROM patients WHERE id = $1 AND note = 'Zoë ✓'",
                "SELECT 'after the upgrade'");
    }

    private static List<AuditJournal.Entry> readAll(Path segment) throws Exception {
        List<AuditJournal.Entry> all = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            var reader = new AuditJournal.Reader(ch, 0, ch.size());
            AuditJournal.Entry e;
            while ((e = reader.next()) != null) {
                all.add(e);
            }
            assertThat(reader.torn()).isFalse();
        }
        return all;
    }

    private static List<String> storedTexts(Path file) throws Exception {
        List<String> texts = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(statement, kind) FROM audit_event ORDER BY chain_seq")) {
            while (rs.next()) {
                texts.add(rs.getString(1));
            }
        }
        return texts;
    }
}
