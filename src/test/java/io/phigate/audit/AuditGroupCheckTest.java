package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link AuditStore#checkEachGroup}: the file guard's question is asked once per group on the writer thread, after
 * the group's records were queued, and a group it refuses is refused whole and never written. With and without the
 * journal in front of the SQLite store.
 */
class AuditGroupCheckTest {
    @TempDir
    Path dir;

    private AuditConfig config(boolean journal) {
        Path file = dir.resolve("audit.db");
        AuditConfig c = new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1));
        return c.withJournal(journal ? c.journalDir() : null, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
    }

    private static List<AuditEvent> completion(long id) {
        return List.of(new AuditEvent.StatementCompleted(Instant.now(), "s1", id, AuditEvent.Outcome.OK, null,
                "SELECT 1", 1, 50));
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void theCheckRunsOncePerGroupNotOncePerRecord(boolean journal) throws Exception {
        AtomicInteger checks = new AtomicInteger();
        try (var store = new AuditStore(config(journal))) {
            store.checkEachGroup(() -> {
                checks.incrementAndGet();
                return null;
            });
            int sessions = 16;
            var start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                long id = s;
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < 20; i++) {
                            store.appendDurably(List.of(AuditStoreBehaviour.requested("s" + id, i, "SELECT 1")));
                            store.appendUnobserved(completion(i));
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            assertThat(store.awaitStored(Duration.ofSeconds(10))).isTrue();
            long groups = store.stats().commits();
            assertThat(store.stats().eventsWritten()).isEqualTo(sessions * 40L);
            assertThat(checks.get()).as("one check per group written").isEqualTo(groups);
            assertThat(groups).as("records share groups").isLessThan(sessions * 40L);
        }
    }

    @ParameterizedTest(name = "journal {0}")
    @ValueSource(booleans = {true, false})
    void aGroupTheCheckRefusesIsRefusedWholeAndNotWritten(boolean journal) throws Exception {
        AtomicReference<String> problem = new AtomicReference<>();
        try (var store = new AuditStore(config(journal))) {
            store.checkEachGroup(problem::get);
            store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 1, "SELECT 1")));
            problem.set("the audit file is gone");
            assertThatThrownBy(() -> store.appendDurably(List.of(AuditStoreBehaviour.requested("s1", 2, "SELECT 2"),
                    AuditStoreBehaviour.requested("s1", 3, "SELECT 3"))))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("the audit file is gone");
            assertThat(store.append(completion(1))).failsWithin(Duration.ofSeconds(5));
            assertThat(store.stats().eventsWritten()).as("only the record before the check failed").isEqualTo(1);
        }
        assertThat(AuditVerifier.verifySqlite(dir.resolve("audit.db")).intact()).isTrue();
    }
}
