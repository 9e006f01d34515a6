package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditEvent.CancelRequested;
import io.phigate.audit.AuditEvent.ConnectionRefused;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditEvent.SessionEnded;
import io.phigate.audit.AuditEvent.SessionStarted;
import io.phigate.audit.AuditEvent.StatementCompleted;
import io.phigate.audit.AuditEvent.StatementRequested;
import io.phigate.config.AuditConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteAuditStoreTest {

    @TempDir
    Path dir;

    private static final Instant T = Instant.parse("2025-03-04T05:06:07.123456789Z");

    private AuditConfig config(Path file, int capacity, Duration writeTimeout, Duration busyTimeout) {
        return new AuditConfig("sqlite:" + file, file, capacity, writeTimeout, busyTimeout);
    }

    private AuditConfig config(Path file) {
        return config(file, 10_000, Duration.ofSeconds(5), Duration.ofMillis(500));
    }

    private static StatementRequested requested(String session, long id, String text, String... parameters) {
        return new StatementRequested(T, session, id, "10.0.0.7:5544", "clinic", "https://issuer", "agent-1",
                Protocol.EXTENDED, text, Arrays.asList(parameters), "stmt1", "");
    }

    private static Connection read(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    private static List<Map<String, Object>> rows(Path file, String sql) throws SQLException {
        try (Connection c = read(file); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            var rows = new ArrayList<Map<String, Object>>();
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                var row = new HashMap<String, Object>();
                for (int i = 1; i <= columns; i++) {
                    row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
                }
                rows.add(row);
            }
            return rows;
        }
    }

    private static long count(Path file) throws SQLException {
        return ((Number) rows(file, "SELECT count(*) AS n FROM audit_event").getFirst().get("n")).longValue();
    }

    @Test
    void recordsAreDurableAndReadableAfterClose() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new SqliteAuditStore(config(file))) {
            store.appendDurably(List.of(
                    new SessionStarted(T, "s1", "10.0.0.7:5544", "clinic", "https://issuer", "agent-1", "sha256:ab",
                            "postgres", java.util.Map.of("application_name", "psql"), "TLSv1.3"),
                    requested("s1", 1, "SELECT * FROM patient WHERE mrn = $1 AND note = $2", "MRN-0042", null),
                    new StatementCompleted(T, "s1", 1, Outcome.OK, null, "SELECT 3", 3, 1234),
                    new CancelRequested(T, "s1", "10.0.0.8:1", true),
                    new SessionEnded(T, "s1", "client terminated", 1, 5000),
                    new ConnectionRefused(T, "s2", "10.0.0.9:2", "clinic", null, null, "28000", "token expired")));
            assertThat(store.stats().eventsWritten()).isEqualTo(6);
        }

        var rows = rows(file, "SELECT * FROM audit_event ORDER BY seq");
        assertThat(rows).extracting(r -> r.get("kind")).containsExactly("session_started", "statement_requested",
                "statement_completed", "cancel_requested", "session_ended", "connection_refused");
        assertThat(rows).extracting(r -> r.get("time")).containsOnly("2025-03-04T05:06:07.123456Z");

        var started = rows.get(0);
        assertThat(started).containsEntry("session_id", "s1").containsEntry("client_address", "10.0.0.7:5544")
                .containsEntry("upstream", "clinic").containsEntry("issuer", "https://issuer")
                .containsEntry("subject", "agent-1")
                .containsEntry("detail", "{\"claims_digest\":\"sha256:ab\",\"startup_user\":\"postgres\","
                        + "\"application_name\":\"psql\",\"startup_parameters\":{\"application_name\":\"psql\"},"
                        + "\"tls\":\"TLSv1.3\"}");

        var requested = rows.get(1);
        assertThat(requested).containsEntry("statement_id", 1)
                .containsEntry("protocol", "extended")
                .containsEntry("statement", "SELECT * FROM patient WHERE mrn = $1 AND note = $2")
                .containsEntry("parameters", "[\"MRN-0042\",null]")
                .containsEntry("prepared_name", "stmt1").containsEntry("portal", "")
                .containsEntry("detail", null);

        var completed = rows.get(2);
        assertThat(completed).containsEntry("outcome", "ok").containsEntry("command_tag", "SELECT 3")
                .containsEntry("row_count", 3).containsEntry("duration_us", 1234).containsEntry("sqlstate", null);

        assertThat(rows.get(3)).containsEntry("client_address", "10.0.0.8:1")
                .containsEntry("detail", "{\"matched\":true}");
        assertThat(rows.get(4)).containsEntry("detail",
                "{\"reason\":\"client terminated\",\"statements\":1,\"duration_ms\":5000}");
        assertThat(rows.get(5)).containsEntry("session_id", "s2").containsEntry("sqlstate", "28000")
                .containsEntry("issuer", null).containsEntry("detail", "{\"reason\":\"token expired\"}");

        assertThat(rows(file, "PRAGMA user_version").getFirst()).containsValue(AuditWriter.SCHEMA_VERSION);
        assertThat(rows(file, "PRAGMA journal_mode").getFirst()).containsValue("wal");
        assertThat(rows(file, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'audit_event_%'"))
                .extracting(r -> r.get("name")).containsExactlyInAnyOrder("audit_event_session", "audit_event_time",
                        "audit_event_chain");
    }

    @Test
    void reopeningAnExistingStoreKeepsItsRecordsAndSequence() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new SqliteAuditStore(config(file))) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
        }
        try (var store = new SqliteAuditStore(config(file))) {
            store.appendDurably(List.of(requested("s1", 2, "SELECT 2")));
        }
        assertThat(rows(file, "SELECT seq, statement_id FROM audit_event ORDER BY seq"))
                .extracting(r -> r.get("seq"), r -> r.get("statement_id"))
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, 1), org.assertj.core.groups.Tuple.tuple(2, 2));
    }

    @Test
    void concurrentProducersShareCommits() throws Exception {
        Path file = dir.resolve("audit.db");
        int producers = 64;
        int perProducer = 200;
        long started;
        long elapsed;
        SqliteAuditStore.Stats stats;
        try (var store = new SqliteAuditStore(config(file))) {
            started = System.nanoTime();
            try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                var futures = new ArrayList<Future<?>>();
                for (int p = 0; p < producers; p++) {
                    String session = "session-" + p;
                    futures.add(executor.submit(() -> {
                        for (long i = 0; i < perProducer; i++) {
                            store.appendDurably(List.of(requested(session, i, "SELECT $1", Long.toString(i))));
                        }
                        return null;
                    }));
                }
                for (Future<?> future : futures) {
                    future.get(60, TimeUnit.SECONDS);
                }
            }
            elapsed = System.nanoTime() - started;
            stats = store.stats();
        }
        int events = producers * perProducer;
        System.out.printf("concurrentProducersShareCommits: %d events in %.0f ms = %.0f events/s, %d commits "
                        + "(%.1f events per commit)%n", events, elapsed / 1e6, events / (elapsed / 1e9),
                stats.commits(), (double) events / stats.commits());

        assertThat(stats.eventsWritten()).isEqualTo(events);
        assertThat(stats.failures()).isZero();
        assertThat(stats.commits()).isLessThan(events);
        assertThat(count(file)).isEqualTo(events);
        try (Connection c = read(file); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT session_id, statement_id FROM audit_event ORDER BY seq")) {
            var next = new HashMap<String, Long>();
            while (rs.next()) {
                long expected = next.getOrDefault(rs.getString(1), 0L);
                assertThat(rs.getLong(2)).as("order within %s", rs.getString(1)).isEqualTo(expected);
                next.put(rs.getString(1), expected + 1);
            }
            assertThat(next).hasSize(producers).allSatisfy((session, n) -> assertThat(n).isEqualTo(perProducer));
        }
    }

    @Test
    void lockedStoreFailsClosedWithinTheTimeoutAndRecovers() throws Exception {
        Path file = dir.resolve("audit.db");
        Duration busy = Duration.ofMillis(300);
        Duration write = Duration.ofSeconds(2);
        try (var store = new SqliteAuditStore(config(file, 100, write, busy));
             Connection other = read(file); Statement lock = other.createStatement()) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));

            lock.execute("BEGIN EXCLUSIVE");
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 2, "SELECT 2"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("audit store sqlite:" + file.toAbsolutePath() + " cannot write")
                    .hasMessageContaining("locked");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(busy.plus(write));
            // A second attempt while still locked fails the same way: the writer kept running.
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 3, "SELECT 3"))))
                    .isInstanceOf(AuditUnavailableException.class);
            lock.execute("ROLLBACK");

            store.appendDurably(List.of(requested("s1", 4, "SELECT 4")));
            assertThat(store.stats().failures()).isEqualTo(2);
        }
        assertThat(rows(file, "SELECT statement_id FROM audit_event ORDER BY seq"))
                .extracting(r -> r.get("statement_id")).containsExactly(1, 4);
    }

    @Test
    void slowStoreRefusesAfterTheWriteTimeout() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new SqliteAuditStore(config(file, 100, Duration.ofMillis(200), Duration.ofSeconds(2)));
             Connection other = read(file); Statement lock = other.createStatement()) {
            lock.execute("BEGIN EXCLUSIVE");
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 1, "SELECT 1"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessage("audit store sqlite:" + file.toAbsolutePath()
                            + " did not confirm the record within 200ms");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
            lock.execute("ROLLBACK");
        }
    }

    @Test
    void fullQueueRefusesInsteadOfBlocking() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new SqliteAuditStore(config(file, 4, Duration.ofSeconds(5), Duration.ofSeconds(1)));
             Connection other = read(file); Statement lock = other.createStatement()) {
            lock.execute("BEGIN EXCLUSIVE");
            var accepted = new ArrayList<CompletableFuture<Void>>();
            for (int i = 0; i < 4; i++) {
                accepted.add(store.append(List.of(requested("s1", i, "SELECT 1"))));
            }
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 4, "SELECT 1"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("queue is full");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(200));
            assertThat(store.append(List.of(requested("s1", 5, "x"), requested("s1", 6, "y"), requested("s1", 7, "z"),
                    requested("s1", 8, "w"), requested("s1", 9, "v"))))
                    .failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                    .withMessageContaining("cannot take 5 events at once");
            assertThat(store.stats().refusals()).isEqualTo(2);
            lock.execute("ROLLBACK");

            // Once the writer has worked through the queue, there is room again.
            for (var future : accepted) {
                try {
                    future.get(5, TimeUnit.SECONDS);
                } catch (ExecutionException expectedWhileLocked) {
                    assertThat(expectedWhileLocked).hasCauseInstanceOf(AuditUnavailableException.class);
                }
            }
            store.appendDurably(List.of(requested("s1", 10, "SELECT 1")));
        }
    }

    @Test
    void batchIsAllOrNothing() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new SqliteAuditStore(config(file))) {
            try (Connection c = read(file); Statement s = c.createStatement()) {
                // Stands in for a write that fails halfway through a batch (disk full, I/O error).
                s.execute("""
                        CREATE TRIGGER fail_midway BEFORE INSERT ON audit_event WHEN NEW.session_id = 'poison'
                        BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END""");
            }
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 1, "SELECT 1"),
                    requested("poison", 2, "SELECT 2"), requested("s1", 3, "SELECT 3"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("refused by test trigger");
            assertThat(count(file)).isZero();

            store.appendDurably(List.of(requested("s1", 4, "SELECT 4"), requested("s1", 5, "SELECT 5")));
        }
        assertThat(rows(file, "SELECT statement_id FROM audit_event ORDER BY seq"))
                .extracting(r -> r.get("statement_id")).containsExactly(4, 5);
    }

    @Test
    void missingFolderIsCreated() throws Exception {
        Path file = dir.resolve("not/yet/there/audit.db");
        try (var store = new SqliteAuditStore(config(file))) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
        }
        assertThat(count(file)).isEqualTo(1);
    }

    @Test
    void deletedFileIsReplacedInsteadOfWritingIntoTheVoid() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new SqliteAuditStore(config(file))) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
            Files.delete(file);
            store.appendDurably(List.of(requested("s1", 2, "SELECT 2")));
        }
        assertThat(rows(file, "SELECT statement_id FROM audit_event ORDER BY seq"))
                .extracting(r -> r.get("statement_id")).containsExactly(2);
    }

    @Test
    void unopenableFileFailsAtStartWithTheStoreNamed() throws Exception {
        Path notAFolder = dir.resolve("plain-file");
        Files.writeString(notAFolder, "x");
        Path file = notAFolder.resolve("audit.db");
        assertThatThrownBy(() -> new SqliteAuditStore(config(file)))
                .isInstanceOf(AuditUnavailableException.class)
                .hasMessageStartingWith("audit store sqlite:" + file.toAbsolutePath() + " cannot be opened");
    }

    @Test
    void closedStoreRefusesAndCloseWritesWhatWasQueued() throws Exception {
        Path file = dir.resolve("audit.db");
        var store = new SqliteAuditStore(config(file));
        var queued = new ArrayList<CompletableFuture<Void>>();
        for (int i = 0; i < 100; i++) {
            queued.add(store.append(List.of(requested("s1", i, "SELECT 1"))));
        }
        store.close();
        store.close();
        assertThat(CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new))).succeedsWithin(Duration.ofSeconds(5));
        assertThat(count(file)).isEqualTo(100);
        assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 100, "SELECT 1"))))
                .isInstanceOf(AuditUnavailableException.class).hasMessageContaining("is closed");
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("phigate-audit-writer"));
    }

    @Test
    void callbacksOnAppendNeverRunOnTheWriterThread() throws Exception {
        try (var store = new SqliteAuditStore(config(dir.resolve("audit.db")))) {
            var ranOn = store.append(List.of(requested("s1", 1, "SELECT 1")))
                    .thenApply(ignored -> Thread.currentThread().getName());
            assertThat(ranOn.get(5, TimeUnit.SECONDS)).isNotEqualTo("phigate-audit-writer");
        }
    }

    @Test
    void toStringNeverShowsStatementOrParameters() throws Exception {
        var event = requested("s1", 1, "SELECT * FROM patient WHERE ssn = $1", "123-45-6789");
        var row = AuditRow.of(event);
        var batch = new AuditWriter.Batch(List.of(row), new CompletableFuture<>());
        try (var store = new SqliteAuditStore(config(dir.resolve("audit.db")))) {
            for (Object o : List.of(event, row, row.request(), batch, store, store.stats())) {
                assertThat(o.toString()).doesNotContain("patient").doesNotContain("123-45-6789");
            }
        }
    }
}
