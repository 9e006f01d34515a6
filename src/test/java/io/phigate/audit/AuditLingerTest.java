package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code audit.async_linger}: a group no statement waits for (a completion) lingers for the next statement's
 * request so both share one fsync, and nobody who does wait (a statement, a reader) waits for the linger. With and
 * without the journal in front of the SQLite store.
 */
class AuditLingerTest {
    @TempDir
    Path dir;

    private AuditConfig config(boolean journal, Duration linger) {
        Path file = dir.resolve("audit.db");
        AuditConfig c = new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1));
        return c.withJournal(journal ? c.journalDir() : null, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES)
                .withAsyncLinger(linger);
    }

    private static List<AuditEvent> completion(long id) {
        return List.of(new AuditEvent.StatementCompleted(Instant.now(), "s1", id, AuditEvent.Outcome.OK, null,
                "SELECT 1", 1, 50));
    }

    private long count() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("audit.db"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Polls the writer's group count until it reaches {@code n}; the time it took, or null if it did not. */
    private static Duration awaitCommits(AuditStore store, long n, Duration limit) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < limit.toNanos()) {
            if (store.stats().commits() >= n) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            Thread.sleep(5);
        }
        return null;
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void aCompletionWaitsForTheNextStatementAndSharesItsFsync(boolean journal) throws Exception {
        try (var store = new AuditStore(config(journal, Duration.ofSeconds(1)))) {
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 1, "SELECT 1")));
            long before = store.stats().commits();
            store.appendUnobserved(completion(1));
            Thread.sleep(100);
            assertThat(store.stats().commits()).as("the completion alone is not written yet").isEqualTo(before);
            long start = System.nanoTime();
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 2, "SELECT 2")));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the statement does not wait for the linger")
                    .isLessThan(Duration.ofMillis(800));
            assertThat(store.stats().commits()).as("one group for both records").isEqualTo(before + 1);
            assertThat(store.stats().eventsWritten()).isEqualTo(3);
        }
        assertThat(count()).isEqualTo(3);
        assertThat(AuditVerifier.verifySqlite(dir.resolve("audit.db")).intact()).isTrue();
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void aReaderSendsLingeringRecordsOnAndSeesThem(boolean journal) throws Exception {
        try (var store = new AuditStore(config(journal, Duration.ofSeconds(1)))) {
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 1, "SELECT 1")));
            store.appendUnobserved(completion(1));
            long start = System.nanoTime();
            assertThat(store.awaitStored(Duration.ofSeconds(5))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(800));
            assertThat(count()).as("the lingering completion is readable").isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void aLoneCompletionIsWrittenWhenTheLingerEnds(boolean journal) throws Exception {
        try (var store = new AuditStore(config(journal, Duration.ofMillis(300)))) {
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 1, "SELECT 1")));
            long before = store.stats().commits();
            store.appendUnobserved(completion(1));
            Duration took = awaitCommits(store, before + 1, Duration.ofSeconds(5));
            assertThat(took).as("written without any statement behind it").isNotNull()
                    .isGreaterThanOrEqualTo(Duration.ofMillis(250));
        }
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void withoutALingerEveryGroupIsWrittenAtOnce(boolean journal) throws Exception {
        try (var store = new AuditStore(config(journal, Duration.ZERO))) {
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 1, "SELECT 1")));
            long before = store.stats().commits();
            store.appendUnobserved(completion(1));
            assertThat(awaitCommits(store, before + 1, Duration.ofSeconds(5))).isNotNull()
                    .isLessThan(Duration.ofMillis(250));
        }
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void closingWritesWhatLingers(boolean journal) throws Exception {
        try (var store = new AuditStore(config(journal, Duration.ofSeconds(1)))) {
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 1, "SELECT 1")));
            store.appendUnobserved(completion(1));
        }
        assertThat(count()).isEqualTo(2);
    }
}
