package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditEvent.StatementCompleted;
import io.phigate.audit.AuditEvent.StatementRequested;
import io.phigate.config.AuditConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every audit store must have, run against each store by a subclass: durability under concurrency,
 * failing closed, bounded queues, all-or-nothing groups, independent replica chains, and the tamper matrix the
 * verifier must catch.
 */
abstract class AuditStoreBehaviour {

    static final Instant T = Instant.parse("2025-03-04T05:06:07.123456789Z");

    /** A config for this store and replica. */
    abstract AuditConfig config(int capacity, Duration writeTimeout, Duration busyTimeout, String replica);

    /** A connection that may do anything to the store: a reader, a lock holder, an attacker. */
    abstract Connection admin() throws SQLException;

    /** Starts a transaction on {@code s} that keeps the writer from writing until it is rolled back. */
    abstract void lockAgainstWriter(Statement s) throws SQLException;

    /** The words the store's lock error contains. */
    abstract String lockedWords();

    /** Makes every insert of a row with session {@code session} fail, as a full disk would mid-group. */
    abstract void failInsertsOf(String session) throws SQLException;

    /** Removes what stops an attacker with full access from breaking uniqueness (they can do this too). */
    abstract void dropChainUniqueness(Statement s) throws SQLException;

    /** Columns (with a leading comma) a hand-made insert must also fill, and their values from a source row. */
    abstract String extraColumns();

    abstract AuditVerifier.Report verify() throws Exception;

    AuditConfig config() {
        return config(10_000, Duration.ofSeconds(5), Duration.ofMillis(500), AuditConfig.DEFAULT_REPLICA);
    }

    static StatementRequested requested(String session, long id, String text, String... parameters) {
        return new StatementRequested(T, session, id, "10.0.0.7:5544", "clinic", "https://issuer", "agent-1",
                Protocol.EXTENDED, text, Arrays.asList(parameters), "stmt1", "");
    }

    List<Long> statementIds() throws SQLException {
        var ids = new ArrayList<Long>();
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT statement_id FROM audit_event ORDER BY seq")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    long count() throws SQLException {
        return count("TRUE");
    }

    long count(String where) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_event WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void reopeningAnExistingStoreKeepsItsRecordsAndSequence() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
        }
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 2, "SELECT 2")));
        }
        assertThat(statementIds()).containsExactly(1L, 2L);
        assertThat(verify().recordsPerReplica()).containsEntry(AuditConfig.DEFAULT_REPLICA, 2L);
        assertThat(verify().intact()).isTrue();
    }

    @Test
    void concurrentProducersShareCommits() throws Exception {
        int producers = 64;
        int perProducer = 100;
        AuditStore.Stats stats;
        long started = System.nanoTime();
        try (var store = new AuditStore(config())) {
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
            stats = store.stats();
        }
        long elapsed = System.nanoTime() - started;
        int events = producers * perProducer;
        System.out.printf("%s concurrentProducersShareCommits: %d events in %.0f ms, %d commits (%.1f per commit)%n",
                getClass().getSimpleName(), events, elapsed / 1e6, stats.commits(), (double) events / stats.commits());
        assertThat(stats.eventsWritten()).isEqualTo(events);
        assertThat(stats.failures()).isZero();
        assertThat(stats.commits()).isLessThan(events);
        assertThat(count()).isEqualTo(events);
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT session_id, statement_id FROM audit_event ORDER BY seq")) {
            var next = new HashMap<String, Long>();
            while (rs.next()) {
                long expected = next.getOrDefault(rs.getString(1), 0L);
                assertThat(rs.getLong(2)).as("order within %s", rs.getString(1)).isEqualTo(expected);
                next.put(rs.getString(1), expected + 1);
            }
            assertThat(next).hasSize(producers).allSatisfy((session, n) -> assertThat(n).isEqualTo(perProducer));
        }
        assertThat(verify().intact()).isTrue();
    }

    @Test
    void twoReplicasWritingConcurrentlyKeepTwoIntactChains() throws Exception {
        int perReplica = 300;
        try (var a = new AuditStore(config(10_000, Duration.ofSeconds(5), Duration.ofSeconds(2), "a"));
             var b = new AuditStore(config(10_000, Duration.ofSeconds(5), Duration.ofSeconds(2), "b"));
             var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<?>>();
            for (var store : List.of(a, b)) {
                for (int p = 0; p < 8; p++) {
                    String session = store + "-" + p;
                    futures.add(executor.submit(() -> {
                        for (long i = 0; i < perReplica / 8 + 1; i++) {
                            store.appendDurably(List.of(requested(session, i, "SELECT 1")));
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        AuditVerifier.Report report = verify();
        assertThat(report.problems()).isEmpty();
        long each = 8L * (perReplica / 8 + 1);
        assertThat(report.recordsPerReplica()).containsEntry("a", each).containsEntry("b", each);
    }

    @Test
    void lockedStoreFailsClosedWithinTheTimeoutAndRecovers() throws Exception {
        Duration busy = Duration.ofMillis(300);
        Duration write = Duration.ofSeconds(2);
        try (var store = new AuditStore(config(100, write, busy, AuditConfig.DEFAULT_REPLICA));
             Connection other = admin(); Statement lock = other.createStatement()) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));

            lockAgainstWriter(lock);
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 2, "SELECT 2"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("cannot write")
                    .hasMessageContaining(lockedWords());
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(busy.plus(write));
            // A second attempt while still locked fails the same way: the writer kept running.
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 3, "SELECT 3"))))
                    .isInstanceOf(AuditUnavailableException.class);
            lock.execute("ROLLBACK");

            store.appendDurably(List.of(requested("s1", 4, "SELECT 4")));
            assertThat(store.stats().failures()).isEqualTo(2);
        }
        assertThat(statementIds()).containsExactly(1L, 4L);
        assertThat(verify().intact()).isTrue();
    }

    /**
     * The store's first write (schema, PostgreSQL partitions) with the default timeout: on a loaded machine it can
     * take longer than the short timeouts some tests use for what they measure.
     */
    void warmUp() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 0, "SELECT 0")));
        }
    }

    @Test
    void slowStoreRefusesAfterTheWriteTimeout() throws Exception {
        warmUp();
        try (var store = new AuditStore(config(100, Duration.ofMillis(200), Duration.ofSeconds(2),
                AuditConfig.DEFAULT_REPLICA));
             Connection other = admin(); Statement lock = other.createStatement()) {
            lockAgainstWriter(lock);
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 1, "SELECT 1"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageEndingWith(" did not confirm the record within 200ms");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
            lock.execute("ROLLBACK");
        }
    }

    @Test
    void fullQueueRefusesInsteadOfBlocking() throws Exception {
        try (var store = new AuditStore(config(4, Duration.ofSeconds(5), Duration.ofSeconds(1),
                AuditConfig.DEFAULT_REPLICA));
             Connection other = admin(); Statement lock = other.createStatement()) {
            store.appendDurably(List.of(requested("s1", 0, "SELECT 0")));
            lockAgainstWriter(lock);
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

            for (var future : accepted) {
                try {
                    future.get(5, TimeUnit.SECONDS);
                } catch (ExecutionException expectedWhileLocked) {
                    assertThat(expectedWhileLocked).hasCauseInstanceOf(AuditUnavailableException.class);
                }
            }
            store.appendDurably(List.of(requested("s1", 10, "SELECT 1")));
        }
        assertThat(verify().intact()).isTrue();
    }

    /** A completion carrying a recorded response of {@code size} incompressible bytes. */
    static StatementCompleted completedWithRecording(String session, long id, int size) {
        byte[] deflated = new byte[size];
        new java.util.Random(id).nextBytes(deflated);
        return new StatementCompleted(T, session, id, Outcome.OK, null, "SELECT 1", 1, 10,
                new AuditEvent.RecordedResponse(size, "0".repeat(64), deflated, false));
    }

    @Test
    void largeRecordingsWaitForRoomInsteadOfPilingUpInMemory() throws Exception {
        // 1 MiB may wait for the writer; each recording is 600 kB, so the second one has to wait for the first.
        try (var store = new AuditStore(config(100, Duration.ofSeconds(10), Duration.ofSeconds(10),
                AuditConfig.DEFAULT_REPLICA).withQueueBytes(1 << 20));
             Connection other = admin(); Statement lock = other.createStatement();
             var producers = Executors.newVirtualThreadPerTaskExecutor()) {
            store.appendDurably(List.of(requested("s1", 0, "SELECT 0")));
            lockAgainstWriter(lock);
            CompletableFuture<Void> first = store.append(List.of(completedWithRecording("s1", 1, 600_000)));
            Future<CompletableFuture<Void>> second =
                    producers.submit(() -> store.append(List.of(completedWithRecording("s1", 2, 600_000))));
            Thread.sleep(300);
            assertThat(second.isDone()).as("the second producer waits while the first recording fills the queue")
                    .isFalse();
            lock.execute("ROLLBACK");

            first.get(10, TimeUnit.SECONDS);
            second.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
            assertThat(store.stats().refusals()).isZero();
        }
        assertThat(count("response IS NOT NULL")).isEqualTo(2);
        assertThat(verify().intact()).isTrue();
    }

    @Test
    void aRecordingThatFindsNoRoomWithinTheWriteTimeoutIsRefusedNotDropped() throws Exception {
        warmUp();
        try (var store = new AuditStore(config(100, Duration.ofMillis(300), Duration.ofSeconds(5),
                AuditConfig.DEFAULT_REPLICA).withQueueBytes(1 << 20));
             Connection other = admin(); Statement lock = other.createStatement()) {
            lockAgainstWriter(lock);
            CompletableFuture<Void> first = store.append(List.of(completedWithRecording("s1", 1, 600_000)));
            long started = System.nanoTime();
            CompletableFuture<Void> second = store.append(List.of(completedWithRecording("s1", 2, 600_000)));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(250),
                    Duration.ofSeconds(3));
            assertThat(second).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                    .withMessageContaining("bytes waiting for the writer");
            assertThat(store.stats().refusals()).isEqualTo(1);
            lock.execute("ROLLBACK");
            first.get(10, TimeUnit.SECONDS);
        }
        assertThat(count("response IS NOT NULL")).isEqualTo(1);
    }

    @Test
    void batchIsAllOrNothing() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 0, "SELECT 0")));
            failInsertsOf("poison");
            assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 1, "SELECT 1"),
                    requested("poison", 2, "SELECT 2"), requested("s1", 3, "SELECT 3"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("refused by test trigger");
            assertThat(count()).isEqualTo(1);

            store.appendDurably(List.of(requested("s1", 4, "SELECT 4"), requested("s1", 5, "SELECT 5")));
        }
        assertThat(statementIds()).containsExactly(0L, 4L, 5L);
        assertThat(verify().intact()).isTrue();
    }

    @Test
    void closedStoreRefusesAndCloseWritesWhatWasQueued() throws Exception {
        var store = new AuditStore(config());
        var queued = new ArrayList<CompletableFuture<Void>>();
        for (int i = 0; i < 100; i++) {
            queued.add(store.append(List.of(requested("s1", i, "SELECT 1"))));
        }
        store.close();
        store.close();
        assertThat(CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new))).succeedsWithin(Duration.ofSeconds(5));
        assertThat(count()).isEqualTo(100);
        assertThatThrownBy(() -> store.appendDurably(List.of(requested("s1", 100, "SELECT 1"))))
                .isInstanceOf(AuditUnavailableException.class).hasMessageContaining("is closed");
    }

    @Test
    void callbacksOnAppendNeverRunOnTheWriterThread() throws Exception {
        try (var store = new AuditStore(config())) {
            var ranOn = store.append(List.of(requested("s1", 1, "SELECT 1")))
                    .thenApply(ignored -> Thread.currentThread().getName());
            assertThat(ranOn.get(5, TimeUnit.SECONDS)).isNotEqualTo("phigate-audit-writer");
        }
    }

    // The tamper matrix: 20 records in replica gw-a, then one kind of tampering each.

    void write20Records() throws Exception {
        try (var store = new AuditStore(config(1000, Duration.ofSeconds(5), Duration.ofSeconds(1), "gw-a"))) {
            for (int i = 1; i <= 10; i++) {
                store.appendDurably(List.of(
                        new StatementRequested(Instant.now(), "s1", i, "10.0.0.1:5000", "clinical", "iss", "agent",
                                Protocol.EXTENDED, "select * from patients where id = $1", List.of("" + i), "", ""),
                        new StatementCompleted(Instant.now(), "s1", i, Outcome.OK, null, "SELECT 1", 1, 50)));
            }
        }
    }

    void tamper(String... sql) throws Exception {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            dropChainUniqueness(s);
            for (String one : sql) {
                s.execute(one);
            }
        }
    }

    AuditVerifier.Problem firstProblem() throws Exception {
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).isFalse();
        return report.problems().getFirst();
    }

    @Test
    void anUntouchedLogIsIntact() throws Exception {
        write20Records();
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).isTrue();
        assertThat(report.recordsPerReplica()).containsEntry("gw-a", 20L);
    }

    @Test
    void anEditedFieldIsNamed() throws Exception {
        write20Records();
        tamper("update audit_event set parameters = '[\"999\"]' where chain_seq = 7");
        assertThat(firstProblem()).satisfies(p -> {
            assertThat(p.chainSeq()).isEqualTo(7);
            assertThat(p.what()).contains("edited");
        });
    }

    @Test
    void anEditWithARecomputedHashBreaksTheNextLink() throws Exception {
        write20Records();
        // The attacker recomputes record 7's own hash; record 8 still points at the old one.
        tamper("update audit_event set outcome = 'error', hash = 'f00d' || substr(hash, 5) where chain_seq = 7");
        assertThat(firstProblem().chainSeq()).isEqualTo(7);
    }

    @Test
    void aDeletedRecordIsNamed() throws Exception {
        write20Records();
        tamper("delete from audit_event where chain_seq = 12");
        assertThat(firstProblem()).satisfies(p -> {
            assertThat(p.chainSeq()).isEqualTo(12);
            assertThat(p.what()).contains("missing");
        });
    }

    @Test
    void aReorderedPairIsNamed() throws Exception {
        write20Records();
        tamper("update audit_event set chain_seq = -1 where chain_seq = 5",
                "update audit_event set chain_seq = 5 where chain_seq = 6",
                "update audit_event set chain_seq = 6 where chain_seq = -1");
        assertThat(firstProblem().chainSeq()).isEqualTo(5);
    }

    @Test
    void aRecordInsertedInTheMiddleIsNamed() throws Exception {
        write20Records();
        tamper("update audit_event set chain_seq = chain_seq + 1 where chain_seq >= 9",
                "insert into audit_event (time, kind, session_id, replica, chain_seq, prev_hash, hash" + extraColumns()
                        + ") select time, kind, session_id, replica, 9, hash, hash" + extraColumns()
                        + " from audit_event where chain_seq = 8");
        assertThat(firstProblem().chainSeq()).isEqualTo(9);
    }

    @Test
    void aSecondRecordClaimingAPlaceIsNamed() throws Exception {
        write20Records();
        tamper("insert into audit_event (time, kind, session_id, replica, chain_seq, prev_hash, hash" + extraColumns()
                + ") select time, kind, session_id, replica, chain_seq, prev_hash, hash" + extraColumns()
                + " from audit_event where chain_seq = 3");
        assertThat(firstProblem().chainSeq()).isEqualTo(3);
    }
}
