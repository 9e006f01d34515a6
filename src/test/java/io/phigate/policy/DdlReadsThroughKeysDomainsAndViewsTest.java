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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three routes by which DDL the session makes tests PHI values held elsewhere (decision 0069, attacker's read),
 * through pgjdbc and the real gateway: a partition takes its parent's foreign keys, so attaching a table (or creating
 * a partition and then writing to it) tests guessed values against the referenced PHI column; a domain's new
 * constraint is tested against every column of that type, in tables the statement does not name; and an index on a
 * materialized view evaluates the PHI it was filled from.
 */
class DdlReadsThroughKeysDomainsAndViewsTest {
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
            // Made by a DBA: a partitioned table keyed to patients, holding no PHI itself, and a domain a PHI
            // column uses, both owned by the app role.
            s.execute("CREATE TABLE ddlkey_visits (mrn text REFERENCES patients (mrn)) PARTITION BY LIST (mrn)");
            s.execute("CREATE DOMAIN ddlkey_ssn AS text");
            s.execute("CREATE TABLE ddlkey_people (id int, ssn ddlkey_ssn)");
            s.execute("INSERT INTO ddlkey_people VALUES (1, '123-45-6789')");
            s.execute("CREATE MATERIALIZED VIEW ddlkey_mv AS SELECT id, ssn FROM patients");
            for (String t : List.of("TABLE ddlkey_visits", "TABLE ddlkey_people", "DOMAIN ddlkey_ssn",
                    "MATERIALIZED VIEW ddlkey_mv")) {
                s.execute("ALTER " + t + " OWNER TO " + db.user());
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.mrn: mrn
                      public.patients.ssn: ssn
                      public.ddlkey_people.ssn: ssn
                    detection: { enabled: false }
                    discover_comments: false
                masking:
                  key_file: masking.key
                roles:
                  - { name: analyst, match: { subject: "%1$sanalyst" }, upstreams: [clinical] }
                  - name: builder
                    match: { subject: "%1$sbuilder" }
                    upstreams: [clinical]
                    unmasked: [mrn, ssn, free_text]
                    allow: [{ tables: ["public.ddlkey_*"], operations: [select, insert, update, delete, ddl] }]
                """.formatted(PREFIX));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP MATERIALIZED VIEW IF EXISTS ddlkey_mv CASCADE");
        s.execute("DROP TABLE IF EXISTS ddlkey_visits, ddlkey_people, ddlkey_mine, ddlkey_part CASCADE");
        s.execute("DROP DOMAIN IF EXISTS ddlkey_ssn CASCADE");
    }

    private static Connection as(String role, String mode) throws Exception {
        return ThroughTheGateway.as(gw, PREFIX + role, mode);
    }

    /** Directly, attaching a table of guesses answers whether they exist in patients.mrn; through the gateway, no. */
    @Test
    void attachingOrCreatingAPartitionOfATableKeyedToPhiIsAReadOfTheReferencedColumn() throws Exception {
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE ddlkey_mine (mrn text)");
            s.execute("INSERT INTO ddlkey_mine VALUES ('no-such-mrn')");
            assertThatThrownBy(() -> s.execute("ALTER TABLE ddlkey_visits ATTACH PARTITION ddlkey_mine DEFAULT"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23503"));
            s.execute("DROP TABLE ddlkey_mine");
        }
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as("analyst", mode); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE ddlkey_mine (mrn text)");
                s.execute("INSERT INTO ddlkey_mine VALUES ('no-such-mrn')");
                assertRefused(s, "ALTER TABLE ddlkey_visits ATTACH PARTITION ddlkey_mine DEFAULT",
                        "public.patients.mrn");
                assertRefused(s, "CREATE TABLE ddlkey_part PARTITION OF ddlkey_visits DEFAULT", "public.patients.mrn");
                s.execute("DROP TABLE ddlkey_mine");
            }
        }
        try (Connection c = as("builder", "extended"); Statement s = c.createStatement()) {
            // Its scope writes both tables, but does not read patients, which the cloned key tests.
            s.execute("CREATE TABLE public.ddlkey_mine (mrn text)");
            assertRefused(s, "ALTER TABLE public.ddlkey_visits ATTACH PARTITION public.ddlkey_mine DEFAULT",
                    "SELECT on public.patients");
            assertRefused(s, "CREATE TABLE public.ddlkey_part PARTITION OF public.ddlkey_visits DEFAULT",
                    "SELECT on public.patients");
            s.execute("DROP TABLE public.ddlkey_mine");
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_inherits WHERE inhparent = 'ddlkey_visits'::regclass")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("no partition was attached or made").isZero();
        }
    }

    /** Directly, a domain's new CHECK answers whether some ssn of that type matches; through the gateway, refused. */
    @Test
    void aDomainConstraintTestedAgainstAPhiColumnIsRefusedForAMaskedSession() throws Exception {
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("ALTER DOMAIN ddlkey_ssn ADD CONSTRAINT probe CHECK (VALUE NOT LIKE '1%')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23514"));
        }
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as("analyst", mode); Statement s = c.createStatement()) {
                assertRefused(s, "ALTER DOMAIN ddlkey_ssn ADD CONSTRAINT probe CHECK (VALUE NOT LIKE '1%')",
                        "ALTER DOMAIN");
                assertRefused(s, "ALTER DOMAIN ddlkey_ssn ADD CONSTRAINT probe CHECK (VALUE NOT LIKE '1%') NOT VALID",
                        "ALTER DOMAIN");
                assertRefused(s, "ALTER DOMAIN ddlkey_ssn VALIDATE CONSTRAINT probe", "ALTER DOMAIN");
                assertRefused(s, "ALTER DOMAIN ddlkey_ssn SET NOT NULL", "ALTER DOMAIN");
                s.execute("ALTER DOMAIN ddlkey_ssn DROP NOT NULL"); // tests nothing
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_constraint WHERE contypid = 'ddlkey_ssn'::regtype")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    /**
     * Read through the gateway, the materialized view's ssn comes back masked (lineage sees through it); an index,
     * statistics or CLUSTER over that column evaluates the patients' values it was filled from, and an expression
     * that fails for some of them answered directly (22012).
     */
    @Test
    void anIndexOnAMaterializedViewIsAPredicateOverTheColumnsItWasFilledFrom() throws Exception {
        String probe = "CREATE INDEX ddlkey_mv_probe ON ddlkey_mv ((1 / (CASE WHEN ssn LIKE '1%' THEN 0 ELSE 1 END)))";
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE ddlkey_cmp AS SELECT count(*) FILTER (WHERE ssn LIKE '1%') AS n FROM patients");
            try (ResultSet rs = s.executeQuery("SELECT n FROM ddlkey_cmp")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).as("some synthetic ssn starts with 1, so the probe fails directly")
                        .isPositive();
            }
            assertThatThrownBy(() -> s.execute(probe))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22012"));
        }
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as("analyst", mode); Statement s = c.createStatement()) {
                assertRefused(s, probe, "public.patients.ssn");
                assertRefused(s, "CREATE UNIQUE INDEX ddlkey_mv_u ON ddlkey_mv (ssn)", "public.patients.ssn");
                assertRefused(s, "CREATE STATISTICS ddlkey_mv_s ON id, ssn FROM ddlkey_mv", "public.patients.ssn");
                s.execute("CREATE INDEX ddlkey_mv_id" + mode + " ON ddlkey_mv (id)");
                assertRefused(s, "CLUSTER ddlkey_mv USING ddlkey_mv_id" + mode, "public.patients.ssn");
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_indexes WHERE tablename = 'ddlkey_mv'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("only the indexes on id").isEqualTo(2);
        }
    }
}
