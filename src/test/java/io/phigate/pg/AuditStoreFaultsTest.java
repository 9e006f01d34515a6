package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditConfig;
import io.phigate.config.GatewayConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite audit store broken under a running gateway in the ways a disk breaks: the file deleted, the file
 * made unwritable, the filesystem full. Each time statements are refused with 58030 and nothing reaches
 * PostgreSQL. FailClosedTest covers the store locked by another writer. Tests run as root, for whom permissions
 * change nothing, so "unwritable" is chattr +i and "full" is a small tmpfs; where those are not available the
 * test is skipped, not passed.
 */
class AuditStoreFaultsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void table() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists af_counter");
            s.execute("create table af_counter (tag text)");
        }
    }

    private static GatewayHarness start(Path dir) throws Exception {
        return GatewayHarness.start(dir, c -> {
            AuditConfig a = c.audit();
            return new GatewayConfig(c.listen(), c.upstreams(), c.identity(),
                    new AuditConfig(a.store(), a.sqlitePath(), a.queueCapacity(), Duration.ofSeconds(1), Duration.ofMillis(200)),
                    c.limits(), c.tls(), c.policy(), c.baseDir());
        });
    }

    private static int rows(String tag) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from af_counter where tag = '" + tag + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void insert(Connection c, String tag) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into af_counter values ('" + tag + "')");
        }
    }

    private static void assertRefused(Connection c, String tag) throws SQLException {
        assertThatThrownBy(() -> insert(c, tag)).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
        assertThat(rows(tag)).as("nothing forwarded").isZero();
    }

    @Test
    void deletingTheAuditFileFailsClosedUntilRestart() throws Exception {
        try (GatewayHarness gw = start(dir); Connection c = gw.connect()) {
            insert(c, "before-delete");
            for (String suffix : List.of("", "-wal", "-shm")) {
                Files.deleteIfExists(Path.of(gw.auditFile() + suffix));
            }
            assertRefused(c, "after-delete");
            assertThatThrownBy(() -> gw.connect().close())
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
            // Recreating a file at the path does not bring the old chain back: still refused.
            Files.writeString(gw.auditFile(), "");
            assertRefused(c, "after-recreate");
        }
    }

    @Test
    void anUnwritableAuditJournalFailsClosedAndRecoversWhenWritableAgain() throws Exception {
        try (GatewayHarness gw = start(dir); Connection c = gw.connect()) {
            insert(c, "before-immutable");
            // The journal is where a statement's record becomes durable (decision 0021): its segments and its
            // folder (so no new segment can be made either). The store behind it failing is
            // AuditJournalTest.aStoreThatIsDownFillsTheJournalToItsBoundThenRefusesAndRecovers.
            Path journal = gw.gateway().config().audit().journalDir();
            List<Path> files = new java.util.ArrayList<>();
            try (var segments = Files.list(journal)) {
                segments.filter(p -> p.toString().endsWith(".seg")).forEach(files::add);
            }
            files.add(journal);
            try {
                for (Path f : files) {
                    assumeTrue(run("chattr", "+i", f.toString()), "this filesystem has no immutable flag");
                }
                assertRefused(c, "while-immutable");
            } finally {
                for (Path f : files) {
                    run("chattr", "-i", f.toString());
                }
            }
            awaitAccepted(gw, c, "after-immutable");
        }
    }

    @Test
    void aFullDiskFailsClosedAndRecoversWhenSpaceIsFreed() throws Exception {
        Path mount = Files.createDirectories(dir.resolve("small"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.toString()), "cannot mount a tmpfs");
        try {
            try (GatewayHarness gw = start(mount); Connection c = gw.connect()) {
                insert(c, "before-full");
                Path filler = mount.resolve("filler");
                try (OutputStream out = Files.newOutputStream(filler)) {
                    byte[] block = new byte[64 * 1024];
                    while (true) {
                        out.write(block);
                    }
                } catch (IOException full) {
                    // No space left on device: exactly what we wanted.
                }
                // A record that still fits in a block the journal already holds is durable and may go through;
                // the first that needs a new block is refused.
                int accepted = 0;
                while (true) {
                    try {
                        insert(c, "while-full-" + accepted);
                        accepted++;
                        assertThat(accepted).as("statements accepted on a full disk").isLessThan(200);
                    } catch (SQLException e) {
                        assertThat(e.getSQLState()).isEqualTo("58030");
                        assertThat(rows("while-full-" + accepted)).as("nothing forwarded").isZero();
                        break;
                    }
                }
                Files.delete(filler);
                awaitAccepted(gw, c, "after-full");
            }
        } finally {
            run("umount", "-l", mount.toString());
        }
    }

    @Test
    void aStoreThatIsDownFillsTheJournalToItsBoundThenRefusesAndRecovers() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> {
            AuditConfig a = c.audit();
            AuditConfig small = new AuditConfig(a.store(), a.sqlitePath(), a.queueCapacity(), Duration.ofSeconds(1),
                    Duration.ofMillis(200));
            return new GatewayConfig(c.listen(), c.upstreams(), c.identity(),
                    small.withJournal(small.journalDir(), 64 * 1024), c.limits(), c.tls(), c.policy(), c.baseDir());
        }); Connection c = gw.connect()) {
            insert(c, "before-down");
            // The store is down (another process holds SQLite's write lock): statements are still durable in the
            // journal, until it holds journal_max_bytes the store has not taken; then 58030, nothing forwarded.
            try (Connection lock = java.sql.DriverManager.getConnection("jdbc:sqlite:" + gw.auditFile());
                 Statement s = lock.createStatement()) {
                s.execute("BEGIN EXCLUSIVE");
                int accepted = 0;
                while (true) {
                    try {
                        insert(c, "while-down-" + accepted);
                        accepted++;
                        assertThat(accepted).as("statements accepted past the journal's bound").isLessThan(5_000);
                    } catch (SQLException e) {
                        assertThat(e.getSQLState()).isEqualTo("58030");
                        assertThat(rows("while-down-" + accepted)).as("nothing forwarded").isZero();
                        break;
                    }
                }
                assertThat(accepted).as("the journal took statements while the store was down").isPositive();
                assertRefused(c, "still-down");
                s.execute("ROLLBACK");
            }
            awaitAccepted(gw, c, "after-down");
            assertThat(gw.audit("kind = 'statement_requested' and statement like '%while-down-%'"))
                    .as("every statement accepted while the store was down is in the store now").isNotEmpty();
        }
    }

    /** The store may take a moment (its retry) to write again; the accepted insert must be audited. */
    private static void awaitAccepted(GatewayHarness gw, Connection c, String tag) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                insert(c, tag);
                break;
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("58030");
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the store did not recover", e);
                }
                Thread.sleep(200);
            }
        }
        assertThat(rows(tag)).isEqualTo(1);
        assertThat(gw.audit("kind = 'statement_requested' and statement like '%" + tag + "%'")).hasSize(1);
    }

    private static boolean run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
