package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditConfig;
import io.phigate.config.GatewayConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * With the audit store unable to write, statements are refused with 58030 and nothing reaches PostgreSQL. The
 * store is made unwritable by another writer holding an exclusive lock on it (tests run as root, for whom file
 * permissions change nothing). The store is the durable point here (no journal, as for a PostgreSQL store by
 * default); with the journal in front, a locked store is absorbed up to journal_max_bytes, then refused the same
 * way: AuditStoreFaultsTest.aStoreThatIsDownFillsTheJournalToItsBoundThenRefusesAndRecovers.
 */
class FailClosedTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.start(dir, c -> {
            AuditConfig a = c.audit();
            return new GatewayConfig(c.listen(), c.upstreams(), c.identity(),
                    new AuditConfig(a.store(), a.sqlitePath(), a.queueCapacity(), Duration.ofSeconds(1), Duration.ofMillis(200))
                            .withJournal(null, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES),
                    c.limits(), c.tls(), c.policy(), c.baseDir());
        });
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists fc_counter");
            s.execute("create table fc_counter (n int)");
        }
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void empty() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("truncate fc_counter");
        }
    }

    /** Holds an exclusive write lock on the audit file until closed. */
    private static Connection lockAuditStore() throws SQLException {
        Connection lock = DriverManager.getConnection("jdbc:sqlite:" + gw.auditFile());
        lock.setAutoCommit(true);
        try (Statement s = lock.createStatement()) {
            s.execute("begin exclusive");
        }
        return lock;
    }

    private static void unlock(Connection lock) throws SQLException {
        try (Statement s = lock.createStatement()) {
            s.execute("rollback");
        }
        lock.close();
    }

    private static int counterRows(String where) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from fc_counter where " + where)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static Properties mode(String mode) {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", mode);
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void statementsAreRefusedAndNeverReachTheDatabaseUntilTheStoreRecovers(String queryMode) throws Exception {
        try (Connection c = gw.connect(mode(queryMode))) {
            Connection lock = lockAuditStore();
            try {
                for (int i = 0; i < 3; i++) {
                    int n = i;
                    assertThatThrownBy(() -> {
                        try (PreparedStatement ps = c.prepareStatement("insert into fc_counter values (?)")) {
                            ps.setInt(1, n);
                            ps.executeUpdate();
                        }
                    }).isInstanceOf(SQLException.class).satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("58030");
                        assertThat(e.getMessage()).contains("audit store").contains("nothing was sent to the database");
                    });
                }
                assertThat(counterRows("true")).isZero();
                // A new session cannot start either: its start record cannot be written.
                assertThatThrownBy(() -> gw.connect().close())
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
            } finally {
                unlock(lock);
            }
            // The same session recovers as soon as the store does.
            try (Statement s = c.createStatement()) {
                s.executeUpdate("insert into fc_counter values (100)");
            }
            assertThat(counterRows("true")).isEqualTo(1);
        }
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'insert into fc_counter%'"
                + " and parameters like '%0%'")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void aRefusedStatementInsideATransactionAbortsItSoNothingCanCommit(String queryMode) throws Exception {
        try (Connection c = gw.connect(mode(queryMode)); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("insert into fc_counter values (1)");
            Connection lock = lockAuditStore();
            try {
                assertThatThrownBy(() -> s.executeUpdate("insert into fc_counter values (2)"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
            } finally {
                unlock(lock);
            }
            // The client was told the transaction failed; the server agrees, so COMMIT cannot keep row 1.
            assertThatThrownBy(() -> s.executeUpdate("insert into fc_counter values (3)"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
            c.commit();
        }
        assertThat(counterRows("true")).isZero();
    }

    @Test
    void aPipelinedBatchIsRefusedWhole() throws Exception {
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement("insert into fc_counter values (?)")) {
            for (int i = 0; i < 50; i++) {
                ps.setInt(1, i);
                ps.addBatch();
            }
            Connection lock = lockAuditStore();
            try {
                assertThatThrownBy(ps::executeBatch).isInstanceOf(SQLException.class);
            } finally {
                unlock(lock);
            }
            assertThat(counterRows("true")).isZero();
            try (ResultSet rs = c.createStatement().executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }
}
