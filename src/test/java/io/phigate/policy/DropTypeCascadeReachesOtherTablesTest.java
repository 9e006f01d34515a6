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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DROP DOMAIN ... CASCADE drops every column holding the domain's values, DROP TYPE ... CASCADE every table a
 * composite types, DROP TABLE or DROP COLUMN ... CASCADE the views over it, and DROP OWNED every table the role owns,
 * in tables the statement does not name (decision 0074's review). A scope role whose rules name only
 * {@code public.dropc_own_*} owns them all (every session logs in as the same upstream role, so ownership is no
 * boundary): its ddl grant on its own names must not reach the DBA's tables.
 */
class DropTypeCascadeReachesOtherTablesTest {
    static final String BUILDER = "system:serviceaccount:clinical:dropc-builder";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE DOMAIN dropc_own_code AS text");
            s.execute("CREATE TABLE dropc_secret (id int, ssn dropc_own_code)");
            s.execute("INSERT INTO dropc_secret VALUES (1, '123-45-6789')");
            s.execute("CREATE TYPE dropc_own_comp AS (ssn text)");
            s.execute("CREATE TABLE dropc_typed OF dropc_own_comp");
            s.execute("INSERT INTO dropc_typed VALUES ('123-45-6789')");
            s.execute("CREATE TABLE dropc_own_base (id int, note text)");
            s.execute("CREATE VIEW dropc_report AS SELECT note FROM dropc_own_base");
            for (String t : List.of("DOMAIN dropc_own_code", "TYPE dropc_own_comp", "TABLE dropc_secret",
                    "TABLE dropc_typed", "TABLE dropc_own_base", "VIEW dropc_report")) {
                s.execute("ALTER " + t + " OWNER TO " + db.user());
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.dropc_secret.ssn: ssn
                    detection: { enabled: false }
                    discover_comments: false
                masking:
                  key_file: masking.key
                roles:
                  - name: builder
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    unmasked: [ssn, free_text]
                    allow: [{ tables: ["public.dropc_own_*"], operations: [select, insert, ddl] }]
                """.formatted(BUILDER));
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
        s.execute("DROP TABLE IF EXISTS dropc_secret, dropc_typed, dropc_own_base CASCADE");
        s.execute("DROP TYPE IF EXISTS dropc_own_comp CASCADE");
        s.execute("DROP DOMAIN IF EXISTS dropc_own_code, dropc_own_new CASCADE");
    }

    @Test
    void aScopeRolesDropCascadeOfItsOwnTypeIsAskedAboutTheTablesItReaches() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, BUILDER, mode); Statement s = c.createStatement()) {
                for (String drop : List.of("DROP DOMAIN public.dropc_own_code CASCADE",
                        "DROP TYPE public.dropc_own_code CASCADE", "DROP TYPE public.dropc_own_comp CASCADE",
                        "DROP TYPE IF EXISTS public.dropc_own_comp, public.dropc_own_code CASCADE",
                        "DROP TABLE public.dropc_own_base CASCADE",
                        "ALTER TABLE public.dropc_own_base DROP COLUMN note CASCADE")) {
                    assertRefused(s, drop, "DROP ... CASCADE drops");
                }
                // Every table is the upstream role's: DROP OWNED would drop them all.
                assertRefused(s, "DROP OWNED BY CURRENT_USER", "DROP OWNED drops");
                assertRefused(s, "REASSIGN OWNED BY CURRENT_USER TO CURRENT_USER", "REASSIGN OWNED hands over");
                // Without CASCADE the server refuses where anything depends on it; with nothing, it drops.
                s.execute("CREATE DOMAIN public.dropc_own_new AS text");
                s.execute("DROP DOMAIN public.dropc_own_new");
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM dropc_secret UNION ALL SELECT ssn FROM dropc_typed"
                     + " UNION ALL SELECT note FROM dropc_report")) {
            assertThat(rs.next()).as("both tables keep their column, the view stands").isTrue();
            assertThat(rs.next()).isTrue();
        }
    }
}
