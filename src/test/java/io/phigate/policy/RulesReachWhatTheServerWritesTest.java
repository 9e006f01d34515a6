package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.io.StringReader;
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
import org.postgresql.PGConnection;

/**
 * A risk rule or a role's scope names the tables the server writes, not only those a statement spells: a parent's
 * DELETE, UPDATE, TRUNCATE or DROP writes its children and partitions, an INSERT into a partitioned table writes a
 * partition, COPY FROM inserts, and DROP ... CASCADE drops tables it never names. An attacker's review (decision 0084)
 * found each of these run past a rule holding writes to the table it reached; through pgjdbc and the real gateway,
 * each must now be held (or refused) with the table unchanged. Routes a select-only role was already refused are
 * kept as a few representative probes.
 */
class RulesReachWhatTheServerWritesTest {
    static final String AGENT = "system:serviceaccount:clinical:reach-agent";
    static final String READER = "system:serviceaccount:clinical:reach-reader";
    static final String EXPORTER = "system:serviceaccount:clinical:reach-exporter";
    static final String PARENT_DELETER = "system:serviceaccount:clinical:reach-parent-deleter";
    static final String PARENT_READER = "system:serviceaccount:clinical:reach-parent-reader";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        String user = TestDatabase.get().user();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            for (String sql : List.of(
                    "DROP TABLE IF EXISTS reach_open, reach_parent, reach_base, reach_inserts CASCADE",
                    "DROP SCHEMA IF EXISTS reach_s CASCADE",
                    "CREATE TABLE reach_open (id int, v text)",
                    "CREATE TABLE reach_parent (id int, v text) PARTITION BY LIST (id)",
                    "CREATE TABLE reach_part PARTITION OF reach_parent DEFAULT",
                    "CREATE TABLE reach_base (id int, v text)",
                    "CREATE TABLE reach_kid () INHERITS (reach_base)",
                    "CREATE VIEW reach_base_view AS SELECT * FROM reach_base",
                    "CREATE TABLE reach_inserts (id int)",
                    "CREATE SCHEMA reach_s",
                    "CREATE TABLE reach_s.kept (id int)")) {
                s.execute(sql);
            }
            for (String owned : List.of("TABLE reach_open", "TABLE reach_parent", "TABLE reach_part", "TABLE reach_base",
                    "TABLE reach_kid", "VIEW reach_base_view", "TABLE reach_inserts", "SCHEMA reach_s", "TABLE reach_s.kept")) {
                s.execute("ALTER " + owned + " OWNER TO " + user);
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: agent
                    match: { subject: "%s" }
                    upstreams: [clinical]
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.reach_open", "public.reach_base", "public.reach_kid", "public.reach_base_view",
                                   "public.reach_parent", "public.reach_part"], operations: [select, copy] }
                  - name: exporter
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.reach_open"], operations: [select, copy] }
                  - name: parent-reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.reach_parent"], operations: [select] }
                  - name: parent-deleter
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.reach_base", "public.reach_parent"], operations: [select, delete] }
                      - { tables: ["public.reach_open"], operations: [ddl] }
                approvers:
                  dba:
                    match: { issuer: "%s", claims: { groups: "dba" } }
                rules:
                  - name: held-children
                    when:
                      operations: [insert, update, delete, truncate, ddl]
                      tables: [public.reach_kid, public.reach_part, reach_s.kept, public.reach_inserts]
                    require_approval: { group: dba, timeout: 5m, mode: ticket }
                  - name: kid-reads
                    when: { operations: [select], tables: [public.reach_kid], roles: [reader] }
                    deny: "the children are read through the reporting service"
                  - name: part-reads
                    when: { operations: [select], tables: [public.reach_part], roles: [reader] }
                    deny: "the partitions are read through the reporting service"
                """.formatted(AGENT, READER, EXPORTER, PARENT_READER, PARENT_DELETER, GatewayHarness.ISSUER));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void rows() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE reach_open, reach_base, reach_kid, reach_parent, reach_inserts, reach_s.kept");
            s.execute("INSERT INTO reach_open VALUES (1, 'open')");
            s.execute("INSERT INTO reach_parent SELECT g, 'p' FROM generate_series(1, 5) g");
            s.execute("INSERT INTO reach_kid SELECT g, 'k' FROM generate_series(1, 5) g");
        }
    }

    @Test
    void aWriteToAParentIsHeldByARuleOnItsChildOrPartition() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            for (String sql : List.of(
                    "DELETE FROM reach_base WHERE id = 1",
                    "UPDATE reach_base SET v = 'changed' WHERE id = 2",
                    "TRUNCATE reach_base",
                    "DELETE FROM reach_parent WHERE id = 1",
                    "UPDATE reach_parent SET v = 'changed' WHERE id = 2",
                    "INSERT INTO reach_parent VALUES (77, 'routed into the partition')",
                    "TRUNCATE reach_parent")) {
                try (Connection c = ThroughTheGateway.as(gw, AGENT, mode); Statement s = c.createStatement()) {
                    assertHeld(s, sql);
                }
                assertThat(rows("reach_kid WHERE v = 'k'")).as(mode + ": " + sql).isEqualTo(5);
                assertThat(rows("reach_part WHERE v = 'p'")).as(mode + ": " + sql).isEqualTo(5);
                assertThat(rows("reach_part")).as(mode + ": " + sql).isEqualTo(5);
            }
        }
    }

    @Test
    void aRoleAllowedToDeleteFromAParentIsNotAllowedItsChildrenByThat() throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, PARENT_DELETER, "extended"); Statement s = c.createStatement()) {
            assertRefused(s, "DELETE FROM reach_base WHERE id = 1", "public.reach_kid");
            assertRefused(s, "DELETE FROM reach_parent WHERE id = 1", "public.reach_part");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM reach_base")) {
                assertThat(rs.next()).isTrue(); // reading through the parent stays as it was
            }
        }
        assertThat(rows("reach_kid")).isEqualTo(5);
        assertThat(rows("reach_part")).isEqualTo(5);
    }

    @Test
    void copyFromStdinIsAnInsertToRulesAndScopes() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, AGENT, mode)) {
                assertThatThrownBy(() -> copyIn(c, "COPY reach_inserts FROM STDIN", "5\n6\n"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("PA001"))
                        .hasMessageContaining("held-children");
            }
            // A role granted copy for exports may not write with it.
            try (Connection c = ThroughTheGateway.as(gw, EXPORTER, mode)) {
                assertThatThrownBy(() -> copyIn(c, "COPY reach_open FROM STDIN", "9\tcopied in\n"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                        .hasMessageContaining("INSERT");
                try (Statement s = c.createStatement()) {
                    assertThat(s.execute("SELECT * FROM reach_open")).isTrue();
                }
            }
        }
        assertThat(rows("reach_inserts")).isZero();
        assertThat(rows("reach_open")).isEqualTo(1);
    }

    @Test
    void aDropIsHeldByARuleOnWhatItDropsUnnamed() throws Exception {
        for (String sql : List.of("DROP SCHEMA reach_s CASCADE", "DROP TABLE reach_parent",
                "DROP TABLE reach_base CASCADE")) {
            try (Connection c = ThroughTheGateway.as(gw, AGENT, "simple"); Statement s = c.createStatement()) {
                assertHeld(s, sql);
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_tables WHERE schemaname || '.' || tablename IN"
                     + " ('reach_s.kept', 'public.reach_part', 'public.reach_kid')")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(3);
        }
    }

    @Test
    void aCommentOnATableOrColumnIsDdlOfThatTable() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            // Granted ddl on one table, not on the one it comments (phi: tags are read from comments).
            try (Connection c = ThroughTheGateway.as(gw, PARENT_DELETER, mode); Statement s = c.createStatement()) {
                assertRefused(s, "COMMENT ON TABLE reach_kid IS 'harmless'", "public.reach_kid");
                assertRefused(s, "COMMENT ON COLUMN public.reach_kid.v IS NULL", "public.reach_kid");
            }
            try (Connection c = ThroughTheGateway.as(gw, AGENT, mode); Statement s = c.createStatement()) {
                assertHeld(s, "COMMENT ON TABLE reach_kid IS 'held'");
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT obj_description('reach_kid'::regclass, 'pg_class')")) {
            rs.next();
            assertThat(rs.getString(1)).isNull();
        }
    }

    @Test
    void aReadOfAParentIsDeniedByARuleOnItsChild() throws Exception {
        // Every form that scans the parent without naming the child: a deny rule on the child (or partition) holds.
        List<String> throughTheParent = List.of(
                "SELECT * FROM reach_base",
                "SELECT count(*) FROM reach_base",
                "TABLE reach_base",
                "SELECT * FROM reach_base_view",
                "WITH w AS (SELECT id FROM reach_base) SELECT count(*) FROM w",
                "SELECT (SELECT max(id) FROM reach_base)",
                "SELECT 1 FROM reach_open o JOIN reach_base b ON b.id = o.id",
                "SELECT * FROM reach_open WHERE id IN (SELECT id FROM reach_base)",
                "SELECT tableoid::regclass::text FROM reach_base",
                "PREPARE reach_read AS SELECT * FROM reach_base",
                "DECLARE reach_cur CURSOR WITH HOLD FOR SELECT * FROM reach_base",
                "COPY (SELECT * FROM reach_base) TO STDOUT");
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, READER, mode); Statement s = c.createStatement()) {
                assertRefused(s, "SELECT * FROM reach_kid", "kid-reads");
                for (String sql : throughTheParent) {
                    assertRefused(s, sql, "kid-reads");
                }
                assertRefused(s, "SELECT * FROM reach_parent", "part-reads");
                assertRefused(s, "SELECT * FROM ONLY reach_base", "kid-reads"); // ONLY is not read: stricter
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM reach_open")) {
                    assertThat(rs.next()).isTrue(); // a table with no children is read as before
                }
            }
        }
        // Recorded as refused by the rule, once per form and mode (the child's own read included).
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%kid-reads%'", 2 * (throughTheParent.size() + 2)))
                .hasSizeGreaterThanOrEqualTo(2 * (throughTheParent.size() + 2));
    }

    @Test
    void aScopeGrantedTheParentReadsItsPartitionsThroughItAsTheServerChecksIt() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, PARENT_READER, mode); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM reach_parent")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(5); // the partition's rows, the partition never named
                }
                assertRefused(s, "SELECT * FROM reach_part", "public.reach_part");
            }
        }
        // The record names the partition whose rows were read, though the statement did not.
        assertThat(gw.audit("kind = 'statement_requested' and statement = 'SELECT count(*) FROM reach_parent'"))
                .hasSize(2).allSatisfy(r -> assertThat(String.valueOf(r.get("detail"))).contains("public.reach_part"));
    }

    @Test
    void aChildTheSessionMovesUnderAnotherParentIsStillDeniedThroughThatParent(@TempDir Path own) throws Exception {
        String reshaper = "system:serviceaccount:clinical:reach-reshaper";
        try (GatewayHarness g = reshaper(own, reshaper)) {
            for (boolean inTransaction : List.of(false, true)) {
                int before = rows("reach_kid");
                try (Connection c = ThroughTheGateway.as(g, reshaper, "extended"); Statement s = c.createStatement()) {
                    c.setAutoCommit(!inTransaction);
                    List<String> seen = new java.util.ArrayList<>();
                    try {
                        s.execute("ALTER TABLE reach_kid NO INHERIT reach_base");
                        s.execute("ALTER TABLE reach_kid INHERIT reach_open");
                        try (ResultSet rs = s.executeQuery("SELECT v FROM reach_open")) {
                            while (rs.next()) {
                                seen.add(rs.getString(1));
                            }
                        }
                    } catch (SQLException refusedOrEnded) {
                        // Moving the child reads its rows (DdlReads): the rule on them refuses the move itself.
                        assertThat(refusedOrEnded.getSQLState()).as(refusedOrEnded.getMessage()).isIn("42501", "0A000");
                    }
                    assertThat(seen).as("in a transaction: " + inTransaction).doesNotContain("k");
                } finally {
                    try (Connection su = TestDatabase.get().superuser(); Statement a = su.createStatement()) {
                        a.execute("DO $$ BEGIN ALTER TABLE reach_kid NO INHERIT reach_open;"
                                + " EXCEPTION WHEN others THEN NULL; END $$");
                        a.execute("DO $$ BEGIN ALTER TABLE reach_kid INHERIT reach_base;"
                                + " EXCEPTION WHEN others THEN NULL; END $$");
                    }
                }
                assertThat(rows("reach_kid")).isEqualTo(before);
            }
        }
    }

    @Test
    void aChildTheSessionGivesASecondParentIsStillDeniedThroughIt(@TempDir Path own) throws Exception {
        // Multiple inheritance: INHERIT without NO INHERIT first reads no row of the child, yet makes every later
        // scan of the new parent return the child's rows (an attacker's review of decision 0088).
        String reshaper = "system:serviceaccount:clinical:reach-second-parent";
        try (GatewayHarness g = reshaper(own, reshaper)) {
            for (boolean inTransaction : List.of(false, true)) {
                try (Connection c = ThroughTheGateway.as(g, reshaper, "extended"); Statement s = c.createStatement()) {
                    c.setAutoCommit(!inTransaction);
                    // An ALTER of a relation is judged as the code it may install: every rule on its tables fires.
                    assertRefused(s, "ALTER TABLE reach_kid INHERIT reach_open", "kid-reads");
                }
                try (Connection su = TestDatabase.get().superuser(); Statement a = su.createStatement();
                     ResultSet rs = a.executeQuery("SELECT count(*) FROM pg_inherits"
                             + " WHERE inhrelid = 'reach_kid'::regclass AND inhparent = 'reach_open'::regclass")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).as("in a transaction: " + inTransaction).isZero();
                }
            }
        }
    }

    /** A gateway where {@code subject} may read and change the schema, with a deny on reads of the child. */
    private static GatewayHarness reshaper(Path own, String subject) throws Exception {
        return GatewayHarness.startWithPolicy(own, """
                roles:
                  - name: reshaper
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.*"], operations: [select, ddl] }
                rules:
                  - name: kid-reads
                    when: { operations: [select], tables: [public.reach_kid] }
                    deny: "the children are read through the reporting service"
                """.formatted(subject));
    }

    @Test
    void aWriteReturningOrReadingAChildsRowsIsASelectOfIt(@TempDir Path own) throws Exception {
        // UPDATE/DELETE ... RETURNING and ON CONFLICT DO UPDATE ... RETURNING hand back rows stored before; FROM,
        // USING and subqueries copy or count them: each is a select of the child it reaches (an attacker's review
        // of decision 0088; before, a select rule did not fire on a write, whose operations named no select).
        String writer = "system:serviceaccount:clinical:reach-returning-writer";
        List<String> reading = List.of(
                "UPDATE reach_kid SET v = v WHERE id = 1 RETURNING v",
                "UPDATE reach_base SET v = v WHERE id = 1 RETURNING v",
                "UPDATE reach_base SET id = id RETURNING *",
                "DELETE FROM reach_base WHERE id = 99 OR v IS NOT NULL RETURNING *",
                "DELETE FROM reach_parent WHERE id = 2 RETURNING v",
                "UPDATE reach_parent SET v = v RETURNING tableoid::regclass::text, v",
                "INSERT INTO reach_parent VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING v",
                "WITH d AS (DELETE FROM reach_parent RETURNING *) SELECT * FROM d",
                "UPDATE reach_open SET v = b.v FROM reach_base b WHERE b.id = reach_open.id",
                "UPDATE reach_open SET v = (SELECT max(v) FROM reach_parent)",
                "DELETE FROM reach_open USING reach_base b WHERE b.v = 'k'",
                "DELETE FROM reach_open WHERE id IN (SELECT id FROM reach_parent WHERE v = 'p')",
                "UPDATE reach_open SET v = k.v FROM reach_kid k WHERE k.id = reach_open.id",
                // A condition on the parent reads its children's rows: the row count answers it.
                "UPDATE reach_base SET v = v WHERE id = 1",
                "UPDATE reach_parent SET v = v WHERE id = 1",
                "DELETE FROM reach_base WHERE v = 'no such value'",
                // A SET value read from the rows written answers through an error or a constraint, as a WHERE does.
                "UPDATE reach_base SET id = CASE WHEN v LIKE 'k%' THEN 1/0 ELSE id END",
                "EXPLAIN ANALYZE UPDATE reach_parent SET id = CASE WHEN v LIKE 'p%' THEN 1/0 ELSE id END",
                "INSERT INTO reach_parent VALUES (1, 'x') ON CONFLICT (id) DO UPDATE"
                        + " SET id = CASE WHEN reach_parent.v LIKE 'p%' THEN 1/0 ELSE 1 END",
                "PREPARE reach_oracle AS UPDATE reach_base SET id = length(v) / 0",
                "WITH u AS (UPDATE reach_base SET v = v WHERE id = 1) SELECT 1",
                "UPDATE reach_base SET v = 'x' || v",
                "UPDATE reach_parent SET id = 1 / (length(v) - 1)");
        try (Connection su = TestDatabase.get().superuser(); Statement a = su.createStatement()) {
            a.execute("CREATE UNIQUE INDEX reach_parent_id ON reach_parent (id)");
        }
        try (GatewayHarness g = GatewayHarness.startWithPolicy(own, """
                roles:
                  - name: writer
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.reach_*"], operations: [select, insert, update, delete] }
                rules:
                  - name: kid-reads
                    when: { operations: [select], tables: [public.reach_kid, public.reach_part] }
                    deny: "the children are read through the reporting service"
                """.formatted(writer))) {
            for (String mode : List.of("simple", "extended")) {
                try (Connection c = ThroughTheGateway.as(g, writer, mode); Statement s = c.createStatement()) {
                    for (String sql : reading) {
                        assertRefused(s, sql, "kid-reads");
                    }
                    // A condition on a table no rule names stays a write the role may make.
                    assertThat(s.executeUpdate("UPDATE reach_open SET v = v WHERE id = -1")).isZero();
                }
            }
            assertThat(rows("reach_kid")).isEqualTo(5); // nothing a refused statement deleted
            assertThat(rows("reach_part")).isEqualTo(5);
            try (Connection su = TestDatabase.get().superuser(); Statement a = su.createStatement();
                 ResultSet rs = a.executeQuery("SELECT string_agg(v, ',') FROM reach_open")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("open"); // no child's value copied into the open table
            }
            assertThat(g.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                    + " and detail like '%kid-reads%'", 2 * reading.size())).hasSizeGreaterThanOrEqualTo(2 * reading.size());
        } finally {
            try (Connection su = TestDatabase.get().superuser(); Statement a = su.createStatement()) {
                a.execute("DROP INDEX IF EXISTS reach_parent_id");
            }
        }
    }

    @Test
    void aWriteThatReadsItsTargetsRowsNeedsSelectOnItAsTheServerAsks(@TempDir Path own) throws Exception {
        // PostgreSQL asks SELECT on the columns a write's condition or SET value reads; a role granted update and
        // delete without select learnt a table's values from row counts and errors (the closing review of 0088).
        String writer = "system:serviceaccount:clinical:reach-blind-writer";
        try (GatewayHarness g = GatewayHarness.startWithPolicy(own, """
                roles:
                  - name: blind-writer
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.reach_open"], operations: [update, delete] }
                """.formatted(writer))) {
            List<String> reading = List.of(
                    "UPDATE reach_open SET v = v WHERE v LIKE 'o%' AND id = -1",
                    "DELETE FROM reach_open WHERE v LIKE 'q%'",
                    "UPDATE reach_open SET id = CASE WHEN v LIKE 'q%' THEN 1 / 0 ELSE id END",
                    "MERGE INTO reach_open o USING (VALUES (1)) s(x) ON o.id = s.x"
                            + " WHEN MATCHED AND o.v LIKE 'q%' THEN UPDATE SET v = o.v");
            for (String mode : List.of("simple", "extended")) {
                try (Connection c = ThroughTheGateway.as(g, writer, mode); Statement s = c.createStatement()) {
                    for (String sql : reading) {
                        assertRefused(s, sql, "SELECT on public.reach_open");
                    }
                    // A write that reads nothing of the rows it changes stays what the role may do.
                    assertThat(s.executeUpdate("UPDATE reach_open SET v = v")).isEqualTo(rows("reach_open"));
                }
            }
            assertThat(g.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                    + " and detail like '%SELECT on public.reach_open%'", 2 * reading.size()))
                    .hasSizeGreaterThanOrEqualTo(2 * reading.size());
        }
    }

    @Test
    void aSelectOnlyRoleChangesNothingPersistent() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, READER, mode); Statement s = c.createStatement()) {
                assertRefused(s, "ALTER ROLE CURRENT_USER SET work_mem = '5MB'", "ddl is not allowed");
                assertRefused(s, "SELECT pg_advisory_lock(84)", "pg_advisory_lock");
                assertRefused(s, "SELECT lo_from_bytea(0, 'x')", "lo_from_bytea");
                assertRefused(s, "SELECT * INTO reach_copy FROM reach_open", "reach_copy");
                assertRefused(s, "EXPLAIN ANALYZE INSERT INTO reach_open VALUES (9)", "INSERT on public.reach_open");
                assertRefused(s, "PREPARE p84 AS INSERT INTO reach_open VALUES (9)", "INSERT on public.reach_open");
                assertRefused(s, "DECLARE c CURSOR FOR SELECT * FROM reach_open FOR UPDATE", "UPDATE on public.reach_open");
                assertRefused(s, "SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'reach_kid'",
                        "pg_catalog.pg_stats");
                assertRefused(s, "LOAD 'plpgsql'", "function is not allowed");
                assertRefused(s, "COPY reach_open FROM STDIN", "reach_open");
            }
        }
        assertThat(rows("reach_open")).isEqualTo(1);
    }

    private static void assertHeld(Statement s, String sql) {
        assertThatThrownBy(() -> s.execute(sql)).as(sql)
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).as(e.getMessage())
                        .isEqualTo("PA001"))
                .hasMessageContaining("held-children");
    }

    private static long copyIn(Connection c, String sql, String data) throws Exception {
        return c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql, new StringReader(data));
    }

    private static int rows(String from) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + from)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
