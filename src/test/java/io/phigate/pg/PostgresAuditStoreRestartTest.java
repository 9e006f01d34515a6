package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.RestartablePostgres;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.mask.SecretRef;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL audit store restarted under a running gateway: while it is down statements are refused with
 * 58030 and none reaches the clinical database; once it is back the same session's statements run again, each
 * with its request record in the store.
 */
class PostgresAuditStoreRestartTest {
    @TempDir
    Path dir;
    private EmbeddedPostgres auditDb;

    @AfterEach
    void stop() throws Exception {
        if (auditDb != null) {
            auditDb.close();
        }
    }

    @Test
    void statementsAreRefusedWhileTheAuditDatabaseIsDownAndRunAgainOnceItIsBack() throws Exception {
        int port = ChildGateway.freePort();
        Path data = dir.resolve("audit-pg");
        auditDb = RestartablePostgres.startWithDatabase(data, port, "phigate_audit");
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists pa_counter");
            s.execute("create table pa_counter (tag text)");
        }
        Path password = dir.resolve("audit.password");
        Files.writeString(password, "unused-under-trust\n");
        AuditConfig.Postgres store = new AuditConfig.Postgres("127.0.0.1", port, "phigate_audit", "postgres",
                new SecretRef(null, password));
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new GatewayConfig(c.listen(), c.upstreams(), c.identity(),
                new AuditConfig("postgres://postgres@127.0.0.1:" + port + "/phigate_audit", null, 65536,
                        Duration.ofSeconds(1), Duration.ofMillis(200), AuditConfig.DEFAULT_REPLICA, null,
                        AuditConfig.DEFAULT_RESPONSE_CAP, store), c.limits(), c.tls(), c.policy(), c.baseDir()));
             Connection session = gw.connect()) {
            insert(session, "before");

            auditDb.close();
            auditDb = null;
            assertThatThrownBy(() -> insert(session, "while-down")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
            assertThat(rows("while-down")).isZero();

            auditDb = RestartablePostgres.start(data, port);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    insert(session, "after");
                    break;
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).isEqualTo("58030");
                    assertThat(System.nanoTime()).as("the store did not recover").isLessThan(deadline);
                    Thread.sleep(500);
                }
            }
            assertThat(rows("after")).isEqualTo(1);
        }
        try (Connection c = auditDb.getDatabase("postgres", "phigate_audit").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from audit_event where kind = 'statement_requested'"
                     + " and statement like 'insert into pa_counter%'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("request records: before and after, never while-down").isEqualTo(2);
        }
    }

    private static void insert(Connection c, String tag) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into pa_counter values ('" + tag + "')");
        }
    }

    private static int rows(String tag) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from pa_counter where tag = '" + tag + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
