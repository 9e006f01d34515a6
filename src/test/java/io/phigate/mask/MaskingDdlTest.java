package io.phigate.mask;

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
 * A session that sees PHI masked cannot build a route for PHI inside the server: with an upstream role that owns
 * a tagged table, a trigger or rule would copy {@code NEW.ssn} into a table nobody tagged on the next UPDATE, a
 * COMMENT would drop a tag read from the column's comment, and an ALTER would retype a tagged column. Each is
 * refused with 42501 before it runs, and the database shows it never ran.
 */
class MaskingDdlTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;
    static final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> warnings =
            new ch.qos.logback.core.read.ListAppender<>();

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ddl_owned_phi, ddl_owned_sink CASCADE");
            s.execute("DROP SCHEMA IF EXISTS ddl_schema, ddl_schema2 CASCADE");
            s.execute("CREATE SCHEMA ddl_schema AUTHORIZATION " + db.user());
            // Renaming a schema needs CREATE on the database as well as owning it: the privileges of an app role.
            s.execute("DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO %I', current_database(), '"
                    + db.user() + "'); END $$");
            s.execute("CREATE TABLE ddl_schema.people (ssn text)");
            s.execute("INSERT INTO ddl_schema.people VALUES ('987-65-4320')");
            s.execute("ALTER TABLE ddl_schema.people OWNER TO " + db.user());
            s.execute("CREATE TABLE ddl_owned_phi (id int, ssn text, label text)");
            s.execute("INSERT INTO ddl_owned_phi VALUES (1, '123-45-6789', 'Zebediah')");
            s.execute("CREATE TABLE ddl_owned_sink (v text)");
            s.execute("ALTER TABLE ddl_owned_phi OWNER TO " + db.user());
            s.execute("ALTER TABLE ddl_owned_sink OWNER TO " + db.user());
            s.execute("COMMENT ON COLUMN ddl_owned_phi.label IS 'phi:name'");
        }
        ch.qos.logback.classic.Logger policies = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "io.phigate.session.SessionPolicies");
        warnings.start();
        policies.addAppender(warnings);
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.ddl_owned_phi.ssn: ssn
                      ddl_schema.people.ssn: ssn
                      public.ddl_owned_phi.ssn_typo: ssn
                    discover_comments: true
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
            s.execute("DROP TABLE IF EXISTS ddl_owned_phi, ddl_owned_sink CASCADE");
            s.execute("DROP SCHEMA IF EXISTS ddl_schema, ddl_schema2 CASCADE");
            s.execute("DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM %I', current_database(), '"
                    + db.user() + "'); END $$");
        }
    }

    @Test
    void routesForPhiInsideTheServerAreRefusedBeforeTheyRun() throws Exception {
        List<String> routes = List.of(
                "CREATE FUNCTION ddl_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ddl_owned_sink"
                        + " VALUES (NEW.ssn); RETURN NEW; END $$",
                "/* looks harmless */ create or replace function ddl_fn2() returns int language sql as 'select 1'",
                "CREATE TRIGGER ddl_tr BEFORE UPDATE ON ddl_owned_phi FOR EACH ROW EXECUTE FUNCTION ddl_fn()",
                "CREATE CONSTRAINT TRIGGER ddl_ctr AFTER UPDATE ON ddl_owned_phi FOR EACH ROW EXECUTE FUNCTION ddl_fn()",
                "CREATE RULE ddl_rule AS ON UPDATE TO ddl_owned_phi DO ALSO INSERT INTO ddl_owned_sink VALUES (OLD.ssn)",
                "CREATE PUBLICATION ddl_pub FOR TABLE ddl_owned_phi",
                "CREATE SERVER ddl_srv FOREIGN DATA WRAPPER postgres_fdw",
                "ALTER FUNCTION ddl_missing() OWNER TO CURRENT_USER",
                "COMMENT ON COLUMN ddl_owned_phi.label IS 'nothing to see'",
                "ALTER TABLE ddl_owned_phi ALTER COLUMN label TYPE bytea USING convert_to(label, 'UTF8')",
                "alter table public.ddl_owned_phi rename column ssn to s2",
                "ALTER TABLE ddl_owned_phi DISABLE TRIGGER ALL",
                "GRANT SELECT ON ddl_owned_phi TO PUBLIC",
                "PREPARE ddl_p AS SELECT ssn FROM ddl_owned_phi; CREATE TABLE ddl_copy AS EXECUTE ddl_p",
                "PREPARE ddl_q AS SELECT ssn FROM ddl_owned_phi; EXPLAIN ANALYZE CREATE TABLE ddl_copy AS EXECUTE ddl_q",
                "CREATE ROLE ddl_reader LOGIN PASSWORD 'x'",
                "ALTER SCHEMA ddl_schema RENAME TO ddl_schema2",
                "CREATE DATABASE ddl_copy_db TEMPLATE clinical",
                "ALTER DATABASE clinical SET search_path = ddl_schema, public");
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            for (String sql : routes) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(sql).isEqualTo("42501"));
            }
            s.execute("UPDATE ddl_owned_phi SET id = id");
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            assertThat(count(s, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'ddl_fn%'")).isZero();
            assertThat(count(s, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ddl_%'")).isZero();
            assertThat(count(s, "SELECT count(*) FROM pg_rules WHERE rulename = 'ddl_rule'")).isZero();
            assertThat(count(s, "SELECT count(*) FROM ddl_owned_sink")).isZero();
            assertThat(count(s, "SELECT count(*) FROM pg_class WHERE relname = 'ddl_copy'")).isZero();
            assertThat(count(s, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ddl_schema'")).isOne();
            assertThat(count(s, "SELECT count(*) FROM information_schema.role_table_grants WHERE table_name ="
                    + " 'ddl_owned_phi' AND grantee = 'PUBLIC'")).isZero();
            assertThat(count(s, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'ddl_owned_phi'"
                    + " AND column_name = 'ssn' AND data_type = 'text'")).isOne();
            try (ResultSet rs = s.executeQuery("SELECT col_description('ddl_owned_phi'::regclass, 3)")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("phi:name");
            }
        }
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn, label FROM ddl_owned_phi")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("[SSN]");
            assertThat(rs.getString(2)).isEqualTo("[NAME]");
        }
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM ddl_schema.people")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("[SSN]");
        }
    }

    /** A tag naming no column masks nothing: the operator hears of it, by name, when a catalog is read. */
    @Test
    void aTagThatNamesNoColumnIsWarnedOf() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
        List<String> said = warnings.list.stream().map(e -> e.getFormattedMessage())
                .filter(m -> m.contains("does not have")).toList();
        // Once per catalog read: two sessions on one catalog say it once (other tests' DDL may reload it).
        assertThat(said).isNotEmpty().hasSizeLessThanOrEqualTo(3)
                .allSatisfy(m -> assertThat(m).contains("public.ddl_owned_phi.ssn_typo").doesNotContain("ddl_schema.people"));
    }

    @Test
    void schemaWorkThatCannotMovePhiStillRuns() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE ddl_scratch (x int)");
            s.execute("ALTER TABLE ddl_scratch ADD COLUMN y int");
            s.execute("CREATE INDEX ON ddl_owned_sink (v)");
            s.execute("ALTER TABLE ddl_owned_sink ADD COLUMN IF NOT EXISTS note text");
            s.execute("DROP TABLE ddl_scratch");
        }
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
