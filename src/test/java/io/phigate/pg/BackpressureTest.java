package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.identity.KeyTool;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * Clients that try to make the gateway hold data: one that never reads a multi-gigabyte result, one that sends a
 * 1 GiB COPY. The gateway runs in its own JVM with a 96 MiB heap (and exits on OutOfMemoryError), so buffering
 * without bound would kill it; beyond surviving, heap after GC and RSS are measured and bounded, and the
 * gateway keeps serving other sessions meanwhile.
 */
class BackpressureTest {
    static final long COPY_BYTES = Long.getLong("phigate.copy.bytes", 1L << 30);
    private static final long HEAP_BOUND = 48L << 20;

    @TempDir
    static Path dir;
    static ChildGateway gateway;
    static int port;
    static Path jwtKey;

    @BeforeAll
    static void start() throws Exception {
        jwtKey = KeyTool.generate(dir.resolve("keys"));
        port = ChildGateway.freePort();
        gateway = ChildGateway.start(ChildGateway.writeConfig(dir, port, ""), port, dir.resolve("gateway.log"),
                List.of("-Xmx96m"));
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists copy_sink");
            s.execute("create table copy_sink (id bigint, payload text)");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    static String token() throws Exception {
        return KeyTool.mint(jwtKey, GatewayHarness.ISSUER, GatewayHarness.AGENT, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(30), Map.of());
    }

    static Connection connect() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "pressure-agent");
        p.setProperty("password", token());
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p);
    }

    @Test
    void aClientThatNeverReadsStopsTheUpstreamInsteadOfFillingTheHeap() throws Exception {
        try (RawClient stalled = new RawClient(port)) {
            stalled.login(token());
            // About 5 GB of rows; the client reads none of them.
            stalled.send(MessageCodec.encode(new FrontendMessage.Query(
                    "select g, repeat('x', 1000) from generate_series(1, 5000000) g")));
            Thread.sleep(3_000);
            long rss1 = gateway.rssBytes();
            Thread.sleep(5_000);
            long rss2 = gateway.rssBytes();
            long heap = gateway.heapUsedAfterGc();

            assertThat(gateway.isAlive()).isTrue();
            assertThat(heap).as("heap after GC with a stalled 5 GB result").isLessThan(HEAP_BOUND);
            assertThat(rss2 - rss1).as("RSS growth over 5 s of stall").isLessThan(16L << 20);
            // PostgreSQL is blocked writing to the gateway: the upstream read has stopped.
            try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement();
                 ResultSet rs = s.executeQuery("select wait_event from pg_stat_activity where query like 'select g, repeat%'"
                         + " and pid <> pg_backend_pid()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("ClientWrite");
            }
            try (Connection other = connect(); ResultSet rs = other.createStatement().executeQuery("select 42")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            System.out.printf("stalled reader: heap after GC %d KiB, RSS %d MiB -> %d MiB%n", heap >> 10, rss1 >> 20, rss2 >> 20);
        }
    }

    @Test
    void aOneGibCopyIsStreamedInBoundedMemory() throws Exception {
        long start = System.nanoTime();
        long copied;
        try (Connection c = connect()) {
            // WHERE false: PostgreSQL parses every row and keeps none, so the test measures the stream, not a disk.
            copied = c.unwrap(PGConnection.class).getCopyAPI()
                    .copyIn("copy copy_sink from stdin where false", new Lines(COPY_BYTES), 64 * 1024);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long heap = gateway.heapUsedAfterGc();
        assertThat(copied).isZero();
        assertThat(gateway.isAlive()).isTrue();
        assertThat(heap).isLessThan(HEAP_BOUND);
        System.out.printf("COPY of %d MiB through the gateway in %.1f s (%.0f MiB/s); heap after GC %d KiB, RSS %d MiB%n",
                COPY_BYTES >> 20, seconds, (COPY_BYTES >> 20) / seconds, heap >> 10, gateway.rssBytes() >> 20);
    }

    /** {@code total} bytes of COPY text rows, generated as they are read. */
    static final class Lines extends InputStream {
        private static final byte[] ROW = ("1\t" + "y".repeat(1000) + "\n").getBytes();
        private long left;
        private int at;

        Lines(long total) {
            this.left = total - total % ROW.length;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left == 0) {
                return -1;
            }
            int n = (int) Math.min(len, Math.min(left, ROW.length - at));
            System.arraycopy(ROW, at, b, off, n);
            at = (at + n) % ROW.length;
            left -= n;
            return n;
        }
    }
}
