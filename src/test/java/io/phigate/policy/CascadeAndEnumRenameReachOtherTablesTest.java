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
 * Every CASCADE the grammar reads as a DropBehavior drops what depends on the object, in tables the statement does
 * not name: {@code ALTER TABLE own DROP CONSTRAINT own_pkey CASCADE} drops a DBA's table's foreign key to it. And an
 * enum's {@code RENAME VALUE} changes what every stored label reads as, in every table holding the enum (decision
 * 0080). A scope role whose rules name only {@code public.casc_own_*} owns them all (every session logs in as the
 * same upstream role), so ownership is no boundary: only its scope stands between it and the DBA's tables.
 */
class CascadeAndEnumRenameReachOtherTablesTest {
    static final String PREFIX = "system:serviceaccount:clinical:casc-";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.casc_ref.note: free_text
                    detection: { enabled: false }
                    discover_comments: false
                masking:
                  key_file: masking.key
                roles:
                  - name: builder
                    match: { subject: "%1$sbuilder" }
                    upstreams: [clinical]
                    unmasked: [ssn, free_text]
                    allow: [{ tables: ["public.casc_own_*"], operations: [select, insert, update, ddl] }]
                  - name: keeper
                    match: { subject: "%1$skeeper" }
                    upstreams: [clinical]
                    unmasked: [ssn, free_text]
                    allow: [{ tables: ["public.*"], operations: [select, insert, update, ddl] }]
                """.formatted(PREFIX));
    }

    /** Each test starts from the DBA's tables as made, owned by the upstream role the gateway logs in as. */
    @BeforeEach
    void tables() throws Exception {
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE TABLE casc_own_parent (id int PRIMARY KEY)");
            s.execute("INSERT INTO casc_own_parent VALUES (1)");
            s.execute("CREATE TABLE casc_ref (pid int REFERENCES casc_own_parent (id), note text)");
            s.execute("CREATE DOMAIN casc_own_code AS text CONSTRAINT casc_own_short CHECK (length(VALUE) < 20)");
            s.execute("CREATE TYPE casc_own_mood AS ENUM ('sad', 'happy')");
            s.execute("CREATE TABLE casc_diary (id int, mood casc_own_mood)");
            s.execute("INSERT INTO casc_diary VALUES (1, 'sad')");
            s.execute("CREATE TABLE casc_moods (moods casc_own_mood[])");
            for (String t : List.of("TABLE casc_own_parent", "TABLE casc_ref", "DOMAIN casc_own_code",
                    "TYPE casc_own_mood", "TABLE casc_diary", "TABLE casc_moods")) {
                s.execute("ALTER " + t + " OWNER TO " + db.user());
            }
        }
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
        s.execute("DROP TABLE IF EXISTS casc_ref, casc_own_parent, casc_diary, casc_moods CASCADE");
        s.execute("DROP DOMAIN IF EXISTS casc_own_code CASCADE");
        s.execute("DROP TYPE IF EXISTS casc_own_mood, casc_own_new CASCADE");
    }

    @Test
    void aCascadeInAnyAlterFormIsAnUnresolvedWriteForAScopeRole() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, PREFIX + "builder", mode); Statement s = c.createStatement()) {
                for (String cascade : List.of(
                        "ALTER TABLE public.casc_own_parent DROP CONSTRAINT casc_own_parent_pkey CASCADE",
                        "ALTER TABLE IF EXISTS public.casc_own_parent DROP CONSTRAINT IF EXISTS casc_own_parent_pkey"
                                + " CASCADE, ADD COLUMN x int",
                        "ALTER DOMAIN public.casc_own_code DROP CONSTRAINT casc_own_short CASCADE",
                        "DROP INDEX public.casc_own_parent_pkey CASCADE",
                        "DROP SCHEMA IF EXISTS casc_own_nothing CASCADE")) {
                    assertRefused(s, cascade, "DROP ... CASCADE drops");
                }
            }
        }
        try (Connection c = ThroughTheGateway.as(gw, PREFIX + "builder", "extended");
             Statement s = c.createStatement()) {
            // RESTRICT drops nothing another object depends on (the server refuses where something does): it runs.
            s.execute("ALTER DOMAIN public.casc_own_code DROP CONSTRAINT casc_own_short RESTRICT");
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_constraint WHERE conrelid = 'casc_ref'::regclass"
                     + " AND contype = 'f'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("the DBA's table keeps its foreign key").isEqualTo(1);
        }
    }

    @Test
    void anEnumsRenameValueWritesEveryTableHoldingTheEnum() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, PREFIX + "builder", mode); Statement s = c.createStatement()) {
                assertRefused(s, "ALTER TYPE public.casc_own_mood RENAME VALUE 'sad' TO 'glad'",
                        "UPDATE+DDL on public.casc_");
                assertRefused(s, "ALTER TYPE casc_own_mood RENAME VALUE 'sad' TO 'glad'", "casc_");
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT mood::text FROM casc_diary")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).as("the stored label reads as before").isEqualTo("sad");
        }
        try (Connection c = ThroughTheGateway.as(gw, PREFIX + "builder", "extended");
             Statement s = c.createStatement()) {
            // A new label changes nothing stored: it runs.
            s.execute("ALTER TYPE public.casc_own_mood ADD VALUE IF NOT EXISTS 'calm'");
        }
        try (Connection c = ThroughTheGateway.as(gw, PREFIX + "keeper", "extended");
             Statement s = c.createStatement()) {
            // Update and ddl on every table holding the enum: the rename runs.
            s.execute("ALTER TYPE public.casc_own_mood RENAME VALUE 'sad' TO 'glad'");
            try (ResultSet rs = s.executeQuery("SELECT mood::text FROM public.casc_diary")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("glad");
            }
        }
    }
}
