package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * A scan of a parent returns its children's and partitions' rows (without ONLY), so a column tagged on a child but
 * not on its parent is PHI when read through the parent: through pgjdbc and the real gateway, SSNs held in a child
 * (tagged by a comment or by the policy file, one level down or two, in a partition, in a child whose columns are
 * in another order) never come back in clear through the parent, a view over it, a CTE, a subquery, COPY (query)
 * TO, TABLE or a cursor; nor through a parent the session itself makes the tagged table (or a temporary table it
 * copied PHI into) a child or partition of: each such route is refused before it runs (decision 0088).
 */
class MaskingThroughParentsTest {
    static final String SSN = "123-45-6789";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            for (String sql : List.of(
                    "DROP TABLE IF EXISTS inh_parent, inh_gp, inh_parted, inh_cfg_parent, inh_own_parent, inh_loose,"
                            + " inh_reverse CASCADE",
                    "DROP VIEW IF EXISTS inh_view",
                    // An untagged parent; its child made on its own, columns in another order, then inherited.
                    "CREATE TABLE inh_parent (id int, ssn text)",
                    "CREATE TABLE inh_child (extra_ssn text, ssn text, id int)",
                    "ALTER TABLE inh_child INHERIT inh_parent",
                    "COMMENT ON COLUMN inh_child.ssn IS 'phi:ssn'",
                    "COMMENT ON COLUMN inh_child.extra_ssn IS 'phi:ssn'",
                    "INSERT INTO inh_child VALUES ('" + SSN + "', '" + SSN + "', 1)",
                    // Two levels: only the grandchild's column is tagged.
                    "CREATE TABLE inh_gp (id int, ssn text)",
                    "CREATE TABLE inh_mid () INHERITS (inh_gp)",
                    "CREATE TABLE inh_grandchild () INHERITS (inh_mid)",
                    "COMMENT ON COLUMN inh_grandchild.ssn IS 'phi:ssn'",
                    "INSERT INTO inh_grandchild VALUES (2, '" + SSN + "')",
                    // A partition tagged, its partitioned parent not.
                    "CREATE TABLE inh_parted (id int, ssn text) PARTITION BY LIST (id)",
                    "CREATE TABLE inh_part3 PARTITION OF inh_parted FOR VALUES IN (3)",
                    "CREATE TABLE inh_part_other PARTITION OF inh_parted DEFAULT",
                    "COMMENT ON COLUMN inh_part3.ssn IS 'phi:ssn'",
                    "INSERT INTO inh_parted VALUES (3, '" + SSN + "')",
                    // Tagged by the policy file on the child only.
                    "CREATE TABLE inh_cfg_parent (id int, ssn text)",
                    "CREATE TABLE inh_cfg_child () INHERITS (inh_cfg_parent)",
                    "INSERT INTO inh_cfg_child VALUES (4, '" + SSN + "')",
                    // The reverse: a tagged parent, read through an untagged child.
                    "CREATE TABLE inh_reverse (id int, ssn text)",
                    "COMMENT ON COLUMN inh_reverse.ssn IS 'phi:ssn'",
                    "CREATE TABLE inh_reverse_child () INHERITS (inh_reverse)",
                    "INSERT INTO inh_reverse_child VALUES (5, '" + SSN + "')",
                    "CREATE VIEW inh_view AS SELECT id, ssn FROM inh_parent",
                    // A tagged table on its own, which the session will try to make a child of a parent it makes.
                    "CREATE TABLE inh_loose (id int, ssn text)",
                    "COMMENT ON COLUMN inh_loose.ssn IS 'phi:ssn'",
                    "INSERT INTO inh_loose VALUES (6, '" + SSN + "')")) {
                s.execute(sql);
            }
            for (String t : List.of("inh_parent", "inh_child", "inh_gp", "inh_mid", "inh_grandchild", "inh_parted",
                    "inh_part3", "inh_part_other", "inh_cfg_parent", "inh_cfg_child", "inh_reverse",
                    "inh_reverse_child", "inh_view", "inh_loose")) {
                s.execute("ALTER TABLE " + t + " OWNER TO " + db.user());
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.inh_cfg_child.ssn: ssn
                    discover_comments: true
                    detection:
                      enabled: false
                masking:
                  key_file: masking.key
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP VIEW IF EXISTS inh_view");
            s.execute("DROP TABLE IF EXISTS inh_parent, inh_gp, inh_parted, inh_cfg_parent, inh_own_parent, inh_loose,"
                    + " inh_reverse CASCADE");
        }
    }

    @Test
    void aChildsTaggedColumnIsMaskedWhenReadThroughItsParent() throws Exception {
        List<String> reads = List.of(
                "SELECT ssn FROM inh_parent",
                "SELECT * FROM inh_parent",
                "SELECT p.ssn FROM inh_parent p JOIN inh_parent q USING (id)",
                "WITH w AS (SELECT ssn FROM inh_parent) SELECT ssn FROM w",
                "SELECT (SELECT ssn FROM inh_parent LIMIT 1)",
                "TABLE inh_parent",
                "SELECT ssn FROM inh_view",
                "SELECT tableoid::regclass::text, ssn FROM inh_parent",
                "SELECT ssn FROM inh_gp",
                "SELECT ssn FROM inh_mid",
                "SELECT ssn FROM inh_parted",
                "SELECT ssn FROM inh_cfg_parent",
                "SELECT ssn FROM inh_reverse_child",
                "SELECT ssn FROM inh_child",
                "SELECT extra_ssn FROM inh_child");
        for (String mode : List.of("simple", "extended")) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(p); Statement s = c.createStatement()) {
                for (String sql : reads) {
                    List<String> values = values(s, sql);
                    assertThat(values).as(mode + ": " + sql).isNotEmpty();
                    assertThat(String.join(",", values)).as(mode + ": " + sql).doesNotContain(SSN);
                }
            }
        }
        // The record says which column was masked as what (names, never values).
        assertThat(gw.auditEventually("kind = 'statement_completed' and detail like '%ssn(ssn)=%'", reads.size()))
                .hasSizeGreaterThanOrEqualTo(reads.size())
                .allSatisfy(r -> assertThat(String.valueOf(r.get("detail"))).doesNotContain(SSN));
    }

    @Test
    void aChildsTaggedColumnReturnedByAWriteToItsParentIsNeverInClear() throws Exception {
        // RETURNING hands back the child's stored rows (an attacker's review of decision 0088): masked or refused.
        List<String> writes = List.of(
                "UPDATE inh_parent SET id = id RETURNING ssn",
                "UPDATE inh_parent SET id = id RETURNING *",
                "DELETE FROM inh_parent WHERE id IS NOT NULL RETURNING tableoid::regclass::text, ssn",
                "UPDATE inh_parted SET id = id RETURNING ssn",
                "WITH d AS (DELETE FROM inh_gp RETURNING ssn) SELECT ssn FROM d",
                "UPDATE inh_cfg_parent SET id = id RETURNING ssn");
        for (String mode : List.of("simple", "extended")) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(p); Statement s = c.createStatement()) {
                for (String sql : writes) {
                    c.setAutoCommit(false);
                    try {
                        assertThat(String.join(",", values(s, sql))).as(mode + ": " + sql).doesNotContain(SSN);
                    } catch (java.sql.SQLException refused) {
                        assertThat(refused.getMessage()).as(mode + ": " + sql).doesNotContain(SSN);
                    } finally {
                        c.rollback();
                        c.setAutoCommit(true);
                    }
                }
            }
        }
    }

    @Test
    void aChildsTaggedColumnIsMaskedInCopyAndCursorsOverItsParent() throws Exception {
        try (Connection c = gw.connect()) {
            StringWriter out = new StringWriter();
            ((PGConnection) c).getCopyAPI().copyOut("COPY (SELECT ssn FROM inh_parent) TO STDOUT", out);
            assertThat(out.toString()).contains("\n").doesNotContain(SSN);
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("DECLARE inh_cur CURSOR FOR SELECT ssn FROM inh_gp");
                assertThat(values(s, "FETCH ALL FROM inh_cur")).isNotEmpty().doesNotContain(SSN);
            }
            c.rollback();
        }
    }

    @Test
    void aParentTheSessionMakesDoesNotReadATaggedChildInClear() throws Exception {
        // Refused: each is an ALTER of a table holding PHI.
        refusedOrMasked(List.of(
                List.of("CREATE TABLE inh_own_parent (id int, ssn text)", "ALTER TABLE inh_loose INHERIT inh_own_parent"),
                List.of("CREATE TABLE inh_own_parent (id int, ssn text) PARTITION BY LIST (id)",
                        "ALTER TABLE inh_own_parent ATTACH PARTITION inh_loose FOR VALUES IN (6)")));
    }

    @Test
    void aTemporaryChildHoldingCopiedPhiIsNotReadInClearThroughAParentTheSessionMade() throws Exception {
        // Refused: CREATE TABLE ... INHERITS, and a copy of PHI into a temporary table.
        refusedOrMasked(List.of(
                List.of("CREATE TABLE inh_own_parent (id int, ssn text)",
                        "CREATE TEMP TABLE inh_tmp () INHERITS (inh_own_parent)",
                        "INSERT INTO inh_tmp SELECT id, ssn FROM inh_loose"),
                List.of("CREATE TABLE inh_own_parent (id int, ssn text)",
                        "CREATE TEMP TABLE inh_tmp (id int, ssn text)",
                        "INSERT INTO inh_tmp SELECT id, ssn FROM inh_loose",
                        "ALTER TABLE inh_tmp INHERIT inh_own_parent"),
                List.of("CREATE TABLE inh_own_parent (id int, ssn text)",
                        "CREATE TEMP TABLE inh_tmp AS SELECT id, ssn FROM inh_loose",
                        "ALTER TABLE inh_tmp INHERIT inh_own_parent")));
    }

    /**
     * Runs each route from a masked session, autocommit and in a transaction, then reads {@code inh_own_parent}:
     * a step is refused (42501) or the read is masked; either way the tagged table is no child of it afterwards.
     */
    private static void refusedOrMasked(List<List<String>> routes) throws Exception {
        for (List<String> route : routes) {
            for (boolean inTransaction : List.of(false, true)) {
                List<String> seen = new ArrayList<>();
                try (Connection c = gw.connect(); Statement s = c.createStatement()) {
                    c.setAutoCommit(!inTransaction);
                    try {
                        for (String sql : route) {
                            s.execute(sql);
                        }
                        seen.addAll(values(s, "SELECT ssn FROM inh_own_parent"));
                        seen.addAll(values(s, "SELECT * FROM inh_own_parent"));
                    } catch (java.sql.SQLException refused) {
                        assertThat(refused.getSQLState()).as(route + " " + refused.getMessage()).isEqualTo("42501");
                    }
                }
                assertThat(String.join(",", seen)).as(route + ", in a transaction: " + inTransaction)
                        .doesNotContain(SSN);
                try (Connection su = db.superuser(); Statement s = su.createStatement()) {
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_inherits WHERE inhrelid"
                            + " = 'inh_loose'::regclass")) {
                        rs.next();
                        assertThat(rs.getInt(1)).as(route + ": the tagged table was not made a child").isZero();
                    }
                    s.execute("DROP TABLE IF EXISTS inh_own_parent CASCADE");
                }
            }
        }
    }

    @Test
    void aTaggedTableAnotherSessionMakesAChildIsNotReadInClearThroughTheParent() throws Exception {
        for (boolean inTransaction : List.of(false, true)) {
            List<String> seen = new ArrayList<>();
            try (Connection c = gw.connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(!inTransaction);
                try (Connection su = db.superuser(); Statement admin = su.createStatement()) {
                    admin.execute("CREATE TABLE inh_own_parent (id int, ssn text)");
                    admin.execute("ALTER TABLE inh_own_parent OWNER TO " + db.user());
                }
                seen.addAll(values(s, "SELECT count(*) FROM inh_own_parent")); // the catalog now knows the parent
                try (Connection su = db.superuser(); Statement admin = su.createStatement()) {
                    admin.execute("ALTER TABLE inh_loose INHERIT inh_own_parent");
                }
                Thread.sleep(1_200); // past the shared reading's age, so the next check reads the catalog again
                try {
                    seen.addAll(values(s, "SELECT ssn FROM inh_own_parent"));
                } catch (java.sql.SQLException ended) {
                    // The catalog moved under the session: ended before the read (decisions 0075, 0081).
                }
            } finally {
                try (Connection su = db.superuser(); Statement admin = su.createStatement()) {
                    admin.execute("DO $$ BEGIN ALTER TABLE inh_loose NO INHERIT inh_own_parent;"
                            + " EXCEPTION WHEN others THEN NULL; END $$");
                    admin.execute("DROP TABLE IF EXISTS inh_own_parent");
                }
            }
            assertThat(String.join(",", seen)).as("in a transaction: " + inTransaction).doesNotContain(SSN);
        }
    }

    private static List<String> values(Statement s, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    out.add(rs.getString(i));
                }
            }
        }
        return out;
    }
}
