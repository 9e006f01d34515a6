package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TRUNCATE removes every row, as a DELETE without a WHERE does. The documented rule for holding a wipe,
 * {@code operations: [delete, update], no_where: true}, and a rule on deletes of one table were passed by TRUNCATE,
 * its own operation to the rules (an open Low of decision 0093's sweep); through pgjdbc and the real gateway, both
 * now refuse it with every row kept, and a DELETE with a WHERE still runs.
 */
class TruncateIsADeleteToTheRulesTest {
    static final String AGENT = "system:serviceaccount:clinical:truncating-agent";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            for (String sql : List.of(
                    "DROP TABLE IF EXISTS trunc_open, trunc_ledger, trunc_ref CASCADE",
                    "CREATE TABLE trunc_open (id int PRIMARY KEY, v text)",
                    "CREATE TABLE trunc_ledger (id int, v text)",
                    "CREATE TABLE trunc_ref (id int REFERENCES trunc_open (id))")) {
                s.execute(sql);
            }
            for (String table : List.of("trunc_open", "trunc_ledger", "trunc_ref")) {
                s.execute("ALTER TABLE " + table + " OWNER TO " + TestDatabase.get().user());
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: agent
                    match: { subject: "%s" }
                    upstreams: [clinical]
                rules:
                  - name: ledger-deletes
                    when: { operations: [delete], tables: [public.trunc_ledger] }
                    deny: "the ledger keeps its rows"
                  - name: wipe-a-table
                    when: { operations: [delete, update], no_where: true }
                    deny: "add a WHERE"
                """.formatted(AGENT));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void rows() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE trunc_open, trunc_ledger, trunc_ref");
            s.execute("INSERT INTO trunc_open SELECT g, 'o' FROM generate_series(1, 5) g");
            s.execute("INSERT INTO trunc_ledger SELECT g, 'l' FROM generate_series(1, 5) g");
            s.execute("INSERT INTO trunc_ref VALUES (1)");
        }
    }

    @Test
    void truncateIsHeldByTheRulesWrittenForDeletes() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, AGENT, mode); Statement s = c.createStatement()) {
                for (String sql : List.of("TRUNCATE trunc_open CASCADE", "TRUNCATE TABLE ONLY trunc_open CASCADE",
                        "truncate trunc_ref RESTART IDENTITY")) {
                    assertRefused(s, sql, "wipe-a-table");
                }
                assertRefused(s, "TRUNCATE trunc_ledger", "ledger-deletes");
                assertRefused(s, "DELETE FROM trunc_ledger WHERE id = 1", "ledger-deletes");
                assertThat(s.executeUpdate("DELETE FROM trunc_open WHERE id = 5")).as(mode).isEqualTo(1);
                s.execute("INSERT INTO trunc_open VALUES (5, 'o')");
            }
        }
        assertThat(rows("trunc_open")).isEqualTo(5);
        assertThat(rows("trunc_ledger")).isEqualTo(5);
        assertThat(rows("trunc_ref")).isEqualTo(1);
        // Recorded as refused by each rule, per statement and mode.
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%ledger-deletes%'", 4)).hasSize(4);
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%wipe-a-table%'", 6)).hasSize(6);
    }

    /**
     * An upsert whose rows a query without a WHERE chooses updates every row it meets: {@code INSERT INTO t SELECT *
     * FROM t ON CONFLICT (id) DO UPDATE SET v = 'x'} rewrote the whole table past the wipe rule that holds
     * {@code UPDATE t SET v = 'x'} (an attacker's review of decision 0099). Upserts of listed rows, or of a query's
     * rows under a WHERE, still run.
     */
    @Test
    void anUpsertOfEveryRowIsAnUpdateWithoutAWhere() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, AGENT, mode); Statement s = c.createStatement()) {
                for (String sql : List.of(
                        "INSERT INTO trunc_open SELECT * FROM trunc_open ON CONFLICT (id) DO UPDATE SET v = 'x'",
                        "INSERT INTO trunc_open SELECT id, 'x' FROM trunc_open UNION SELECT 9, 'x'"
                                + " ON CONFLICT (id) DO UPDATE SET v = excluded.v",
                        "WITH w AS (INSERT INTO trunc_open SELECT * FROM trunc_open ON CONFLICT (id)"
                                + " DO UPDATE SET v = 'x' RETURNING 1) SELECT count(*) FROM w")) {
                    assertRefused(s, sql, "wipe-a-table");
                }
                assertThat(s.executeUpdate("INSERT INTO trunc_open VALUES (1, 'o'), (2, 'o')"
                        + " ON CONFLICT (id) DO UPDATE SET v = excluded.v")).as(mode).isEqualTo(2);
                assertThat(s.executeUpdate("INSERT INTO trunc_open SELECT * FROM trunc_open WHERE id = 3"
                        + " ON CONFLICT (id) DO UPDATE SET v = excluded.v")).as(mode).isEqualTo(1);
                assertThat(s.executeUpdate("INSERT INTO trunc_open SELECT * FROM trunc_open"
                        + " ON CONFLICT (id) DO UPDATE SET v = 'o' WHERE trunc_open.id = 4")).as(mode).isEqualTo(1);
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM trunc_open WHERE v = 'o'")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(5);
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%wipe-a-table%' and exists (select 1 from audit_event r"
                + " where r.kind = 'statement_requested' and r.session_id = audit_event.session_id"
                + " and r.statement_id = audit_event.statement_id and r.statement like '%ON CONFLICT%')", 6))
                .hasSize(6);
    }

    private static int rows(String table) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
