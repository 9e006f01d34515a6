package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditEvent.StatementCompleted;
import io.phigate.audit.AuditEvent.StatementRequested;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
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
    void groupsOfEverySizeAreStoredInOrderWithAnIntactChain() throws Exception {
        // Sizes around the writer's rows-per-INSERT steps (powers of two up to 1,024 on SQLite).
        long id = 0;
        List<Long> expected = new ArrayList<>();
        try (var store = new AuditStore(config(10_000, Duration.ofSeconds(10), Duration.ofSeconds(2),
                AuditConfig.DEFAULT_REPLICA))) {
            for (int size : new int[]{1, 2, 3, 7, 1023, 1024, 1025, 2500}) {
                List<AuditEvent> events = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    events.add(requested("s-sizes", ++id, "SELECT " + id + " FROM patients"));
                    expected.add(id);
                }
                store.appendDurably(events);
            }
        }
        assertThat(statementIds()).isEqualTo(expected);
        AuditVerifier.Report report = verify();
        assertThat(report.intact()).as(report.problems().toString()).isTrue();
        assertThat(report.recordsPerReplica()).containsEntry(AuditConfig.DEFAULT_REPLICA, id);
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT statement FROM audit_event WHERE statement_id = 1024")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).as("each row's own values").isEqualTo("SELECT 1024 FROM patients");
        }
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

    @Test
    void theConsolesQueriesReadTheSameOnThisStore() throws Exception {
        Instant now = Instant.now();
        try (var store = new AuditStore(config())) {
            for (int i = 1; i <= 5; i++) {
                store.appendDurably(List.of(
                        new StatementRequested(now, "console-s", i, "10.0.0.1:5000", "clinical", "iss", "agent-7",
                                Protocol.SIMPLE, "select ssn from patients /* c" + i + " */", null, null, null, null,
                                List.of("public.patients"), java.util.Map.of("public.patients.ssn", "ssn")),
                        new StatementCompleted(now, "console-s", i, i == 5 ? Outcome.REFUSED : Outcome.OK, null,
                                "SELECT 1", 1, 50, null, "ssn(ssn)=redact")));
            }
            store.appendDurably(List.of(new AuditEvent.ConsoleAction(now, "127.0.0.1", "iss", "alice", "session_kill",
                    "ok", "console-s", "agent-7")));
        }
        AuditQueries q = AuditQueries.of(config());
        List<AuditQueries.Event> first = q.session("console-s", 0, 4);
        assertThat(first).hasSize(4);
        List<AuditQueries.Event> rest = q.session("console-s", first.getLast().seq(), 100);
        assertThat(rest).hasSize(7);
        assertThat(rest.getLast().kind()).isEqualTo("console_action");
        assertThat(rest.getLast().detail()).contains("session_kill");
        assertThat(q.event(first.getFirst().seq()).statement()).contains("/* c1 */");
        assertThat(q.event(Long.MAX_VALUE)).isNull();

        List<AuditQueries.MinuteCount> minutes = q.perMinute(now.minusSeconds(120));
        assertThat(minutes.stream().mapToLong(AuditQueries.MinuteCount::requested).sum()).isEqualTo(5);
        assertThat(minutes.stream().mapToLong(AuditQueries.MinuteCount::refused).sum()).isEqualTo(1);

        List<String> reads = new ArrayList<>();
        q.phiReads(now.minusSeconds(120), 3, (issuer, subject, completion, rows) ->
                reads.add(subject + " " + rows + " " + completion));
        assertThat(reads).hasSize(3).first().asString().startsWith("agent-7 1 ").contains("ssn(ssn)=redact");

        List<AuditQueries.ReplicaState> replicas = q.replicaStates();
        assertThat(replicas).singleElement().satisfies(r -> {
            assertThat(r.records()).isEqualTo(11);
            assertThat(r.checkpointNote()).isNull();
            assertThat(r.archivedUpTo()).isNull();
        });
        assertThat(q.countBefore(now.plusSeconds(60))).isEqualTo(11);
        assertThat(q.countBefore(now.minusSeconds(60))).isZero();

        var csv = new java.io.StringWriter();
        long lines = AuditExport.writeSearch(q, AuditExport.Format.CSV, AuditQueries.Filter.ANY.withText("c3"), csv);
        assertThat(lines).isEqualTo(2);
        assertThat(csv.toString().split("\r\n")).hasSize(3);
        assertThat(AuditExport.writeSearch(q, AuditExport.Format.OCSF, AuditQueries.Filter.ANY.withText("c"),
                new java.io.StringWriter())).isEqualTo(5);
        assertThat(verify().intact()).isTrue();
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

    // Free-text search: the same answers on both stores, and never fewer than a plain LIKE scan finds.

    static final List<String> SEARCHED = List.of(
            "SELECT * FROM patients WHERE mrn = $1",
            "select name, dob from public.patients p join clinical.encounters e on e.patient_id = p.id",
            "UPDATE \"Patients\" SET note = 'from patients to doctors' WHERE id = $1",
            "INSERT INTO audit_probe (x) VALUES ('100% sure_thing')",
            "SELECT count(*) FROM encounters WHERE diagnosis LIKE 'J45%'",
            "select 'Müller' as name, 'ÄRZTIN' as role",
            "BEGIN",
            "SELECT 1");

    void writeSearched() throws Exception {
        try (var store = new AuditStore(config())) {
            List<AuditEvent> events = new ArrayList<>();
            for (int i = 0; i < SEARCHED.size(); i++) {
                events.add(requested("s-text", i + 1, SEARCHED.get(i)));
                events.add(new StatementCompleted(T, "s-text", i + 1, Outcome.OK, null, "SELECT 1", 1, 10));
            }
            store.appendDurably(events);
        }
    }

    /** Statement ids the search finds. */
    List<Long> searchText(String text) throws Exception {
        return AuditQueries.of(config()).search(AuditQueries.Filter.ANY.withText(text), new AuditQueries.Page(1000, 0))
                .statements().stream().map(AuditQueries.Statement::statementId).sorted().toList();
    }

    /** Statement ids a plain scan finds: every term a case-insensitive substring, as the store's lower() folds. */
    List<Long> scanText(String text) throws Exception {
        var terms = StatementSearch.terms(text);
        var sql = new StringBuilder("SELECT statement_id FROM audit_event WHERE kind = 'statement_requested'");
        for (int i = 0; i < terms.size(); i++) {
            sql.append(" AND lower(statement) LIKE ? ESCAPE '\\'");
        }
        var ids = new ArrayList<Long>();
        try (Connection c = admin(); var q = c.prepareStatement(sql + " ORDER BY statement_id")) {
            for (int i = 0; i < terms.size(); i++) {
                q.setString(i + 1, "%" + StatementSearch.escapeLike(terms.get(i).toLowerCase(java.util.Locale.ROOT)) + "%");
            }
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    @Test
    void freeTextFindsAWordAPhraseAndATableNameCaseInsensitively() throws Exception {
        writeSearched();
        assertThat(searchText("patients")).containsExactly(1L, 2L, 3L);
        assertThat(searchText("PATIENTS mrn")).as("all words").containsExactly(1L);
        assertThat(searchText("public.patients")).as("a qualified table name").containsExactly(2L);
        assertThat(searchText("atient")).as("inside a word").containsExactly(1L, 2L, 3L);
        assertThat(searchText("\"from patients\"")).as("a phrase").containsExactly(1L, 3L);
        assertThat(searchText("\"patients where\"")).containsExactly(1L);
        assertThat(searchText("\"patients mrn\"")).as("a phrase is not two words").isEmpty();
        assertThat(searchText("encounters")).containsExactly(2L, 5L);
        assertThat(searchText("100%")).as("% is literal").containsExactly(4L);
        assertThat(searchText("s_re")).as("_ is literal").isEmpty();
        assertThat(searchText("id")).as("shorter than a trigram").containsExactly(2L, 3L);
        assertThat(searchText("müller")).containsExactly(6L);
        assertThat(searchText("nowhere patients")).isEmpty();
    }

    @Test
    void freeTextFindsExactlyWhatAPlainScanFinds() throws Exception {
        writeSearched();
        for (String text : List.of("patients", "Patients", "\"Patients\"", "public.patients", "p.id", "atien",
                "from", "\"from patients\"", "select from", "J45%", "sure_thing", "%", "_", "'", "$1", "=", "ll",
                "Mül", "ärztin", "ÄRZTIN", "begin", "select 1", "\"select 1\"", "count(*)", "\"", "x) VALUES",
                "\"x) VALUES\"", "e.patient_id = p.id", "SELECT".repeat(40), "from patients where mrn = " + "x".repeat(300),
                String.join(" ", java.util.Collections.nCopies(70, "patients")), "stien", "\"tsp\"")) {
            assertThat(searchText(text)).as(text).isEqualTo(scanText(text));
        }
    }

    // Proofs and retention: records proven from either store, archived from either, proven after the cut.

    static final Instant OLD = Instant.parse("2018-03-01T23:59:30Z");

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path evidence;

    /** The role archiving connects as: the owner of the audit tables on PostgreSQL; null for SQLite. */
    abstract AuditConfig.Postgres archiveOwner();

    /** Replica gw-a with a checkpoint every 50 records, its key made on first use. */
    AuditConfig checkpointed() throws Exception {
        java.nio.file.Path key = evidence.resolve("keys/audit-signing.key");
        if (!java.nio.file.Files.exists(key)) {
            CheckpointKeys.generate(key);
        }
        return config(10_000, Duration.ofSeconds(5), Duration.ofSeconds(1), "gw-a").withCheckpoints(
                new AuditConfig.CheckpointConfig(key, evidence.resolve("shipped/audit.checkpoints"), 50,
                        Duration.ofHours(1)));
    }

    java.security.PublicKey publicKey() throws Exception {
        return CheckpointKeys.readPublic(CheckpointKeys.publicFile(checkpointed().checkpoints().keyFile()));
    }

    AuditVerifier.Report verifyWithCheckpoints() throws Exception {
        return AuditVerifier.verify(checkpointed(), publicKey(), checkpointed().checkpoints().file());
    }

    /** Writes {@code n} statements (request and completion: 2n records) a second apart, 50 records per commit. */
    void writeTimed(int n, Instant start, long firstId) throws Exception {
        try (var store = new AuditStore(checkpointed())) {
            List<AuditEvent> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Instant at = start.plusSeconds(i);
                batch.add(new StatementRequested(at, "s-old", firstId + i, "10.0.0.1:5000", "clinical", "iss", "agent",
                        Protocol.EXTENDED, "select * from patients where id = $1", List.of("" + i), "", ""));
                batch.add(new StatementCompleted(at, "s-old", firstId + i, Outcome.OK, null, "SELECT 1", 1, 50,
                        new AuditEvent.RecordedResponse(3, "ab".repeat(32), new byte[]{1, 2, 3}, false)));
                if (batch.size() == 50) {
                    store.appendDurably(batch);
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                store.appendDurably(batch);
            }
        }
    }

    AuditArchive.Result archiveOld(java.nio.file.Path out) throws Exception {
        LocalDate limit = LocalDate.now(java.time.ZoneOffset.UTC).minusDays(AuditConfig.DEFAULT_RETENTION.toDays());
        return AuditArchive.archive(checkpointed(), limit, out, null, java.time.Clock.systemUTC(), archiveOwner());
    }

    @Test
    void aProofMadeFromTheStoreChecksOfflineWithThePublicKey() throws Exception {
        writeTimed(55, Instant.now(), 1); // 110 records, checkpoints at 50 and 100
        InclusionProofs.Proof proof = InclusionProofs.prove(checkpointed(), null, 37);
        InclusionProofs.Proven proven = InclusionProofs.check(InclusionProofs.Proof.fromJson(proof.toJson()), publicKey());
        assertThat(proven.seq()).isEqualTo(37);
        assertThat(proven.checkpointSize()).isEqualTo(100);
        assertThatThrownBy(() -> InclusionProofs.prove(checkpointed(), "gw-a", 101))
                .hasMessageContaining("newer than the last checkpoint");
        tamper("update audit_event set outcome = 'error' where chain_seq = 38");
        assertThatThrownBy(() -> InclusionProofs.prove(checkpointed(), "gw-a", 38))
                .hasMessageContaining("does not match its stored hash");
    }

    @Test
    void archivingKeepsTheChainVerifiableAndRecordsAfterTheCutProvable() throws Exception {
        writeTimed(60, OLD, 1);           // records 1-120, across two days of 2018
        writeTimed(15, Instant.now(), 61); // 121-150; checkpoints at 50, 100, 150
        java.nio.file.Path out = evidence.resolve("archive/2018.jsonl.gz");
        AuditArchive.Result result = archiveOld(out);
        assertThat(result.fromSeq()).isEqualTo(1);
        assertThat(result.toSeq()).isEqualTo(120);
        assertThat(result.checkpointSize()).isEqualTo(150);
        assertThat(java.nio.file.Files.exists(out)).isTrue();
        assertThat(count()).isEqualTo(30);
        assertThat(verifyWithCheckpoints().problems()).isEmpty();
        assertThat(archiveOld(evidence.resolve("archive/again.jsonl.gz"))).as("nothing older left").isNull();

        writeTimed(25, Instant.now(), 76); // 151-200: the next checkpoint, at 200, is after the cut
        AuditVerifier.Report report = verifyWithCheckpoints();
        assertThat(report.problems()).isEmpty();
        assertThat(report.archivedUpTo()).containsEntry("gw-a", 120L);
        assertThat(report.lastCheckpointSize()).containsEntry("gw-a", 200L);
        for (long seq : new long[]{121, 122, 128, 150, 151, 199, 200}) {
            InclusionProofs.Proof proof = InclusionProofs.prove(checkpointed(), "gw-a", seq);
            assertThat(proof.treeSize()).isEqualTo(200);
            assertThat(InclusionProofs.check(proof, publicKey()).seq()).as("record %d", seq).isEqualTo(seq);
        }
        assertThatThrownBy(() -> InclusionProofs.prove(checkpointed(), "gw-a", 120))
                .isInstanceOf(InclusionProofs.ProofException.class).hasMessageContaining("was archived");
    }

    /** The archive's lines, each passed through {@code edit}, written back gzip'd; returns the new file's SHA-256. */
    static String rewriteArchive(java.nio.file.Path file, java.util.function.UnaryOperator<String> edit) throws Exception {
        List<String> lines;
        try (var in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(file))) {
            lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().map(edit).toList();
        }
        try (var out = new java.util.zip.GZIPOutputStream(java.nio.file.Files.newOutputStream(file))) {
            out.write((String.join("\n", lines) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(java.nio.file.Files.readAllBytes(file)));
    }

    @Test
    void verifyReReadsTheArchiveFileAndNamesAMissingOrAlteredOne() throws Exception {
        writeTimed(60, OLD, 1);
        writeTimed(15, Instant.now(), 61);
        java.nio.file.Path out = evidence.resolve("archive/2018.jsonl.gz");
        archiveOld(out);
        AuditVerifier.Report report = verifyWithCheckpoints();
        assertThat(report.problems()).isEmpty();
        assertThat(report.archiveFilesChecked()).isEqualTo(1);
        assertThat(report.fullyVerified()).isTrue();

        java.nio.file.Path kept = evidence.resolve("elsewhere.jsonl.gz");
        java.nio.file.Files.move(out, kept);
        assertThat(firstProblemWithCheckpoints()).satisfies(p -> {
            assertThat(p.chainSeq()).isEqualTo(1);
            assertThat(p.what()).contains("archive file " + out).contains("is missing");
        });
        AuditVerifier.Report skipped = AuditVerifier.verify(checkpointed(), publicKey(),
                checkpointed().checkpoints().file(), false);
        assertThat(skipped.intact()).isTrue();
        assertThat(skipped.fullyVerified()).as("skipped is a warning, not a pass").isFalse();
        assertThat(skipped.warnings()).singleElement().asString().contains("records 1 to 120").contains("not re-read");

        java.nio.file.Files.copy(kept, out);
        rewriteArchive(out, line -> line.replace("\"chain_seq\":7,", "\"chain_seq\":7, "));
        assertThat(firstProblemWithCheckpoints().what()).contains("was altered or replaced");

        // The attacker also owns the store: the file's new SHA-256 goes into the cut row. The records still tell.
        java.nio.file.Files.copy(kept, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String sha = rewriteArchive(out, line -> line.contains("\"chain_seq\":8,")
                ? line.replace("\"outcome\":\"ok\"", "\"outcome\":\"error\"") : line);
        tamper("update audit_archive set file_sha256 = '" + sha + "'");
        assertThat(firstProblemWithCheckpoints()).satisfies(p -> {
            assertThat(p.chainSeq()).isEqualTo(8);
            assertThat(p.what()).contains("do not match its hash (edited)");
        });
    }

    AuditVerifier.Problem firstProblemWithCheckpoints() throws Exception {
        AuditVerifier.Report report = verifyWithCheckpoints();
        assertThat(report.intact()).isFalse();
        return report.problems().getFirst();
    }
}
