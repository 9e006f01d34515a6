package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

/** pgjdbc, unmodified, through the gateway against a real PostgreSQL; every statement shows up in the audit store. */
class JdbcThroughGatewayTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.start(dir);
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists jdbc_items");
            s.execute("create table jdbc_items (id int primary key, name text, born date, data bytea)");
        }
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void preparedStatementsSwitchToServerSidePrepareAndBinaryTransferAndEveryExecutionIsAudited() throws Exception {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "5");
        p.setProperty("binaryTransfer", "true");
        try (Connection c = gw.connect(p);
             PreparedStatement ps = c.prepareStatement("select mrn, birth_date, id from patients where id = ? and ? = ?")) {
            for (int i = 1; i <= 12; i++) {
                ps.setInt(1, i);
                ps.setString(2, "marker-" + i);
                ps.setString(3, "marker-" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(3)).isEqualTo(i);
                    assertThat(rs.getObject(2, LocalDate.class)).isNotNull();
                }
            }
            assertThat(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare()).isTrue();
        }
        List<Map<String, Object>> requested = gw.audit(
                "kind = 'statement_requested' and statement like 'select mrn, birth_date, id from patients%'");
        assertThat(requested).hasSize(12);
        for (int i = 1; i <= 12; i++) {
            // Binary-transferred int4 parameters are recorded as \x hex, text ones as sent.
            assertThat((String) requested.get(i - 1).get("parameters")).contains("marker-" + i);
            assertThat(requested.get(i - 1).get("protocol")).isEqualTo("extended");
        }
        List<Map<String, Object>> completed = gw.auditEventually("kind = 'statement_completed' and session_id = '"
                + requested.get(0).get("session_id") + "' and command_tag = 'SELECT 1'", 12);
        assertThat(completed).hasSizeGreaterThanOrEqualTo(12);
    }

    @Test
    void batchInsertsReachTheDatabaseAndEachRowIsAudited() throws Exception {
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement(
                "insert into jdbc_items (id, name, born) values (?, ?, ?)")) {
            c.setAutoCommit(false);
            for (int i = 0; i < 500; i++) {
                ps.setInt(1, 10_000 + i);
                ps.setString(2, "batch-" + i);
                ps.setObject(3, LocalDate.of(1950, 1, 1).plusDays(i));
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            c.commit();
            assertThat(counts).hasSize(500);
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from jdbc_items where id >= 10000 and id < 10500")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(500);
        }
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'insert into jdbc_items%'"
                + " and parameters like '%batch-%'")).hasSize(500);
    }

    @Test
    void copyInAndOutStreamThroughTheGateway() throws Exception {
        StringBuilder csv = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            csv.append(20_000 + i).append(",copy-").append(i).append(",2001-02-03\n");
        }
        try (Connection c = gw.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long in = copy.copyIn("copy jdbc_items (id, name, born) from stdin with (format csv)",
                    new ByteArrayInputStream(csv.toString().getBytes(StandardCharsets.UTF_8)));
            assertThat(in).isEqualTo(20_000);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long outRows = copy.copyOut("copy (select id, name, born from jdbc_items where id >= 20000 and id < 40000"
                    + " order by id) to stdout with (format csv)", out);
            assertThat(outRows).isEqualTo(20_000);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(csv.toString());
        }
        List<Map<String, Object>> done = gw.auditEventually("kind = 'statement_completed' and command_tag like 'COPY 20000'", 2);
        assertThat(done).hasSizeGreaterThanOrEqualTo(2);
        assertThat(done).allSatisfy(r -> assertThat(r.get("row_count")).isEqualTo(20000));
    }

    @Test
    void listenNotifyDeliversNotificationsAcrossGatewaySessions() throws Exception {
        try (Connection listener = gw.connect(); Connection notifier = gw.connect()) {
            try (Statement s = listener.createStatement()) {
                s.execute("listen ward_events");
            }
            try (Statement s = notifier.createStatement()) {
                s.execute("notify ward_events, 'bed 12 free'");
            }
            PGNotification[] got = null;
            for (int i = 0; i < 50 && (got == null || got.length == 0); i++) {
                got = listener.unwrap(PGConnection.class).getNotifications(100);
            }
            assertThat(got).isNotEmpty();
            assertThat(got[0].getName()).isEqualTo("ward_events");
            assertThat(got[0].getParameter()).isEqualTo("bed 12 free");
        }
    }

    @Test
    void cancellingALongSleepStopsItUpstreamAndLeavesTheSessionUsable() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            timer.schedule(() -> {
                s.cancel();
                return null;
            }, 500, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            assertThatThrownBy(() -> s.execute("select pg_sleep(30)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            try (ResultSet rs = s.executeQuery("select 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        } finally {
            timer.shutdownNow();
        }
        assertThat(gw.audit("kind = 'cancel_requested' and detail like '%\"matched\":true%'")).isNotEmpty();
        assertThat(gw.auditEventually("kind = 'statement_completed' and sqlstate = '57014' and outcome = 'error'", 1)).isNotEmpty();
    }

    @Test
    void anErrorInsideATransactionAbortsItAndRollbackRestoresTheSession() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("insert into jdbc_items (id, name) values (900001, 'doomed')");
            assertThatThrownBy(() -> s.execute("select * from no_such_table"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"));
            assertThatThrownBy(() -> s.execute("select 1"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = s.executeQuery("select count(*) from jdbc_items where id = 900001")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and sqlstate = '42P01' and outcome = 'error'", 1))
                .isNotEmpty();
    }

    @Test
    void simpleQueryModeWithSeveralStatementsInOneQuery() throws Exception {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", "simple");
        try (Connection c = gw.connect(p); Statement s = c.createStatement()) {
            assertThat(s.execute("select 1; select 2, 3")).isTrue();
            assertThat(s.getMoreResults()).isTrue();
            try (ResultSet rs = s.getResultSet()) {
                rs.next();
                assertThat(rs.getInt(2)).isEqualTo(3);
            }
        }
        assertThat(gw.audit("kind = 'statement_requested' and protocol = 'simple' and statement = 'select 1; select 2, 3'"))
                .hasSize(1);
    }

    @Test
    void largeObjectsUseTheFunctionCallPathAndEachCallIsAudited() throws Exception {
        byte[] scan = new byte[200_000];
        new java.util.Random(11).nextBytes(scan);
        try (Connection c = gw.connect()) {
            c.setAutoCommit(false);
            org.postgresql.largeobject.LargeObjectManager lom = c.unwrap(PGConnection.class).getLargeObjectAPI();
            long oid = lom.createLO();
            try (org.postgresql.largeobject.LargeObject lo = lom.open(oid, org.postgresql.largeobject.LargeObjectManager.WRITE)) {
                lo.write(scan);
            }
            try (org.postgresql.largeobject.LargeObject lo = lom.open(oid, org.postgresql.largeobject.LargeObjectManager.READ)) {
                assertThat(lo.read(scan.length)).isEqualTo(scan);
            }
            lom.delete(oid);
            c.commit();
        }
        // pgjdbc's large-object API speaks the fast-path FunctionCall message; each call is its own record.
        assertThat(gw.auditEventually("kind = 'statement_requested' and protocol = 'function_call'", 4))
                .hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void binaryByteaRoundTripsExactly() throws Exception {
        byte[] blob = new byte[300_000];
        new java.util.Random(7).nextBytes(blob);
        try (Connection c = gw.connect()) {
            try (PreparedStatement ps = c.prepareStatement("insert into jdbc_items (id, data) values (?, ?)")) {
                ps.setInt(1, 700_001);
                ps.setBytes(2, blob);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("select data from jdbc_items where id = ?")) {
                ps.setInt(1, 700_001);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getBytes(1)).isEqualTo(blob);
                }
            }
        }
    }
}
