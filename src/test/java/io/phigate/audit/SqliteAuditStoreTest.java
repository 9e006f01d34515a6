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
        // The store as the durable point (no journal); AuditJournalTest covers the journal in front of it.
        return new AuditConfig("sqlite:" + file, file, capacity, writeTimeout, busyTimeout)
                .withJournal(null, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
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
        try (var store = new AuditStore(config(file))) {
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

        assertThat(rows(file, "PRAGMA user_version").getFirst()).containsValue(SqliteSchema.SCHEMA_VERSION);
        assertThat(rows(file, "PRAGMA journal_mode").getFirst()).containsValue("wal");
        assertThat(rows(file, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'audit_event_%'"))
                .extracting(r -> r.get("name")).containsExactlyInAnyOrder("audit_event_session", "audit_event_time",
                        "audit_event_chain", "audit_event_statement", "audit_event_text");
    }

    @Test
    void missingFolderIsCreated() throws Exception {
        Path file = dir.resolve("not/yet/there/audit.db");
        try (var store = new AuditStore(config(file))) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
        }
        assertThat(count(file)).isEqualTo(1);
    }

    @Test
    void deletedFileIsReplacedInsteadOfWritingIntoTheVoid() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new AuditStore(config(file))) {
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
        assertThatThrownBy(() -> new AuditStore(config(file)))
                .isInstanceOf(AuditUnavailableException.class)
                .hasMessageStartingWith("audit store sqlite:" + file.toAbsolutePath() + " cannot be opened");
    }

    @Test
    void theWalIsCheckpointedInTheBackgroundNotOnTheCommitPath() throws Exception {
        Path file = dir.resolve("audit.db");
        try (var store = new AuditStore(config(file))) {
            for (int i = 0; i < 20; i++) {
                store.appendDurably(List.of(requested("s1", i, "SELECT " + i)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (store.walCheckpoints() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(store.walCheckpoints()).isPositive();
        }
        assertThat(count(file)).isEqualTo(20);
    }

    @Test
    void toStringNeverShowsStatementOrParameters() throws Exception {
        var event = requested("s1", 1, "SELECT * FROM patient WHERE ssn = $1", "123-45-6789");
        var row = AuditRow.of(event);
        var batch = new AuditWriter.Batch(List.of(row), new byte[][]{row.hashTail()}, null, 0, false,
                new CompletableFuture<>());
        try (var store = new AuditStore(config(dir.resolve("audit.db")))) {
            for (Object o : List.of(event, row, row.request(), batch, store, store.stats())) {
                assertThat(o.toString()).doesNotContain("patient").doesNotContain("123-45-6789");
            }
        }
    }
}
