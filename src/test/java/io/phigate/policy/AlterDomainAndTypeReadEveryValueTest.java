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
 * ALTER DOMAIN and ALTER TYPE ... CASCADE make the server evaluate an expression over every stored value of a type,
 * in tables the statement does not name (decision 0074), through pgjdbc and the real gateway. A scope role whose
 * rules name only {@code public.domcol_own_*} (unmasked, so only its scope stands between it and the DBA's tables)
 * owns a domain and a composite type that the DBA's {@code domcol_secret} and {@code domcol_typed} use: directly, a
 * new CHECK answers whether some stored SSN starts with 1; through the gateway the scope rule is asked about those
 * tables. A masked session is refused the ALTER TYPE form, which no rule refused before.
 */
class AlterDomainAndTypeReadEveryValueTest {
    static final String PREFIX = "system:serviceaccount:clinical:";
    static final String PROBE = "ALTER DOMAIN public.domcol_own_code ADD CONSTRAINT probe CHECK (VALUE NOT LIKE '1%')";
    static final String CONVERT = "ALTER TYPE public.domcol_own_comp ALTER ATTRIBUTE ssn TYPE public.domcol_own_chk"
            + " CASCADE";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            // Made by a DBA and owned by the app role: a domain used by a table outside the scope role's rules,
            // through a domain over it too, and a composite type typing another such table.
            s.execute("CREATE DOMAIN domcol_own_code AS text");
            s.execute("CREATE DOMAIN domcol_own_sub AS domcol_own_code");
            s.execute("CREATE TABLE domcol_secret (id int, ssn domcol_own_code)");
            s.execute("INSERT INTO domcol_secret VALUES (1, '123-45-6789')");
            s.execute("CREATE TABLE domcol_deep (id int, ssn domcol_own_sub)");
            s.execute("CREATE DOMAIN domcol_own_chk AS text CHECK (VALUE NOT LIKE '1%')");
            s.execute("CREATE TYPE domcol_own_comp AS (ssn text)");
            s.execute("CREATE TABLE domcol_typed OF domcol_own_comp");
            s.execute("INSERT INTO domcol_typed VALUES ('123-45-6789')");
            for (String t : List.of("DOMAIN domcol_own_code", "DOMAIN domcol_own_sub", "DOMAIN domcol_own_chk",
                    "TYPE domcol_own_comp", "TABLE domcol_secret", "TABLE domcol_deep", "TABLE domcol_typed")) {
                s.execute("ALTER " + t + " OWNER TO " + db.user());
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.domcol_secret.ssn: ssn
                      public.domcol_typed.ssn: ssn
                    detection: { enabled: false }
                    discover_comments: false
                masking:
                  key_file: masking.key
                roles:
                  - { name: analyst, match: { subject: "%1$sanalyst" }, upstreams: [clinical] }
                  - name: builder
                    match: { subject: "%1$sbuilder" }
                    upstreams: [clinical]
                    unmasked: [ssn, free_text]
                    allow: [{ tables: ["public.domcol_own_*"], operations: [select, insert, ddl] }]
                  - name: keeper
                    match: { subject: "%1$skeeper" }
                    upstreams: [clinical]
                    unmasked: [ssn, free_text]
                    allow:
                      - { tables: ["public.domcol_*"], operations: [select] }
                      - { tables: ["public.domcol_own_*"], operations: [ddl] }
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
        s.execute("DROP TABLE IF EXISTS domcol_secret, domcol_deep, domcol_typed CASCADE");
        s.execute("DROP TYPE IF EXISTS domcol_own_comp CASCADE");
        s.execute("DROP DOMAIN IF EXISTS domcol_own_sub, domcol_own_code, domcol_own_chk, domcol_own_new CASCADE");
    }

    private static Connection as(String role, String mode) throws Exception {
        return ThroughTheGateway.as(gw, PREFIX + role, mode);
    }

    /** Directly, both statements answer whether a stored SSN starts with 1 (23514), in tables they do not name. */
    @Test
    void directlyADomainsNewCheckAndAConvertedAttributeTestEveryStoredValue() throws Exception {
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute(PROBE)).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("23514"));
            assertThatThrownBy(() -> s.execute(CONVERT)).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("23514"));
        }
    }

    @Test
    void aScopeRoleIsAskedAboutEveryTableHoldingTheDomainsValues() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as("builder", mode); Statement s = c.createStatement()) {
                assertRefused(s, PROBE, "SELECT on public.domcol_");
                assertRefused(s, "ALTER DOMAIN public.domcol_own_code SET NOT NULL", "SELECT on public.domcol_");
                // Through the domain over it too: domcol_deep holds domcol_own_sub values.
                assertRefused(s, "ALTER DOMAIN public.domcol_own_sub ADD CONSTRAINT probe CHECK (VALUE NOT LIKE"
                        + " '1%')", "SELECT on public.domcol_deep");
                // NOT VALID tests no stored value; VALIDATE then does.
                s.execute("ALTER DOMAIN public.domcol_own_code ADD CONSTRAINT later CHECK (VALUE NOT LIKE '1%')"
                        + " NOT VALID");
                assertRefused(s, "ALTER DOMAIN public.domcol_own_code VALIDATE CONSTRAINT later",
                        "SELECT on public.domcol_");
                s.execute("ALTER DOMAIN public.domcol_own_code DROP CONSTRAINT later");
                s.execute("ALTER DOMAIN public.domcol_own_code SET DEFAULT 'x'"); // reads no value
                s.execute("ALTER DOMAIN public.domcol_own_code DROP DEFAULT");
                s.execute("ALTER DOMAIN public.domcol_own_code DROP NOT NULL");
                // A domain made after the catalog was read may be used anywhere: refused, not guessed.
                s.execute("CREATE DOMAIN public.domcol_own_new AS text");
                assertRefused(s, "ALTER DOMAIN public.domcol_own_new ADD CONSTRAINT probe CHECK (VALUE <> '')",
                        "could not be resolved");
                s.execute("DROP DOMAIN public.domcol_own_new");
                // ALTER TYPE ... CASCADE rewrites the typed table, outside the scope.
                assertRefused(s, CONVERT, "on public.domcol_typed");
                assertRefused(s, "ALTER TYPE public.domcol_own_comp ADD ATTRIBUTE note text CASCADE",
                        "DDL on public.domcol_typed");
                assertRefused(s, "ALTER TYPE public.domcol_own_comp RENAME ATTRIBUTE ssn TO x CASCADE",
                        "DDL on public.domcol_typed");
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_constraint WHERE contypid IN"
                     + " ('domcol_own_code'::regtype, 'domcol_own_sub'::regtype)")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("no constraint reached the domains").isZero();
        }
    }

    /** With select on every table of the domain and ddl on it, the same statements run (the server answers). */
    @Test
    void aScopeRoleThatReadsEveryTableOfTheDomainMayTestIt() throws Exception {
        try (Connection c = as("keeper", "extended"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute(PROBE)).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("23514"));
            s.execute("ALTER DOMAIN public.domcol_own_code SET NOT NULL");
            s.execute("ALTER DOMAIN public.domcol_own_code DROP NOT NULL");
        }
    }

    /** A masked session's ALTER TYPE ... CASCADE converted tagged values unasked; now the typed table is written. */
    @Test
    void aMaskedSessionIsRefusedConvertingATypedTableHoldingPhi() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as("analyst", mode); Statement s = c.createStatement()) {
                assertRefused(s, CONVERT, "domcol_typed");
                assertRefused(s, PROBE, "ALTER DOMAIN");
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM domcol_typed")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("123-45-6789");
        }
    }
}
