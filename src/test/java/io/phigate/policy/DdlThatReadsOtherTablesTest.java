package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DDL whose server side reads or tests another table's values (decision 0069), through pgjdbc and the real gateway:
 * a foreign key makes every later insert a test of whether a guessed value exists in the referenced column, an
 * index, CLUSTER or ATTACH PARTITION evaluates a masked column over every row. Each is judged as a read of those
 * columns: refused (42501) for a session that sees them masked, and for a role whose scope does not read the
 * referenced table. An ALTER of a view's options or a DROP CONSTRAINT ... CASCADE counts as installing code, so a
 * risk rule holds it; a table's storage options do not.
 */
class DdlThatReadsOtherTablesTest {
    static final String PREFIX = "system:serviceaccount:clinical:";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE TABLE ddlread_owned (id int, mrn text)");
            s.execute("INSERT INTO ddlread_owned VALUES (1, 'MRN-A1'), (2, 'MRN-B2'), (3, 'MRN-C3')");
            s.execute("CREATE INDEX ddlread_owned_mrn_idx ON ddlread_owned (mrn)");
            // The app role may reference patients (an existence probe needs nothing more).
            s.execute("GRANT REFERENCES ON patients TO " + db.user());
            s.execute("CREATE VIEW ddlread_v WITH (security_barrier) AS SELECT id FROM ddlread_owned");
            s.execute("CREATE TABLE ddlread_keyed (id int PRIMARY KEY)");
            s.execute("CREATE TABLE ddlread_child (k int REFERENCES ddlread_keyed)");
            for (String t : List.of("ddlread_owned", "ddlread_v", "ddlread_keyed", "ddlread_child")) {
                s.execute("ALTER TABLE " + t + " OWNER TO " + db.user());
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.mrn: mrn
                      public.patients.ssn: ssn
                      public.ddlread_owned.mrn: mrn
                    detection: { enabled: false }
                    discover_comments: false
                masking:
                  key_file: masking.key
                approvers:
                  dba: { match: { issuer: "%2$s", claims: { groups: "dba" } } }
                rules:
                  - name: hold-truncate
                    when: { operations: [truncate], tables: [public.ddlread_keyed] }
                    require_approval: { group: dba, mode: ticket }
                roles:
                  - { name: analyst, match: { subject: "%1$sanalyst" }, upstreams: [clinical] }
                  - { name: looker, match: { subject: "%1$slooker" }, upstreams: [clinical], lookup: [mrn] }
                  - name: builder
                    match: { subject: "%1$sbuilder" }
                    upstreams: [clinical]
                    # other sessions' statement texts are tagged free_text where PHI is declared
                    unmasked: [mrn, ssn, free_text]
                    allow: [{ tables: ["public.ddlread_*"], operations: [select, insert, update, delete, ddl] }]
                """.formatted(PREFIX, GatewayHarness.ISSUER));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("REVOKE REFERENCES ON patients FROM " + db.user());
        }
    }

    /** Every table and view this test makes (each probe's own, so that it runs again in a second mode). */
    private static void dropAll(Statement s) throws SQLException {
        s.execute("DO $$ DECLARE r record; BEGIN FOR r IN SELECT relname FROM pg_class c JOIN pg_namespace n"
                + " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relname LIKE 'ddlread%' AND relkind IN"
                + " ('r', 'p', 'v') LOOP EXECUTE format('DROP %s IF EXISTS public.%I CASCADE', CASE WHEN"
                + " (SELECT relkind FROM pg_class WHERE relname = r.relname AND relnamespace = 'public'::regnamespace)"
                + " = 'v' THEN 'VIEW' ELSE 'TABLE' END, r.relname); END LOOP; END $$");
    }

    private static Connection as(String role, String mode) throws Exception {
        return ThroughTheGateway.as(gw, PREFIX + role, mode);
    }

    /** Against the database directly, a foreign key to patients.mrn answers which guessed MRNs exist. */
    @Test
    void aForeignKeyIsAnExistenceProbeDirectlyAndIsRefusedThroughTheGateway() throws Exception {
        String real;
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT mrn FROM patients WHERE id = 1")) {
                assertThat(rs.next()).isTrue();
                real = rs.getString(1);
            }
            s.execute("CREATE TABLE ddlread_probe (x text REFERENCES patients (mrn))");
            s.execute("INSERT INTO ddlread_probe VALUES ('" + real + "')");
            assertThatThrownBy(() -> s.execute("INSERT INTO ddlread_probe VALUES ('no-such-mrn')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23503"));
            s.execute("DROP TABLE ddlread_probe");
        }
        for (String mode : List.of("simple", "extended")) {
            for (String role : List.of("analyst", "looker")) {
                String own = "ddlread_" + role + "_" + mode;
                try (Connection c = as(role, mode); Statement s = c.createStatement()) {
                    assertRefused(s, "CREATE TABLE " + own + " (x text REFERENCES patients (mrn))",
                            "public.patients.mrn");
                    s.execute("CREATE TABLE " + own + " (x text)");
                    assertRefused(s, "ALTER TABLE " + own + " ADD FOREIGN KEY (x) REFERENCES patients (mrn)",
                            "foreign key");
                    assertRefused(s, "CREATE TABLE " + own + "_3 (x text, CONSTRAINT k FOREIGN KEY (x)"
                            + " REFERENCES public.patients)", "public.patients.mrn");
                    // A key to an unmasked column of a PHI-holding table reads that table as a copy of its rows
                    // would: refused too, in its own words; a key to a table without PHI is ordinary.
                    assertRefused(s, "CREATE TABLE " + own + "_4 (x int REFERENCES patients (id))",
                            "foreign key referencing public.patients");
                    s.execute("CREATE TABLE " + own + "_fine (x int REFERENCES ddlread_keyed (id))");
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_constraint WHERE"
                            + " conrelid = 'public." + own + "'::regclass AND contype = 'f'")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getInt(1)).as("the refused ALTER never reached the server").isZero();
                    }
                }
            }
        }
        try (Connection c = as("builder", "simple"); Statement s = c.createStatement()) {
            // Its masked columns aside, a key reads the referenced table, which this role's scope does not.
            assertRefused(s, "CREATE TABLE public.ddlread_mine (x int REFERENCES patients (id))", "SELECT on public.patients");
            s.execute("CREATE TABLE public.ddlread_mine (k int REFERENCES ddlread_keyed (id))");
        }
        assertThat(completed("42501", "%REFERENCES%patients%", 17)).hasSize(17)
                .allSatisfy(r -> assertThat(r.get("outcome")).isEqualTo("refused"));
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'CREATE TABLE ddlread_%_% (x text"
                + " REFERENCES patients (mrn))'")).hasSize(4);
    }

    /** An index, CLUSTER or ATTACH PARTITION over a masked column evaluates it over every row: refused. */
    @Test
    void indexesClusteringAndPartitionBoundsOverAMaskedColumnAreRefused() throws Exception {
        try (Connection c = as("analyst", "extended"); Statement s = c.createStatement()) {
            assertRefused(s, "CREATE UNIQUE INDEX ddlread_u ON ddlread_owned (mrn)", "public.ddlread_owned.mrn");
            assertRefused(s, "CREATE UNIQUE INDEX ddlread_p ON ddlread_owned ((1)) WHERE mrn LIKE 'MRN-A%'",
                    "public.ddlread_owned.mrn");
            assertRefused(s, "CREATE STATISTICS ddlread_s ON id, mrn FROM ddlread_owned", "public.ddlread_owned.mrn");
            assertRefused(s, "CLUSTER ddlread_owned USING ddlread_owned_mrn_idx", "public.ddlread_owned.mrn");
            s.execute("CREATE TABLE ddlread_parts (id int, mrn text) PARTITION BY LIST (mrn)");
            assertRefused(s, "ALTER TABLE ddlread_parts ATTACH PARTITION ddlread_owned FOR VALUES IN ('MRN-A1')",
                    "public.ddlread_owned");
            // Forms over the table's own masked column were refused before, as ALTERs of a table holding PHI.
            assertRefused(s, "ALTER TABLE ddlread_owned ALTER COLUMN id TYPE int USING 1 / (length(mrn) - 6)",
                    "ALTER of public.ddlread_owned");
            assertRefused(s, "ALTER TABLE ddlread_owned ADD CHECK (mrn NOT LIKE 'MRN-A%') NOT VALID",
                    "ALTER of public.ddlread_owned");
            s.execute("CREATE INDEX ddlread_id ON ddlread_owned (id)");
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pg_indexes WHERE tablename = 'ddlread_owned'),"
                     + " (SELECT count(*) FROM pg_inherits WHERE inhrelid = 'ddlread_owned'::regclass),"
                     + " (SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'ddlread_s')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("its own index and the one on id only").isEqualTo(2);
            assertThat(rs.getInt(2)).isZero();
            assertThat(rs.getInt(3)).isZero();
        }
        assertThat(completed("42501", "%ddlread_owned%", 7)).hasSize(7)
                .allSatisfy(r -> assertThat(r.get("outcome")).isEqualTo("refused"));
    }

    /**
     * A view's options are not plain: a risk rule (here one holding TRUNCATE) holds them as code; a table's storage
     * options run unheld. A CASCADE drops what other tables hold: refused to a scope role before any rule (0080).
     */
    @Test
    void viewOptionsAndCascadeAreHeldWhereStorageOptionsRun() throws Exception {
        try (Connection c = as("builder", "simple"); Statement s = c.createStatement()) {
            assertHeld(s, "ALTER VIEW ddlread_v SET (security_barrier = false)");
            assertHeld(s, "ALTER TABLE ddlread_v SET (security_barrier = false)");
            assertHeld(s, "ALTER VIEW ddlread_v RESET (security_barrier)");
            ThroughTheGateway.assertRefused(s, "ALTER TABLE ddlread_keyed DROP CONSTRAINT ddlread_keyed_pkey CASCADE",
                    "DROP ... CASCADE drops");
            s.execute("ALTER TABLE ddlread_keyed SET (fillfactor = 70, toast.autovacuum_enabled = false)");
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT reloptions::text FROM pg_class WHERE relname = 'ddlread_v'),"
                     + " (SELECT count(*) FROM pg_constraint WHERE conrelid = 'ddlread_child'::regclass),"
                     + " (SELECT reloptions::text FROM pg_class WHERE relname = 'ddlread_keyed')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("{security_barrier=true}");
            assertThat(rs.getInt(2)).as("the child's foreign key is still there").isEqualTo(1);
            assertThat(rs.getString(3)).contains("fillfactor=70");
        }
        assertThat(completed("PA001", "ALTER % ddlread_%", 3)).hasSize(3);
    }

    /** The completion records, with {@code sqlstate}, of the statements requested with text like {@code pattern}. */
    private static List<Map<String, Object>> completed(String sqlstate, String pattern, int atLeast) throws Exception {
        return gw.auditEventually("kind = 'statement_completed' and sqlstate = '" + sqlstate + "' and exists (select 1"
                + " from audit_event r where r.kind = 'statement_requested' and r.session_id = audit_event.session_id"
                + " and r.statement_id = audit_event.statement_id and r.statement like '" + pattern + "')", atLeast);
    }

    private static void assertHeld(Statement s, String sql) {
        assertThatThrownBy(() -> s.execute(sql))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).as(e.getMessage())
                        .isEqualTo("PA001"));
    }
}
