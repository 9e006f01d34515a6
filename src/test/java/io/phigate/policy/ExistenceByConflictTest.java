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
 * A write into a column a unique key checks is a lookup of the value written (decision 0035), one per statement
 * (0093). Under ON CONFLICT DO NOTHING a multi-row INSERT does not fail at the first existing value: its row count
 * (or RETURNING) says which of the written values exist, so {@code VALUES ('g1'), ('g2'), ...} tested as many guesses
 * as the statement held, whatever the conflict target (inferred, a named constraint, a partial unique index). A
 * write of more than one row under ON CONFLICT into a checked masked column is now refused (decision 0095).
 */
class ExistenceByConflictTest {
    static final String LOOKER = "system:serviceaccount:clinical:conflict-lookup";
    static final String MASKED = "system:serviceaccount:clinical:conflict-masked";
    private static final String DROP = "DROP TABLE IF EXISTS public.conflict_unique, public.conflict_partial,"
            + " public.conflict_excluded";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static String ssn;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
            s.execute("CREATE TABLE public.conflict_unique (ssn text CONSTRAINT conflict_unique_ssn UNIQUE, note text)");
            s.execute("CREATE TABLE public.conflict_partial (ssn text, active boolean)");
            s.execute("CREATE UNIQUE INDEX conflict_partial_ssn ON public.conflict_partial (ssn) WHERE active");
            // A partial exclusion constraint: a new row conflicts with one of the same id only where both rows' SSNs
            // match the predicate, so a write answers a condition on another row's SSN.
            s.execute("CREATE TABLE public.conflict_excluded (id int, ssn text,"
                    + " EXCLUDE USING btree (id WITH =) WHERE (ssn LIKE '1%'))");
            s.execute("INSERT INTO public.conflict_excluded SELECT id, ssn FROM patients WHERE ssn IS NOT NULL");
            s.execute("INSERT INTO public.conflict_unique (ssn) SELECT ssn FROM patients WHERE ssn IS NOT NULL");
            s.execute("INSERT INTO public.conflict_partial SELECT ssn, true FROM patients WHERE ssn IS NOT NULL");
            s.execute("GRANT SELECT, INSERT, UPDATE ON public.conflict_unique, public.conflict_partial,"
                    + " public.conflict_excluded TO "
                    + TestDatabase.get().user());
            try (ResultSet rs = s.executeQuery("SELECT ssn FROM conflict_unique ORDER BY ssn LIMIT 1")) {
                assertThat(rs.next()).isTrue();
                ssn = rs.getString(1);
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.conflict_unique.ssn: ssn
                      public.conflict_partial.ssn: ssn
                      public.conflict_excluded.ssn: ssn
                    detection:
                      enabled: false
                roles:
                  - name: looker
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    lookup: [ssn]
                  - name: masked
                    match: { subject: "%s" }
                    upstreams: [clinical]
                """.formatted(LOOKER, MASKED));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
        }
    }

    @Test
    void manyRowsUnderOnConflictAreManyLookups() throws Exception {
        String two = "VALUES ('" + ssn + "'), ('000-00-0000')";
        List<String> attacks = List.of(
                "INSERT INTO conflict_unique (ssn) " + two + " ON CONFLICT DO NOTHING",
                "INSERT INTO conflict_unique (ssn) " + two + " ON CONFLICT (ssn) DO NOTHING",
                "INSERT INTO conflict_unique (ssn) " + two + " ON CONFLICT ON CONSTRAINT conflict_unique_ssn DO NOTHING",
                "INSERT INTO conflict_unique (ssn) " + two + " ON CONFLICT DO NOTHING RETURNING 1",
                "INSERT INTO conflict_unique (ssn) " + two + " ON CONFLICT (ssn) DO UPDATE SET note = 'x'"
                        + " RETURNING xmax = 0",
                "INSERT INTO conflict_partial (ssn, active) VALUES ('" + ssn + "', true), ('000-00-0000', true)"
                        + " ON CONFLICT (ssn) WHERE active DO NOTHING",
                "INSERT INTO conflict_unique (ssn) SELECT unnest(ARRAY['" + ssn + "', '000-00-0000'])"
                        + " ON CONFLICT DO NOTHING",
                "WITH a AS (INSERT INTO conflict_unique (ssn) VALUES ('" + ssn + "') ON CONFLICT DO NOTHING RETURNING 1)"
                        + " INSERT INTO conflict_unique (ssn) VALUES ('000-00-0000') ON CONFLICT DO NOTHING");
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode); Statement s = c.createStatement()) {
                for (String sql : attacks) {
                    assertRefused(s, sql, "holds PHI (ssn) this session sees masked");
                }
                // One row is one lookup, as a WHERE ssn = constant is: still allowed.
                assertThat(s.executeUpdate("INSERT INTO conflict_unique (ssn) VALUES ('" + ssn + "')"
                        + " ON CONFLICT DO NOTHING")).isZero();
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM conflict_unique WHERE ssn = '000-00-0000'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isZero();
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%holds PHI (ssn) this session sees masked%'", 2 * attacks.size()))
                .hasSizeGreaterThanOrEqualTo(2 * attacks.size());
    }

    /**
     * A partial exclusion constraint's predicate reads the other row's columns as a partial unique index's does:
     * {@code INSERT (id, ssn) VALUES (5, '1')} fails exactly when patient 5's SSN begins with 1. Its index is not
     * unique, so the catalog read counted only its key, and a masked role without lookups searched SSNs by prefix
     * through an untagged id (an attacker's review of decision 0095).
     */
    @Test
    void aPartialExclusionConstraintAnswersForWhatItsPredicateReads() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, MASKED, mode); Statement s = c.createStatement()) {
                assertRefused(s, "INSERT INTO conflict_excluded (id, ssn) VALUES (1, '1')",
                        "key, unique or foreign-key check");
                assertRefused(s, "INSERT INTO conflict_excluded (id, ssn) VALUES (1, '1') ON CONFLICT DO NOTHING",
                        "key, unique or foreign-key check");
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM conflict_excluded WHERE ssn = '1'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isZero();
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%conflict_excluded%key, unique or foreign-key check%'", 4))
                .hasSizeGreaterThanOrEqualTo(4);
    }
}
