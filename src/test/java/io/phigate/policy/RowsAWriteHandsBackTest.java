package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An UPDATE or DELETE with RETURNING (and an INSERT ... ON CONFLICT DO UPDATE with it) hands back rows that were in
 * the table before it ran: the server needs SELECT on what RETURNING names, and a {@code select} rule on the table
 * must hold it, whether the table is named or reached through its parent (an attacker's review of decision 0088).
 * A write that returns nothing is judged as a write only, as before.
 */
class RowsAWriteHandsBackTest {
    static final String WRITER = "system:serviceaccount:clinical:returning-writer";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        String user = TestDatabase.get().user();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            for (String sql : List.of(
                    "DROP TABLE IF EXISTS ret_base, ret_parent, ret_open CASCADE",
                    "CREATE TABLE ret_open (id int, v text)",
                    "INSERT INTO ret_open VALUES (1, 'open')",
                    "CREATE TABLE ret_base (id int, v text)",
                    "CREATE TABLE ret_kid () INHERITS (ret_base)",
                    "CREATE TABLE ret_parent (id int PRIMARY KEY, v text) PARTITION BY LIST (id)",
                    "CREATE TABLE ret_part PARTITION OF ret_parent DEFAULT",
                    "INSERT INTO ret_kid SELECT g, 'kid-secret' FROM generate_series(1, 3) g",
                    "INSERT INTO ret_parent SELECT g, 'part-secret' FROM generate_series(1, 3) g")) {
                s.execute(sql);
            }
            for (String t : List.of("ret_open", "ret_base", "ret_kid", "ret_parent", "ret_part")) {
                s.execute("ALTER TABLE " + t + " OWNER TO " + user);
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: writer
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.ret_open", "public.ret_base", "public.ret_kid", "public.ret_parent", "public.ret_part"],
                          operations: [select, insert, update, delete] }
                rules:
                  - name: kid-reads
                    when: { operations: [select], tables: [public.ret_kid, public.ret_part] }
                    deny: "the children are read through the reporting service"
                """.formatted(WRITER));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void aWriteReturningRowsOfATableIsASelectOfItNamedOrThroughItsParent() throws Exception {
        List<String> returning = List.of(
                "UPDATE ret_kid SET v = v WHERE id = 1 RETURNING v",
                "UPDATE ret_base SET v = v WHERE id = 1 RETURNING v",
                "UPDATE ret_base SET id = id RETURNING *",
                "DELETE FROM ret_base WHERE id = 99 OR v IS NOT NULL RETURNING *",
                "DELETE FROM ret_parent WHERE id = 2 RETURNING v",
                "UPDATE ret_parent SET v = v RETURNING tableoid::regclass::text, v",
                "INSERT INTO ret_parent VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING v",
                "WITH d AS (DELETE FROM ret_parent RETURNING *) SELECT * FROM d",
                // A write that reads the child (through its parent) copies or counts its rows without RETURNING.
                "UPDATE ret_open SET v = b.v FROM ret_base b WHERE b.id = ret_open.id",
                "UPDATE ret_open SET v = (SELECT max(v) FROM ret_parent)",
                "DELETE FROM ret_open USING ret_base b WHERE b.v = 'kid-secret'",
                "DELETE FROM ret_open WHERE id IN (SELECT id FROM ret_parent WHERE v = 'part-secret')",
                "UPDATE ret_open SET v = k.v FROM ret_kid k WHERE k.id = ret_open.id");
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, WRITER, mode); Statement s = c.createStatement()) {
                for (String sql : returning) {
                    assertRefused(s, sql, "kid-reads");
                }
                // Writes that hand nothing back stay writes.
                assertThat(s.executeUpdate("UPDATE ret_base SET v = v WHERE id = 1")).isEqualTo(1);
                assertThat(s.executeUpdate("UPDATE ret_parent SET v = v WHERE id = 1")).isEqualTo(1);
            }
        }
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM ret_kid), (SELECT count(*) FROM ret_part),"
                     + " (SELECT string_agg(v, ',') FROM ret_open)")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(3)).isEqualTo("open"); // no child's value was copied into the open table
            assertThat(rs.getInt(1)).isEqualTo(3); // nothing was deleted by a refused statement
            assertThat(rs.getInt(2)).isEqualTo(3);
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%kid-reads%'", 2 * returning.size())).hasSizeGreaterThanOrEqualTo(2 * returning.size());
    }
}
