package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.config.AuditConfig;
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
    void anUnwritableAuditFileFailsClosedAndRecoversWhenWritableAgain() throws Exception {
        try (GatewayHarness gw = start(dir); Connection c = gw.connect()) {
            insert(c, "before-immutable");
            List<Path> files = List.of(gw.auditFile(), Path.of(gw.auditFile() + "-wal"));
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
                assertRefused(c, "while-full");
                Files.delete(filler);
                awaitAccepted(gw, c, "after-full");
            }
        } finally {
            run("umount", "-l", mount.toString());
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
