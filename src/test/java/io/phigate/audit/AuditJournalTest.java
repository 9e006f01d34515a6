package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-ahead journal in front of the SQLite store (decision 0021): what a crash leaves at the journal's tail,
 * what a store that cannot take records does to statements, and read-your-writes for readers in the process.
 */
class AuditJournalTest {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("audit.db");
    }

    private AuditConfig config(long journalMax) {
        AuditConfig c = new AuditConfig("sqlite:" + file(), file(), 10_000, Duration.ofSeconds(2), Duration.ofMillis(100));
        return c.withJournal(c.journalDir(), journalMax);
    }

    private long count() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Holds SQLite's write lock from another connection, so the ingester cannot commit: the store is "down". */
    private Connection lockStore() throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
        try (Statement s = c.createStatement()) {
            s.execute("BEGIN EXCLUSIVE");
        }
        return c;
    }

    private static void unlock(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ROLLBACK");
        }
    }

    private static List<AuditEvent> one(long id) {
        return List.of(AuditStoreBehaviour.requested("s1", id, "SELECT " + id, "p" + id));
    }

    @Test
    void theJournalIsTheDefaultForSqliteBesideTheFile() {
        AuditConfig c = new AuditConfig("sqlite:" + file(), file(), 10, Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertThat(c.journalDir()).isEqualTo(dir.resolve("audit.db.journal").resolve("local"));
        assertThat(c.withReplica("gw-b").journalDir()).isEqualTo(dir.resolve("audit.db.journal").resolve("gw-b"));
    }

    @Test
    void aReaderThatWaitsSeesEveryAcknowledgedRecord() throws Exception {
        try (var store = new AuditStore(config(AuditConfig.DEFAULT_JOURNAL_MAX_BYTES))) {
            for (int i = 1; i <= 200; i++) {
                store.appendDurably(one(i));
                assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
                assertThat(count()).isEqualTo(i);
            }
        }
        assertThat(AuditVerifier.verifySqlite(file()).intact()).isTrue();
        assertThat(AuditJournal.segmentFiles(config(1).journalDir())).as("a clean close leaves no segment").isEmpty();
    }

    @Test
    void aTornOrCorruptTailIsCutAndRecoveryIngestsExactlyTheAcknowledgedFrames() throws Exception {
        AuditConfig config = config(AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
        try (var store = new AuditStore(config)) {
            store.appendDurably(one(1)); // creates the store's schema through the ingester
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
        }
        long acknowledged;
        // The store is down while records are acknowledged, so they exist only in the journal; then the
        // process "crashes" with a frame half-written (torn) and, in a second segment's place, a whole frame
        // whose bytes are not the ones written (CRC mismatch).
        var first = new AuditStore(config);
        try (Connection lock = lockStore()) {
            var store = first;
            for (int i = 2; i <= 50; i++) {
                store.appendDurably(one(i));
            }
            acknowledged = 50;
            store.close(); // cannot ingest: the lock holds; the journal keeps everything
            unlock(lock);
        }
        List<Path> segments = AuditJournal.segmentFiles(config.journalDir());
        assertThat(segments).hasSize(1);
        Path segment = segments.getFirst();
        long goodSize = Files.size(segment);
        byte[] all = Files.readAllBytes(segment);
        int lastFrame = lastFrameStart(all);
        byte[] frame = java.util.Arrays.copyOfRange(all, lastFrame, all.length);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(frame, 0, frame.length / 2)); // torn: cut short mid-payload
        }
        assertThat(count()).isEqualTo(1);

        try (var store = new AuditStore(config)) {
            assertThat(count()).as("replayed before the store accepts anything").isEqualTo(acknowledged);
            store.appendDurably(one(51));
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
            assertThat(count()).isEqualTo(acknowledged + 1);
        }
        AuditVerifier.Report report = AuditVerifier.verifySqlite(file());
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.recordsPerReplica()).containsEntry(AuditConfig.DEFAULT_REPLICA, acknowledged + 1);

        // A whole frame with one byte changed: its CRC fails, it is cut, nothing of it reaches the store.
        var second = new AuditStore(config);
        try (Connection lock = lockStore()) {
            var store = second;
            store.appendDurably(one(52));
            store.close();
            unlock(lock);
        }
        segment = AuditJournal.segmentFiles(config.journalDir()).getLast();
        goodSize = Files.size(segment);
        all = Files.readAllBytes(segment);
        frame = java.util.Arrays.copyOfRange(all, lastFrameStart(all), all.length);
        frame[frame.length - 3] ^= 0x40;
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(frame));
        }
        List<AuditJournal.Segment> recovered = AuditJournal.recover(config.journalDir());
        assertThat(recovered.getLast().durableEnd).isEqualTo(goodSize);
        assertThat(Files.size(segment)).as("the torn tail is truncated").isEqualTo(goodSize);
        try (var store = new AuditStore(config)) {
            assertThat(count()).isEqualTo(acknowledged + 2);
        }
        assertThat(AuditVerifier.verifySqlite(file()).intact()).isTrue();
    }

    /** Where the last whole frame of a segment starts, walking the length prefixes from the front. */
    private static int lastFrameStart(byte[] segment) {
        int at = 0;
        int last = -1;
        while (at + AuditJournal.HEADER <= segment.length) {
            int length = ByteBuffer.wrap(segment, at, 4).getInt();
            if (length <= 0 || at + AuditJournal.HEADER + length > segment.length) {
                break;
            }
            last = at;
            at += AuditJournal.HEADER + length;
        }
        assertThat(last).isNotNegative();
        return last;
    }

    @Test
    void aStoreThatIsDownFillsTheJournalToItsBoundThenRefusesAndRecovers() throws Exception {
        long bound = 64 * 1024;
        try (var store = new AuditStore(config(bound))) {
            store.appendDurably(one(0));
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
            int accepted = 0;
            try (Connection lock = lockStore()) {
                while (true) {
                    try {
                        store.appendDurably(one(accepted + 1));
                        accepted++;
                        assertThat(accepted).as("accepted past the bound").isLessThan(10_000);
                    } catch (AuditUnavailableException e) {
                        assertThat(e.getMessage()).contains("journal_max_bytes");
                        break;
                    }
                }
                assertThat(AuditJournal.bytesOnDisk(config(bound).journalDir())).isBetween(bound - 2_000, bound + 2_000);
                assertThat(store.awaitStored(Duration.ofMillis(200))).as("the store cannot catch up while down").isFalse();
                assertThatThrownBy(() -> store.appendDurably(one(-1))).isInstanceOf(AuditUnavailableException.class);
                unlock(lock);
            }
            // The store is back: the ingester drains the journal and statements are accepted again.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (true) {
                try {
                    store.appendDurably(one(100_000));
                    break;
                } catch (AuditUnavailableException e) {
                    assertThat(System.nanoTime()).as("recovered in time").isLessThan(deadline);
                    Thread.sleep(50);
                }
            }
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
            assertThat(count()).isEqualTo(1 + accepted + 1);
        }
        assertThat(AuditVerifier.verifySqlite(file()).intact()).isTrue();
    }

    @Test
    void aSegmentDeletedUnderTheWriterRefusesUntilRestart() throws Exception {
        AuditConfig config = config(AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
        try (var store = new AuditStore(config)) {
            store.appendDurably(one(1));
            for (Path p : AuditJournal.segmentFiles(config.journalDir())) {
                Files.delete(p);
            }
            assertThatThrownBy(() -> store.appendDurably(one(2))).isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("deleted");
            assertThatThrownBy(() -> store.appendDurably(one(3))).isInstanceOf(AuditUnavailableException.class);
        }
        try (var store = new AuditStore(config)) {
            store.appendDurably(one(4));
        }
        List<Long> ids = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT statement_id FROM audit_event ORDER BY seq")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        // 1 was read into the store from the open segment, or lost with the file (a gap verify names); never 2 or 3.
        assertThat(ids).doesNotContain(2L, 3L).contains(4L);
    }

    @Test
    void aSecondStoreOnTheSameJournalIsRefused() throws Exception {
        AuditConfig config = config(AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
        try (var store = new AuditStore(config)) {
            assertThatThrownBy(() -> new AuditStore(config)).isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("in use");
        }
    }

    private static List<AuditEvent> large(long id) {
        // About 20 KB per frame: a 256 KiB segment fills in about a dozen records.
        return List.of(AuditStoreBehaviour.requested("s1", id, "SELECT '" + "x".repeat(20_000) + "' AS n" + id));
    }

    private static void await(java.util.function.BooleanSupplier ready) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!ready.getAsBoolean()) {
            assertThat(System.nanoTime()).as("spare made in time").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void aBusyJournalStartsItsNextSegmentsFromAZeroFilledSpare() throws Exception {
        AuditConfig config = config(AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
        Path spare = config.journalDir().resolve("spare.zeros");
        long id = 0;
        try (var store = new AuditStore(config, 256 * 1024)) {
            store.appendDurably(large(++id)); // the first segment grows; past 4 KiB it asks for a spare
            await(store::spareReady);
            assertThat(Files.size(spare)).isEqualTo(256 * 1024);
            store.appendDurably(large(++id)); // a growing segment gives way to a ready spare at once
            assertThat(store.preallocatedSegments()).isEqualTo(1);
            for (int segment = 0; segment < 3; segment++) {
                while (!store.spareReady()) {
                    store.appendDurably(large(++id)); // past a quarter of this segment the next spare is made
                    assertThat(id).as("a spare was asked for").isLessThan(200);
                }
                for (int i = 0; i < 14; i++) {
                    store.appendDurably(large(++id)); // past the end: the next segment is the spare
                }
            }
            assertThat(store.preallocatedSegments()).isGreaterThanOrEqualTo(4);
            assertThat(store.awaitStored(Duration.ofSeconds(10))).isTrue();
            assertThat(count()).isEqualTo(id);
        }
        assertThat(spare).as("no spare is left behind").doesNotExist();
        assertThat(AuditJournal.segmentFiles(config.journalDir())).as("a clean close leaves no segment").isEmpty();
        AuditVerifier.Report report = AuditVerifier.verifySqlite(file());
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.recordsPerReplica()).containsEntry(AuditConfig.DEFAULT_REPLICA, id);
    }

    @Test
    void segmentNumbersOnlyGrowWhileTheIngesterTakesSegmentsAway() throws Exception {
        Path journalDir = dir.resolve("numbering");
        var journal = AuditJournal.open(journalDir, 1 << 20);
        try {
            AuditJournal.Segment first = journal.create();
            first.sealed = true;
            journal.segments.pollFirst(); // the ingester took it, as it does once the store holds all of it
            Files.delete(first.path);
            assertThat(journal.create().id).as("an empty list does not restart the numbering").isEqualTo(first.id + 1);

            // The ingester removes the head while the writer creates: create() must never see a list that emptied
            // between two looks at it, and the numbers must keep growing.
            var stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread ingester = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    AuditJournal.Segment s = journal.segments.pollFirst();
                    if (s != null) {
                        try {
                            Files.deleteIfExists(s.path);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                }
            });
            long last = first.id + 1;
            try {
                for (int i = 0; i < 300; i++) {
                    long id = journal.create().id;
                    assertThat(id).isGreaterThan(last);
                    last = id;
                }
            } finally {
                stop.set(true);
                ingester.join();
            }
        } finally {
            journal.close();
        }
    }

    /** Frames for records 1..n as the writer lays them out, with a valid chain. */
    private static ByteBuffer frames(int n) {
        ByteBuffer out = ByteBuffer.allocate(4096);
        String prev = RecordHash.GENESIS;
        for (int i = 1; i <= n; i++) {
            AuditRow row = AuditRow.of(one(i).getFirst());
            AuditRow.Encoded encoded = row.encode(true);
            byte[] hash = RecordHash.of(RecordHash.sha256(), "local", Long.toString(i), prev, encoded.hashTail());
            out = AuditJournal.encode(out, i, java.util.HexFormat.of().parseHex(prev), hash, encoded.journalBody(),
                    row.response(), new java.util.zip.CRC32C());
            prev = RecordHash.hex(hash);
        }
        return out.flip();
    }

    @Test
    void afterACrashTheUnusedZerosOfASpareAreCutSilentlyAndATornFrameBeforeThemToo() throws Exception {
        Path journalDir = dir.resolve("journal");
        var journal = AuditJournal.open(journalDir, 1 << 20);
        journal.prepareSpare();
        await(journal::spareReady);
        AuditJournal.Segment s = journal.create();
        assertThat(Files.size(s.path)).as("began as the spare").isEqualTo(1 << 20);
        ByteBuffer whole = frames(3);
        int good = whole.remaining();
        try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.WRITE)) {
            ch.write(whole, 0);
            ch.force(false);
        }
        journal.close(); // a crash: the segment is never sealed or truncated

        List<AuditJournal.Segment> recovered = AuditJournal.recover(journalDir);
        assertThat(recovered).hasSize(1);
        assertThat(recovered.getFirst().durableEnd).isEqualTo(good);
        assertThat(Files.size(s.path)).isEqualTo(good);
        try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
            var reader = new AuditJournal.Reader(ch, 0, ch.size());
            List<Long> seqs = new ArrayList<>();
            AuditJournal.Entry e;
            while ((e = reader.next()) != null) {
                seqs.add(e.seq());
            }
            assertThat(seqs).containsExactly(1L, 2L, 3L);
        }

        // Half of a fourth frame, then zeros to the end of the preallocated size: the half frame is cut.
        ByteBuffer four = frames(4);
        int fourth = four.remaining() - good;
        try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.WRITE)) {
            ch.write(four.position(good).limit(good + fourth / 2), good);
            ch.write(ByteBuffer.allocate(1 << 20), good + fourth / 2);
        }
        recovered = AuditJournal.recover(journalDir);
        assertThat(recovered.getFirst().durableEnd).isEqualTo(good);
        assertThat(Files.size(s.path)).isEqualTo(good);
    }
}
