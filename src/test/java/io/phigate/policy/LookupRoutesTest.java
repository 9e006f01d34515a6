package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A granted lookup is one guess per column per statement whatever route it takes (decision 0094). Decision 0093
 * counted the WHERE conjuncts only: a lookup in a JOIN's ON, inside a view read by the statement, in a USING join
 * beside a join of masked keys, or a value written into a column a unique key checks (one per row), each tested one
 * more guess in the same statement.
 */
class LookupRoutesTest {
    static final String LOOKER = "system:serviceaccount:clinical:lookup-routes";
    static final String NOBODY = "000-00-0000";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static String ssn;

    @BeforeAll
    static void start() throws Exception {
        ssn = ThroughTheGateway.firstSsn();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            dropOwn(s);
            s.execute("CREATE VIEW public.lookup_routes_known AS SELECT id FROM patients WHERE ssn = '" + ssn + "'");
            s.execute("CREATE VIEW public.lookup_routes_nobody AS SELECT id FROM patients WHERE ssn = '" + NOBODY + "'");
            s.execute("CREATE TABLE public.lookup_routes_keys (id int, k text UNIQUE)");
            s.execute("INSERT INTO public.lookup_routes_keys VALUES (1, 'known-key')");
            s.execute("CREATE TABLE public.lookup_routes_pairs (a text REFERENCES lookup_routes_keys (k),"
                    + " b text REFERENCES lookup_routes_keys (k))");
            String user = TestDatabase.get().user();
            s.execute("GRANT SELECT ON public.lookup_routes_known, public.lookup_routes_nobody TO " + user);
            s.execute("GRANT SELECT, INSERT, UPDATE ON public.lookup_routes_keys, public.lookup_routes_pairs TO "
                    + user);
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.lookup_routes_keys.k: mrn
                    detection:
                      enabled: false
                roles:
                  - name: looker
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    lookup: [ssn, mrn]
                """.formatted(LOOKER));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            dropOwn(s);
        }
    }

    private static void dropOwn(Statement s) throws Exception {
        s.execute("DROP VIEW IF EXISTS public.lookup_routes_known, public.lookup_routes_nobody");
        s.execute("DROP TABLE IF EXISTS public.lookup_routes_pairs, public.lookup_routes_keys");
    }

    @Test
    void oneLookupInAJoinStillAnswers() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode);
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM patients p"
                         + " JOIN encounters e ON e.patient_id = p.id AND p.ssn = ?")) {
                ps.setString(1, ssn);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).as(mode).isPositive();
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%JOIN encounters e ON%'"
                + " and detail like '%lookup:ssn%'", 2)).hasSizeGreaterThanOrEqualTo(2);
    }

    @Test
    void lookupsInJoinsCountWithThoseInWhere() throws Exception {
        refusedInBothModes("lookup-routes-join", List.of(
                "SELECT count(*) FROM patients p JOIN encounters e ON p.ssn = '" + ssn + "'"
                        + " JOIN medications m ON p.ssn = '" + NOBODY + "' /* lookup-routes-join */",
                "SELECT count(*) FROM patients p JOIN encounters e ON p.ssn = '" + ssn + "'"
                        + " WHERE p.ssn = '" + NOBODY + "' /* lookup-routes-join */",
                // Beside a join of masked keys, the constant comparisons in ON passed as part of that join.
                "SELECT count(a.id), count(b.id) FROM encounters e"
                        + " LEFT JOIN patients a ON a.ssn = '" + ssn + "'"
                        + " LEFT JOIN patients b ON b.ssn = a.ssn AND b.ssn = '" + NOBODY + "'"
                        + " /* lookup-routes-join */"),
                "a second lookup of the column in one statement");
    }

    @Test
    void aUsingJoinIsNoJoinOfMaskedKeys() throws Exception {
        // USING (ssn) against a list of guesses, beside a join of masked keys that made every JOIN use of ssn pass.
        refusedInBothModes("lookup-routes-using", List.of(
                "SELECT count(*) FROM (VALUES ('" + ssn + "'), ('" + NOBODY + "')) g(ssn)"
                        + " JOIN patients c USING (ssn) JOIN patients a ON a.ssn = c.ssn /* lookup-routes-using */",
                "SELECT count(*) FROM (VALUES ('" + ssn + "'), ('" + NOBODY + "')) g(ssn)"
                        + " NATURAL JOIN (SELECT ssn FROM patients) p"
                        + " JOIN patients a ON a.ssn = p.ssn /* lookup-routes-using */"),
                "JOIN USING");
    }

    @Test
    void aColumnUnderAnotherNameWithdrawsAJoinOfMaskedKeys() throws Exception {
        // The join's exemption was withdrawn by a column's name: read as s through a CTE or subquery, the SSN's
        // LIKE passed beside a.ssn = b.ssn, a prefix search.
        refusedInBothModes("lookup-routes-renamed", List.of(
                "WITH c AS (SELECT ssn AS s FROM patients) SELECT count(*) FROM patients a"
                        + " JOIN patients b ON a.ssn = b.ssn WHERE EXISTS (SELECT 1 FROM c WHERE s LIKE '6%')"
                        + " /* lookup-routes-renamed */",
                "SELECT count(*) FROM patients a JOIN patients b ON a.ssn = b.ssn"
                        + " JOIN (SELECT id, ssn AS s FROM patients) x ON x.id = a.id AND x.s LIKE '6%'"
                        + " /* lookup-routes-renamed */"),
                "holds PHI (ssn)");
        try (Connection c = ThroughTheGateway.as(gw, LOOKER, "extended"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM patients a JOIN patients b ON a.ssn = b.ssn")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).as("a join of masked keys, what tokens show anyway").isPositive();
        }
    }

    @Test
    void viewsBringTheirLookupsIntoTheStatementThatReadsThem() throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, LOOKER, "extended"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM lookup_routes_known")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isPositive();
        }
        refusedInBothModes("lookup-routes-views", List.of(
                "SELECT (SELECT count(*) FROM lookup_routes_known), (SELECT count(*) FROM lookup_routes_nobody)"
                        + " /* lookup-routes-views */",
                "SELECT (SELECT count(*) FROM lookup_routes_known), (SELECT count(*) FROM lookup_routes_known k)"
                        + " /* lookup-routes-views */",
                "SELECT (SELECT count(*) FROM lookup_routes_known),"
                        + " (SELECT count(*) FROM patients WHERE ssn = '" + NOBODY + "') /* lookup-routes-views */"),
                "a second lookup of the column in one statement");
    }

    @Test
    void eachRowWrittenIntoAUniqueMaskedColumnIsALookup() throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, LOOKER, "extended"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            assertThat(s.executeUpdate("INSERT INTO lookup_routes_keys VALUES (2, 'one-key')"
                    + " ON CONFLICT DO NOTHING")).isEqualTo(1);
            assertThat(s.executeUpdate("INSERT INTO lookup_routes_keys VALUES (3, 'other-key')"
                    + " ON CONFLICT (k) DO UPDATE SET k = excluded.k")).isEqualTo(1);
            c.rollback();
        }
        refusedInBothModes("lookup-routes-writes", List.of(
                // ON CONFLICT DO NOTHING's row count says how many of the written values exist.
                "INSERT INTO lookup_routes_keys VALUES (2, 'known-key'), (3, 'guess-2'), (4, 'guess-3')"
                        + " ON CONFLICT DO NOTHING /* lookup-routes-writes */",
                "WITH a AS (INSERT INTO lookup_routes_keys VALUES (2, 'known-key') ON CONFLICT DO NOTHING RETURNING 1),"
                        + " b AS (INSERT INTO lookup_routes_keys VALUES (3, 'guess-2') ON CONFLICT DO NOTHING"
                        + " RETURNING 1) SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)"
                        + " /* lookup-routes-writes */",
                "WITH a AS (INSERT INTO lookup_routes_keys VALUES (2, 'known-key') ON CONFLICT DO NOTHING RETURNING 1)"
                        + " SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM lookup_routes_keys"
                        + " WHERE k = 'guess-2') /* lookup-routes-writes */",
                "INSERT INTO lookup_routes_keys SELECT g, 'guess-' || g FROM generate_series(2, 9) g"
                        + " ON CONFLICT DO NOTHING /* lookup-routes-writes */",
                "INSERT INTO lookup_routes_keys VALUES (2, 'known-key') ON CONFLICT (k) DO UPDATE SET k = 'guess-2'"
                        + " /* lookup-routes-writes */",
                "UPDATE lookup_routes_keys SET k = v FROM (VALUES (1, 'known-key'), (2, 'guess-2')) g(i, v)"
                        + " WHERE id = i /* lookup-routes-writes */"),
                "lookup");
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM lookup_routes_keys")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    @Test
    void eachValueOfARowCheckedAgainstOneKeyIsALookup() throws Exception {
        // Two foreign keys to the same masked key: one row tested two guesses, the failing constraint's name
        // (lookup_routes_pairs_b_fkey) saying which. Both values were counted at one site, the row.
        try (Connection c = ThroughTheGateway.as(gw, LOOKER, "extended"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            assertThat(s.executeUpdate("INSERT INTO lookup_routes_pairs (a) VALUES ('known-key')")).isEqualTo(1);
            c.rollback();
        }
        refusedInBothModes("lookup-routes-pairs", List.of(
                "INSERT INTO lookup_routes_pairs VALUES ('known-key', 'guess-2') /* lookup-routes-pairs */",
                "INSERT INTO lookup_routes_pairs (b, a) VALUES ('guess-2', 'known-key') /* lookup-routes-pairs */"),
                "a second lookup of the column in one statement");
    }

    @Test
    void aWritesConditionWithdrawsAJoinOfMaskedKeys() throws Exception {
        // The join of masked keys let every WHERE use of the column pass, the UPDATE's LIKE among them: a search.
        refusedInBothModes("lookup-routes-write-condition", List.of(
                "WITH u AS (UPDATE lookup_routes_keys SET id = id WHERE k LIKE 'k%' RETURNING 1)"
                        + " SELECT count(*) FROM u, lookup_routes_keys a JOIN lookup_routes_keys b ON a.k = b.k"
                        + " /* lookup-routes-write-condition */"),
                "holds PHI (mrn)");
    }

    @Test
    void aTemporaryTableShadowingAMaskedTableIsNoSideOfAJoinOfMaskedKeys() throws Exception {
        // The server reads an unqualified name in pg_temp first; the analysis keeps the catalog's table so its tags
        // mask, and took the column read through it for that table's own: a.ssn = b.ssn against a temporary
        // "patients" of guesses passed as a join of masked keys and said which of them exist, all in one statement.
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode); Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE patients (id int, ssn text)");
                s.execute("INSERT INTO pg_temp.patients VALUES (1, '" + ssn + "'), (2, '" + NOBODY + "')");
                s.execute("CREATE TEMP TABLE lookup_routes_keys (id int, k text)");
                s.execute("INSERT INTO pg_temp.lookup_routes_keys VALUES (1, 'known-key'), (2, 'guess-2')");
                assertRefused(s, "SELECT b.id FROM public.patients a JOIN patients b ON a.ssn = b.ssn"
                        + " /* lookup-routes-shadow */", "holds PHI (ssn)");
                assertRefused(s, "SELECT b.id FROM public.patients a WHERE EXISTS (SELECT 1 FROM patients b"
                        + " WHERE b.ssn = a.ssn) /* lookup-routes-shadow */", "holds PHI (ssn)");
                assertRefused(s, "SELECT b.id FROM public.lookup_routes_keys a JOIN lookup_routes_keys b"
                        + " ON a.k = b.k /* lookup-routes-shadow */", "holds PHI (mrn)");
                // Named as pg_temp's, the table is the session's own: judged by what was written into it.
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_temp.patients")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(2);
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%lookup-routes-shadow%'",
                6)).hasSize(6);
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%holds PHI%would steer what comes back in%'", 6)).hasSizeGreaterThanOrEqualTo(6);
    }

    /** Each statement refused (42501) in simple and extended mode, every refusal audited with the statement. */
    private static void refusedInBothModes(String marker, List<String> statements, String named) throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode); Statement s = c.createStatement()) {
                for (String sql : statements) {
                    assertRefused(s, sql, named);
                }
            }
        }
        int expected = 2 * statements.size();
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%" + marker + "%'",
                expected)).hasSize(expected);
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%" + named + "%'", expected)).hasSizeGreaterThanOrEqualTo(expected);
    }
}
