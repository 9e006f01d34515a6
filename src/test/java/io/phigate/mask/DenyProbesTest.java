package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.clients.ClientTools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Deny by default in a masked session (issue 19), as data: every line of {@code masking/deny-probes.txt} runs as
 * its role through pgjdbc (simple and extended protocol) and, role by role, through psql, and no seeded PHI value
 * may reach the client in any byte. Beside the probes: the predicate-reconstruction attack shown to rebuild an SSN
 * against the database directly and to rebuild nothing through the gateway, derived values compared with what the
 * database computes, and row_limit over COPY TO STDOUT.
 */
class DenyProbesTest {
    static final String PREFIX = "system:serviceaccount:clinical:";
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
                  public.patients.first_name: name
                  public.patients.last_name: name
                  public.patients.mrn: mrn
                  public.patients.birth_date: dob
                  public.patients.phone: phone
                  public.patients.email: email
                  public.patients.street: address
                  public.patients.city: address
                  public.patients.zip: zip
                  public.encounters.notes: free_text
                  public.deny_probe_compound.stay: dob
                  public.deny_probe_compound.phones: phone
                  public.deny_probe_compound.contact: address
                  public.deny_probe_loose.mrn: mrn
                subjects: { public.patients: id }
            masking:
              key_file: masking.key
            roles:
              - { name: analyst, match: { subject: "%1$sanalyst" }, upstreams: [clinical] }
              - { name: looker, match: { subject: "%1$slooker" }, upstreams: [clinical], lookup: [mrn] }
              - { name: bounded, match: { subject: "%1$sbounded" }, upstreams: [clinical] }
              - { name: limited, match: { subject: "%1$slimited" }, upstreams: [clinical], row_limit: 5 }
              - { name: bencher, match: { subject: "%1$sbencher" }, upstreams: [clinical] }
              - name: reader
                match: { subject: "%1$sreader" }
                upstreams: [clinical]
                allow: [{ tables: ["public.*", "pg_catalog.*", "information_schema.*"], operations: [select] }]
            approvers:
              probe-approvers:
                match: { issuer: "%2$s", claims: { groups: "probe-approvers" } }
            rules:
              - name: hold-truncate
                when: { operations: [truncate], tables: [deny_probe_sink] }
                require_approval: { group: probe-approvers, mode: ticket }
              - name: no-unlimited-phi
                when: { phi_without_limit: true, roles: [bounded] }
                deny: "phi_without_limit: add a LIMIT"
              - name: hold-child-writes
                when: { operations: [truncate, delete], tables: [deny_probe_child] }
                require_approval: { group: probe-approvers, mode: ticket }
              - name: wipe
                when: { no_where: true, roles: [analyst, looker, bounded, limited, reader] }
                deny: "an UPDATE or DELETE needs a WHERE"
            """.formatted(PREFIX, GatewayHarness.ISSUER);

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> seeds;
    static String mrnOfPatient1;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("CREATE OR REPLACE FUNCTION deny_probe_fn(int) RETURNS text LANGUAGE sql"
                    + " AS 'SELECT ssn FROM patients WHERE id = $1'");
            s.execute("CREATE OR REPLACE FUNCTION deny_probe_eq(text, text) RETURNS boolean LANGUAGE sql"
                    + " AS 'SELECT $1 = $2'");
            s.execute("DROP OPERATOR IF EXISTS public.=== (text, text)");
            s.execute("CREATE OPERATOR public.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = deny_probe_eq)");
            s.execute("CREATE TABLE IF NOT EXISTS deny_probe_sink (v text)");
            s.execute("GRANT ALL ON deny_probe_sink TO " + db.user());
            s.execute("CREATE TABLE IF NOT EXISTS deny_probe_parent (id int PRIMARY KEY)");
            s.execute("CREATE TABLE IF NOT EXISTS deny_probe_child (pid int REFERENCES deny_probe_parent"
                    + " ON DELETE CASCADE)");
            s.execute("INSERT INTO deny_probe_parent VALUES (1), (2), (3) ON CONFLICT DO NOTHING");
            s.execute("INSERT INTO deny_probe_child SELECT id FROM deny_probe_parent"
                    + " WHERE NOT EXISTS (SELECT 1 FROM deny_probe_child)");
            s.execute("GRANT ALL ON deny_probe_parent, deny_probe_child TO " + db.user());
            // PHI held in an array, a range and a composite: the vetted steps are total over scalars only.
            s.execute("DO $$ BEGIN CREATE TYPE deny_probe_contact AS (street text, phone text);"
                    + " EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            s.execute("CREATE TABLE IF NOT EXISTS deny_probe_compound (id int, stay tstzrange, phones text[],"
                    + " contact deny_probe_contact)");
            s.execute("INSERT INTO deny_probe_compound SELECT 1, tstzrange(now(), NULL), ARRAY['555-0100'],"
                    + " ROW('1 Main St', NULL)::deny_probe_contact WHERE NOT EXISTS (SELECT 1 FROM deny_probe_compound)");
            s.execute("GRANT ALL ON deny_probe_compound TO " + db.user());
            // An accent- and case-insensitive collation an administrator might create: equality under it matches
            // values that differ, so a lookup compared under it (or on a column declared with it) is a search.
            s.execute("CREATE COLLATION IF NOT EXISTS deny_probe_ci (provider = icu, locale = 'und-u-ks-level1',"
                    + " deterministic = false)");
            s.execute("CREATE OR REPLACE VIEW deny_probe_ci_view AS SELECT id, mrn COLLATE deny_probe_ci AS mrn"
                    + " FROM patients");
            s.execute("GRANT SELECT ON deny_probe_ci_view TO " + db.user());
            s.execute("CREATE TABLE IF NOT EXISTS deny_probe_loose (id int, mrn text COLLATE deny_probe_ci)");
            s.execute("GRANT ALL ON deny_probe_loose TO " + db.user());
        }
        seeds = MaskingLeakTest.seededPhi(db);
        assertThat(seeds).hasSizeGreaterThan(100);
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT mrn FROM patients WHERE id = 1")) {
            assertThat(rs.next()).isTrue();
            mrnOfPatient1 = rs.getString(1);
        }
        gw = GatewayHarness.startWithPolicy(dir, POLICY);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP OPERATOR IF EXISTS public.=== (text, text)"); // other suites' sessions need not read it
        }
    }

    record Probe(String expected, String role, String sql, String names, int line) {
    }

    static List<Probe> probes() throws IOException {
        List<Probe> out = new ArrayList<>();
        try (InputStream in = DenyProbesTest.class.getResourceAsStream("/masking/deny-probes.txt")) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank() || lines[i].startsWith("#")) {
                    continue;
                }
                String[] f = lines[i].split("\t");
                String sql = f[2].replace("{mrn of patient 1}", mrnOfPatient1);
                out.add(new Probe(f[0], f[1], sql, f.length > 3 ? f[3] : null, i + 1));
            }
        }
        return out;
    }

    @TestFactory
    List<DynamicTest> everyProbeThroughPgjdbc() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Probe p : probes()) {
            for (String mode : List.of("simple", "extended")) {
                tests.add(DynamicTest.dynamicTest("line " + p.line + " [" + p.role + ", " + mode + "] " + p.sql,
                        () -> runProbe(p, mode)));
            }
        }
        return tests;
    }

    private void runProbe(Probe p, String mode) throws Exception {
        try (MaskingLeakTest.Relay relay = new MaskingLeakTest.Relay(gw.port())) {
            Properties props = new Properties();
            props.setProperty("preferQueryMode", mode);
            String error = null;
            String state = null;
            int rows = 0;
            try (Connection c = connect(relay.port(), p.role, props); Statement s = c.createStatement()) {
                if (s.execute(p.sql)) {
                    ResultSet rs = s.getResultSet(); // drained and closed with the statement
                    while (rs.next()) {
                        rows++;
                    }
                }
                MaskingLeakTest.drain(s);
            } catch (SQLException e) {
                error = e.getMessage();
                state = e.getSQLState();
            }
            assertNoSeeds("line " + p.line, relay.received() + (error == null ? "" : error));
            switch (p.expected) {
                case "refused" -> {
                    assertThat(state).as("line %d should be refused: %s", p.line, error).isEqualTo("42501");
                    assertThat(error).as("line %d", p.line).contains(p.names);
                }
                case "held" -> assertThat(state).as("line %d should be held for approval: %s", p.line, error)
                        .isEqualTo("PA001");
                case "masked" -> assertThat(error).as("line %d should run", p.line).isNull();
                case "allowed" -> {
                    assertThat(error).as("line %d should run", p.line).isNull();
                    assertThat(rows).as("line %d should return rows", p.line).isPositive();
                }
                default -> fail("line " + p.line + ": unknown expectation " + p.expected);
            }
        }
    }

    /** psql, role by role: every refusal reported as 42501, and nothing seeded in anything it printed. */
    @Test
    void everyProbeThroughPsql() throws Exception {
        Path psql = ClientTools.find("psql");
        for (String role : List.of("analyst", "looker", "bounded")) {
            StringBuilder script = new StringBuilder("\\set ON_ERROR_STOP 0\n");
            int refused = 0;
            for (Probe p : probes()) {
                if (p.role.equals(role)) {
                    script.append(p.sql).append(";\n");
                    refused += p.expected.equals("refused") ? 1 : 0;
                }
            }
            Path file = dir.resolve(role + ".sql");
            Files.writeString(file, script);
            ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(PREFIX + role, Duration.ofMinutes(10)),
                    "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", role,
                    "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir, psql.toString(), "-X",
                    "-v", "VERBOSITY=verbose", "-f", file.toString());
            assertNoSeeds("psql as " + role, r.output());
            assertThat(r.output().split("ERROR:  42501:", -1)).as(role).hasSize(refused + 1);
        }
    }

    /**
     * pgbench, unmodified, initialises and runs select-only and TPC-B through a masked role without a failure. The
     * policy holds TRUNCATE of a table for approval; a session that creates pgbench's tables cannot know they carry
     * no trigger (its catalog predates them, decision 0068), so its TRUNCATE of them may be held. The next session
     * reads a catalog that knows them, and the initialisation runs.
     */
    @Test
    void pgbenchRunsThroughAMaskedRole() throws Exception {
        // A masked role of its own: pgbench -i empties the tables it made with TRUNCATE, a delete without a WHERE to
        // the "wipe" rule the probe roles have (decision 0099).
        Map<String, String> env = Map.of("PGPASSWORD", gw.token(PREFIX + "bencher", Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "bencher",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable");
        String pgbench = ClientTools.find("pgbench").toString();
        ClientTools.Result first = ClientTools.run(env, dir, pgbench, "-i", "-s", "1", "-q");
        if (first.exitCode() != 0) {
            assertThat(first.output()).as("held only at the TRUNCATE of the tables it had just created")
                    .contains("rule \"hold-truncate\" requires approval").contains("truncate table pgbench_accounts");
        }
        ClientTools.Result init = ClientTools.run(env, dir, pgbench, "-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        for (List<String> run : List.of(List.of("-S", "-c", "4", "-j", "2", "-T", "3"),
                List.of("-S", "-M", "prepared", "-c", "4", "-j", "2", "-T", "3"), List.of("-c", "2", "-T", "3"))) {
            List<String> command = new ArrayList<>(List.of(pgbench));
            command.addAll(run);
            ClientTools.Result r = ClientTools.run(env, dir, command.toArray(String[]::new));
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).as(run.toString()).contains("number of failed transactions: 0");
            System.out.println("pgbench " + run + " through a masked role: " + r.output().lines()
                    .filter(l -> l.startsWith("tps")).findFirst().orElse("?"));
        }
    }

    /** psql's describe commands read the catalog through vetted helpers only: they all work for a masked role. */
    @Test
    void psqlDescribeFamilyWorksForAMaskedRole() throws Exception {
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(PREFIX + "analyst", Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "analyst",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir, ClientTools.find("psql").toString(), "-X",
                "-v", "ON_ERROR_STOP=1", "-c", "\\d patients", "-c", "\\d+ patients", "-c", "\\dt+", "-c", "\\dv",
                "-c", "\\di", "-c", "\\ds", "-c", "\\dn+", "-c", "\\df+ lower", "-c", "\\dT", "-c", "\\du",
                "-c", "\\l", "-c", "\\dx", "-c", "\\dp patients", "-c", "\\sf deny_probe_fn");
        assertThat(r.output()).doesNotContain("ERROR").contains("Table \"public.patients\"").contains("List of schemas");
        assertNoSeeds("psql describe", r.output());
    }

    /**
     * The attack of issue 19: outputs derive from constants only, and WHERE compares one SSN character with each
     * candidate. Against the database directly it rebuilds patient 1's SSN; through phigate it is refused.
     */
    @Test
    void predicateReconstructionRecoversAnSsnDirectlyAndNothingThroughTheGateway() throws Exception {
        String attack = "SELECT i, c FROM generate_series(1, 11) i, (VALUES ('0'), ('1'), ('2'), ('3'), ('4'), ('5'),"
                + " ('6'), ('7'), ('8'), ('9'), ('-')) v(c) WHERE EXISTS (SELECT 1 FROM patients WHERE id = 1"
                + " AND substr(ssn, i, 1) = c) ORDER BY i";
        String ssn;
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            ssn = rebuild(s, attack);
            try (ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE id = 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(ssn).as("the probe is a real attack").isEqualTo(rs.getString(1)).hasSize(11);
            }
        }
        try (MaskingLeakTest.Relay relay = new MaskingLeakTest.Relay(gw.port());
             Connection c = connect(relay.port(), "analyst", new Properties()); Statement s = c.createStatement()) {
            String rebuilt = null;
            String state = null;
            try {
                rebuilt = rebuild(s, attack);
            } catch (SQLException e) {
                state = e.getSQLState();
            }
            assertThat(state).isEqualTo("42501");
            assertThat(rebuilt).isNull();
            assertThat(relay.received()).doesNotContain(ssn);
        }
    }

    private static String rebuild(Statement s, String attack) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery(attack)) {
            while (rs.next()) {
                out.append(rs.getString(2));
            }
        }
        return out.toString();
    }

    /** Each expression's value as the database computes it differs from what the masked session receives. */
    @Test
    void derivedValuesAreRedactedNotPassedThroughTheTypesOperator() throws Exception {
        List<String> derived = List.of("reverse(zip)", "substr(zip, 3)", "substr(mrn, 1, 1)",
                "greatest(birth_date, '1900-01-01')::text", "left(zip, 3)", "right(mrn, 4)");
        for (String expr : derived) {
            String sql = "SELECT " + expr + " FROM patients WHERE id = 1";
            String direct;
            try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(sql)) {
                assertThat(rs.next()).isTrue();
                direct = rs.getString(1);
            }
            try (Connection c = connect(gw.port(), "analyst", new Properties()); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(sql)) {
                assertThat(rs.next()).isTrue();
                String masked = rs.getString(1);
                assertThat(masked).as(expr).isNotEqualTo(direct);
                assertThat(masked).as(expr).satisfiesAnyOf(v -> assertThat(v).isNull(),
                        v -> assertThat(v).startsWith("[").endsWith("]"));
            }
        }
    }

    @Test
    void rowLimitStopsCopyToStdoutInAMaskedSession() throws Exception {
        try (Connection c = connect(gw.port(), "limited", new Properties())) {
            CopyManager copy = c.unwrap(BaseConnection.class).getCopyAPI();
            ByteArrayOutputStream csv = new ByteArrayOutputStream();
            long rows = copy.copyOut("COPY (SELECT id, ssn FROM patients ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
                    csv);
            String[] lines = csv.toString(StandardCharsets.UTF_8).split("\n");
            assertThat(rows).isEqualTo(5);
            assertThat(lines).hasSize(6);
            assertThat(lines[0]).isEqualTo("id,ssn");
            assertThat(lines[1]).contains("[SSN]");
            assertNoSeeds("copy", csv.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aPermittedLookupIsOnTheAuditRecordWithItsColumn() throws Exception {
        try (Connection c = connect(gw.port(), "looker", new Properties()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM patients WHERE mrn = 'deny-probe-lookup'")) {
            assertThat(rs.next()).isFalse();
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%deny-probe-lookup%'"
                + " and detail like '%lookup:mrn%'", 1)).hasSize(1);
    }

    @Test
    void aLookupUnderANondeterministicCollationIsRefusedAndRecorded() throws Exception {
        try (Connection c = connect(gw.port(), "looker", new Properties()); Statement s = c.createStatement()) {
            for (String sql : List.of("SELECT id FROM patients WHERE mrn COLLATE deny_probe_ci = 'deny-probe-ci'",
                    "SELECT id FROM deny_probe_loose WHERE mrn = 'deny-probe-ci'")) {
                assertThatThrownBy(() -> s.executeQuery(sql)).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            // Nor can the session copy the column into a temporary one declared with the collation: a value
            // written where the catalog cannot say what checks it is itself a lookup (decision 0035).
            s.execute("CREATE TEMP TABLE deny_probe_ci_copy (m text COLLATE deny_probe_ci)");
            assertThatThrownBy(() -> s.execute("INSERT INTO deny_probe_ci_copy SELECT mrn FROM patients"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%public.patients.mrn holds PHI%'", 1)).isNotEmpty();
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%its collation is nondeterministic%'", 1)).isNotEmpty();
        assertThat(gw.audit("kind = 'statement_requested' and statement like '%deny-probe-ci%'"
                + " and detail like '%lookup:mrn%'")).isEmpty();
    }

    private static Connection connect(int port, String role, Properties extra) throws SQLException, IOException {
        Properties p = new Properties();
        p.setProperty("user", role);
        p.setProperty("password", gw.token(PREFIX + role, Duration.ofMinutes(10)));
        p.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p);
    }

    private static void assertNoSeeds(String where, String received) {
        for (String seed : seeds) {
            if (received.contains(seed)) {
                fail(where + ": a seeded PHI value reached the client: " + MaskingLeakTest.context(received, seed));
            }
        }
    }
}
