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
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
import java.util.LinkedHashSet;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * The adversarial masking suite: every probe in {@code masking/probes.txt} runs through the gateway with pgjdbc in
 * simple, extended and forced-binary modes (and through psql), and no seeded PHI value from the patients table may
 * appear in any byte the client receives: rows, descriptions, notices, errors or COPY data. Adding a probe is
 * adding a line to that file.
 */
class MaskingLeakTest {
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
                  public.phi_probe_labs.mrn: mrn
                  public.phi_probe_types.age: age
                  public.phi_probe_types.visit: date
                  public.phi_probe_part.name: name
                  public.phi_probe_parent.name: name
                  public.phi_probe_grandkid.name: name
                  public.PhiProbeCase.LastName: name
                  public.phi_probe_a_table_whose_name_is_longer_than_postgresql_keeps_names_x.name: name
                subjects: { public.patients: id }
                discover_comments: true
            masking:
              key_file: masking.key
            roles:
              - { name: agent, match: { subject: "*" }, upstreams: ["*"], lookup: [mrn] }
            """;

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    /** Every PHI value in the demo patients table, in the forms a leak could take. */
    static Set<String> seeds;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("CREATE OR REPLACE VIEW phi_probe_view AS SELECT id, ssn AS ident, upper(last_name) AS ln FROM patients");
            s.execute("CREATE OR REPLACE FUNCTION phi_probe_fn(int) RETURNS text LANGUAGE sql AS 'SELECT ssn FROM patients WHERE id = $1'");
            s.execute("CREATE TABLE IF NOT EXISTS phi_probe_sink (v text)");
            s.execute("CREATE TABLE IF NOT EXISTS phi_probe_labs (mrn text, result text)");
            s.execute("TRUNCATE phi_probe_labs");
            s.execute("INSERT INTO phi_probe_labs SELECT mrn, 'normal' FROM patients WHERE id <= 10");
            s.execute("CREATE TABLE IF NOT EXISTS phi_probe_types (id int, age int, visit date, visit_ts timestamptz, label text)");
            s.execute("TRUNCATE phi_probe_types");
            s.execute("INSERT INTO phi_probe_types VALUES (1, 93, '2021-07-14', '2021-07-14 10:11:12+00', 'a'),"
                    + " (2, 41, '1999-02-28', '1999-02-28 00:00:00+00', 'b')");
            s.execute("CREATE TABLE IF NOT EXISTS phi_probe_notes (id int, note text)");
            s.execute("TRUNCATE phi_probe_notes");
            s.execute("INSERT INTO phi_probe_notes VALUES (1, 'patient called from 617-555-0142 about SSN 219-09-9999,"
                    + " mail jane.roe@example.org'), (2, 'no identifiers here')");
            s.execute("GRANT ALL ON phi_probe_notes TO " + db.user());
            s.execute("COMMENT ON COLUMN phi_probe_types.label IS 'phi:name; tagged next to the schema'");
            // Partitions and inheritance children hold their tagged parent's rows under names of their own; the
            // untagged middle parent returns a tagged grandchild's rows.
            s.execute("DROP TABLE IF EXISTS phi_probe_part, phi_probe_parent, phi_probe_mid CASCADE");
            s.execute("CREATE TABLE phi_probe_part (id int, name text) PARTITION BY RANGE (id)");
            s.execute("CREATE TABLE phi_probe_part_1 PARTITION OF phi_probe_part FOR VALUES FROM (0) TO (1000000)");
            s.execute("INSERT INTO phi_probe_part SELECT id, last_name FROM patients");
            s.execute("CREATE TABLE phi_probe_parent (id int, name text)");
            s.execute("CREATE TABLE phi_probe_kid (extra text) INHERITS (phi_probe_parent)");
            s.execute("INSERT INTO phi_probe_kid (id, name) SELECT id, last_name FROM patients");
            s.execute("CREATE TABLE phi_probe_mid (id int, name text)");
            s.execute("CREATE TABLE phi_probe_grandkid () INHERITS (phi_probe_mid)");
            s.execute("INSERT INTO phi_probe_grandkid SELECT id, first_name FROM patients");
            // A table created under a name longer than the server keeps, tagged in the policy as it was written: the
            // server keeps (and every query names) its first 63 bytes, and so does the tag (decision 0065).
            s.execute("DROP TABLE IF EXISTS phi_probe_a_table_whose_name_is_longer_than_postgresql_keeps_names_x");
            s.execute("CREATE TABLE phi_probe_a_table_whose_name_is_longer_than_postgresql_keeps_names_x (id int, name text)");
            s.execute("INSERT INTO phi_probe_a_table_whose_name_is_longer_than_postgresql_keeps_names_x SELECT id, last_name FROM patients");
            s.execute("GRANT SELECT ON phi_probe_a_table_whose_name_is_longer_than_postgresql_keeps_names_x TO " + db.user());
            // An ORM's quoted mixed-case names; the policy writes them as a person would, unquoted.
            s.execute("DROP TABLE IF EXISTS \"PhiProbeCase\"");
            s.execute("CREATE TABLE \"PhiProbeCase\" (\"Id\" int, \"LastName\" text)");
            s.execute("INSERT INTO \"PhiProbeCase\" SELECT id, last_name FROM patients");
            s.execute("GRANT SELECT ON \"PhiProbeCase\" TO " + db.user());
            s.execute("GRANT SELECT ON phi_probe_part, phi_probe_part_1, phi_probe_parent, phi_probe_kid, phi_probe_mid,"
                    + " phi_probe_grandkid TO " + db.user());
            s.execute("GRANT ALL ON phi_probe_view, phi_probe_sink, phi_probe_labs, phi_probe_types TO " + db.user());
        }
        seeds = seededPhi(db);
        assertThat(seeds).hasSizeGreaterThan(100);
        gw = GatewayHarness.startWithPolicy(dir, POLICY);
    }

    /** Every PHI value in the demo patients table, in the forms a leak could take (SSN and phone also as digits). */
    static Set<String> seededPhi(TestDatabase db) throws SQLException {
        Set<String> seeds = new LinkedHashSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn, first_name, last_name, mrn, phone, email, street, city,"
                     + " to_char(birth_date, 'YYYY-MM-DD') FROM patients")) {
            while (rs.next()) {
                for (int i = 1; i <= 9; i++) {
                    String v = rs.getString(i);
                    if (v == null) {
                        continue;
                    }
                    if (i == 9 && v.endsWith("-01-01")) {
                        continue; // a year-only date is the masked form
                    }
                    if (v.length() >= 5) {
                        seeds.add(v);
                    }
                    if (i == 1 || i == 5) {
                        String digits = v.replaceAll("\\D", "");
                        if (digits.length() >= 9) {
                            seeds.add(digits);
                        }
                    }
                }
            }
        }
        return seeds;
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /** {@code expected} may name the modes it runs in: {@code masked[simple,extended]}. */
    record Probe(String expected, String sql, int line) {
        boolean runsIn(String mode) {
            int b = expected.indexOf('[');
            return b < 0 || java.util.Arrays.asList(expected.substring(b + 1, expected.length() - 1).split(",")).contains(mode);
        }

        String outcome() {
            int b = expected.indexOf('[');
            return b < 0 ? expected : expected.substring(0, b);
        }
    }

    static List<Probe> probes() throws IOException {
        List<Probe> out = new ArrayList<>();
        try (InputStream in = MaskingLeakTest.class.getResourceAsStream("/masking/probes.txt")) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            for (int i = 0; i < lines.length; i++) {
                String l = lines[i];
                if (l.isBlank() || l.startsWith("#")) {
                    continue;
                }
                int tab = l.indexOf('\t');
                out.add(new Probe(l.substring(0, tab), l.substring(tab + 1), i + 1));
            }
        }
        return out;
    }

    @TestFactory
    List<DynamicTest> everyProbeInEveryMode() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        Map<String, Map<String, String>> modes = Map.of(
                "simple", Map.of("preferQueryMode", "simple"),
                "extended", Map.of("preferQueryMode", "extended"),
                "binary", Map.of("preferQueryMode", "extended", "prepareThreshold", "-1", "binaryTransfer", "true"));
        for (Probe p : probes()) {
            for (Map.Entry<String, Map<String, String>> mode : modes.entrySet()) {
                if (!p.runsIn(mode.getKey())) {
                    continue;
                }
                tests.add(DynamicTest.dynamicTest("line " + p.line + " [" + mode.getKey() + "] " + p.sql,
                        () -> runProbe(p, mode.getValue())));
            }
        }
        return tests;
    }

    private void runProbe(Probe p, Map<String, String> mode) throws Exception {
        try (Relay relay = new Relay(gw.port())) {
            Properties props = new Properties();
            props.putAll(mode);
            String error = null;
            String state = null;
            try (Connection c = connect(relay, props); Statement s = c.createStatement()) {
                s.execute(p.sql);
                drain(s);
            } catch (SQLException e) {
                error = e.getMessage();
                state = e.getSQLState();
            }
            String received = relay.received();
            for (String seed : seeds) {
                if (received.contains(seed) || (error != null && error.contains(seed))) {
                    fail("line " + p.line + ": a seeded PHI value reached the client: " + context(received, seed)
                            + (error == null ? "" : "; error was: " + state));
                }
            }
            switch (p.outcome()) {
                case "masked" -> assertThat(error).as("line %d should run masked", p.line).isNull();
                case "refused" -> assertThat(state).as("line %d should be refused: %s", p.line, error).isEqualTo("42501");
                case "safe" -> assertThat(state).as("line %d: %s", p.line, error).isIn(null, "42501");
                case "error" -> {
                    // may fail in PostgreSQL or succeed; what matters is that nothing leaked
                }
                default -> fail("line " + p.line + ": unknown expectation " + p.expected);
            }
        }
    }

    @Test
    void copyOutIsMaskedRowByRowInTextAndCsvAndBinaryIsRefused() throws Exception {
        try (Relay relay = new Relay(gw.port()); Connection c = connect(relay, new Properties())) {
            CopyManager copy = ((BaseConnection) c.unwrap(BaseConnection.class)).getCopyAPI();
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            long rows = copy.copyOut("COPY patients TO STDOUT", text);
            ByteArrayOutputStream csv = new ByteArrayOutputStream();
            copy.copyOut("COPY (SELECT id, first_name, ssn, birth_date FROM patients) TO STDOUT WITH (FORMAT csv, HEADER)", csv);
            assertThat(rows).isGreaterThanOrEqualTo(50);
            String t = text.toString(StandardCharsets.UTF_8);
            String v = csv.toString(StandardCharsets.UTF_8);
            assertThat(t.split("\n")).hasSize((int) rows);
            assertThat(t).contains("[SSN]");
            assertThat(v).startsWith("id,first_name,ssn,birth_date\n").contains(",[SSN],").doesNotContain("\"");
            try (Statement s = c.createStatement()) {
                s.execute("COPY patients TO STDOUT (FORMAT binary)");
                fail("binary COPY of PHI should be refused");
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("42501");
            }
            assertNoSeeds(relay.received());
        }
    }

    @Test
    void cursorsAreMaskedLikeTheQueryTheyRead() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            Properties props = new Properties();
            props.setProperty("preferQueryMode", mode);
            try (Relay relay = new Relay(gw.port()); Connection c = connect(relay, props); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("DECLARE probe_cur CURSOR FOR SELECT id, ssn, lower(last_name) FROM patients");
                int n = 0;
                try (ResultSet rs = s.executeQuery("FETCH 50 FROM probe_cur")) {
                    while (rs.next()) {
                        n++;
                        assertThat(rs.getString(2)).isEqualTo("[SSN]");
                    }
                }
                s.execute("CLOSE probe_cur");
                c.commit();
                assertThat(n).isEqualTo(50);
                assertNoSeeds(relay.received());
            }
        }
    }

    @Test
    void maskedValuesKeepTheirTypesInTextAndBinary() throws Exception {
        for (String threshold : List.of("5", "-1")) {
            Properties props = new Properties();
            props.setProperty("prepareThreshold", threshold);
            try (Connection c = gw.connect(props);
                 var ps = c.prepareStatement("SELECT id, age, visit, birth FROM (SELECT t.id, t.age, t.visit,"
                         + " (SELECT birth_date FROM patients WHERE id = t.id) AS birth FROM phi_probe_types t) q ORDER BY id")) {
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt("age")).isEqualTo(90);
                    assertThat(rs.getDate("visit").toLocalDate()).isEqualTo(java.time.LocalDate.of(2021, 1, 1));
                    // A scalar subquery is an expression over the column: redacted, its type kept (decision 0037).
                    assertThat(rs.getMetaData().getColumnType(4)).isEqualTo(java.sql.Types.DATE);
                    assertThat(rs.getObject("birth")).isNull();
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt("age")).isEqualTo(41);
                    assertThat(rs.getDate("visit").toLocalDate()).isEqualTo(java.time.LocalDate.of(1999, 1, 1));
                }
            }
        }
    }

    @Test
    void deterministicTokensLetTheAgentJoinOnMaskedKeys() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            Map<String, String> byLab = new java.util.HashMap<>();
            try (ResultSet rs = s.executeQuery("SELECT mrn, result FROM phi_probe_labs")) {
                while (rs.next()) {
                    byLab.put(rs.getString(1), rs.getString(2));
                }
            }
            int joined = 0;
            try (ResultSet rs = s.executeQuery("SELECT mrn FROM patients WHERE id <= 10")) {
                while (rs.next()) {
                    assertThat(rs.getString(1)).startsWith("mrn_");
                    joined += byLab.containsKey(rs.getString(1)) ? 1 : 0;
                }
            }
            assertThat(joined).isEqualTo(10);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM phi_probe_labs l JOIN patients p ON l.mrn = p.mrn")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(10);
            }
        }
    }

    @Test
    void contentDetectionScrubsIdentifiersInColumnsNobodyTagged() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT note FROM phi_probe_notes ORDER BY id")) {
            rs.next();
            assertThat(rs.getString(1)).doesNotContain("219-09-9999").doesNotContain("617-555-0142")
                    .doesNotContain("jane.roe@example.org").contains("[SSN]").contains("[EMAIL]");
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("no identifiers here");
        }
    }

    /**
     * Errors keep what the client wrote (a misspelt relation, its own literal, the server's type names) and lose
     * what came from a row, in text and extended protocol alike (Parse errors are scrubbed knowing the text too).
     */
    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void errorsQuoteTheClientsOwnWordsButNoValueFromARow(String mode) throws Exception {
        String name;
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT last_name FROM patients WHERE id = 1")) {
            rs.next();
            name = rs.getString(1);
        }
        Properties props = new Properties();
        props.setProperty("preferQueryMode", mode);
        try (Connection c = gw.connect(props); Statement s = c.createStatement()) {
            assertThat(errorOf(s, "SELECT * FROM patiens_misspelt")).contains("relation \"patiens_misspelt\" does not exist");
            assertThat(errorOf(s, "SELECT ssn FROM patients WHERE id = 'abc'"))
                    .contains("invalid input syntax for type integer: \"abc\"");
            assertThat(errorOf(s, "SELECT state + 1 FROM patients")).contains("operator does not exist: text + integer");
            assertThat(errorOf(s, "SELECT ssnn FROM patients"))
                    .contains("Perhaps you meant to reference the column \"patients.ssn\"");
            // An untagged column's value in an error is withheld all the same: the server's templates are read
            // for where a row's value goes, whatever column it came from.
            assertThat(errorOf(s, "SELECT ('\"' || state || '\"')::regclass FROM patients WHERE id = 1"))
                    .contains("relation \"[withheld by phigate]\" does not exist");
            assertThat(errorOf(s, "SELECT now() AT TIME ZONE state FROM patients WHERE id = 1"))
                    .contains("time zone \"[withheld by phigate]\" not recognized");
            // Over a masked column the same statements are refused before they run (decision 0035): whether they
            // fail is itself an answer about the value.
            assertThat(errorOf(s, "SELECT ('\"' || last_name || '\"')::regclass FROM patients WHERE id = 1"))
                    .contains("an expression that can fail or turn NULL").doesNotContain(name);
            assertThat(errorOf(s, "SELECT now() AT TIME ZONE last_name FROM patients WHERE id = 1"))
                    .contains("an expression that can fail or turn NULL").doesNotContain(name);
        }
    }

    /**
     * The fast-path FunctionCall message names a function by OID: query_to_xml called that way ran any query and
     * answered with its rows, unmasked, past the analyser. Refused for a masked session, and audited as refused.
     */
    @Test
    void aFastPathFunctionCallIsRefusedForAMaskedSession() throws Exception {
        int oid;
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'query_to_xml(text,boolean,boolean,text)'::regprocedure::oid")) {
            rs.next();
            oid = rs.getInt(1);
        }
        try (Connection c = gw.connect()) {
            org.postgresql.fastpath.Fastpath fp = c.unwrap(org.postgresql.PGConnection.class).getFastpathAPI();
            org.postgresql.fastpath.FastpathArg[] args = {
                new org.postgresql.fastpath.FastpathArg("SELECT ssn, last_name FROM patients"),
                new org.postgresql.fastpath.FastpathArg(new byte[]{1}), new org.postgresql.fastpath.FastpathArg(new byte[]{0}),
                new org.postgresql.fastpath.FastpathArg("")};
            String answer;
            try {
                byte[] xml = fp.fastpath(oid, args);
                answer = xml == null ? "" : new String(xml, StandardCharsets.UTF_8);
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("42501");
                answer = e.getMessage();
            }
            assertNoSeeds(answer);
            assertThat(answer).contains("fast-path function call");
            // The session goes on.
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT ssn FROM patients LIMIT 1")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("[SSN]");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%fast-path function call%'", 1)).isNotEmpty();
    }

    private static String errorOf(Statement s, String sql) {
        try {
            s.execute(sql);
        } catch (SQLException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error from " + sql);
    }

    @Test
    void aTagInAColumnCommentMasksTheColumn() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT label, upper(label) FROM phi_probe_types ORDER BY id")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("[NAME]");
            assertThat(rs.getString(2)).isEqualTo("[NAME]");
        }
    }

    @Test
    void theAuditRecordNamesWhatWasMasked() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.executeQuery("SELECT ssn AS probe_audit_ssn, lower(first_name) FROM patients LIMIT 1").close();
        }
        List<Map<String, Object>> rows = gw.auditEventually(
                "kind = 'statement_completed' and detail like '%probe_audit_ssn(ssn)=redact%'", 1);
        assertThat(rows.getFirst().get("detail").toString()).contains("lower(name)=redact");
        // The request record names the tables and PHI columns, and search finds statements by them.
        var queries = io.phigate.audit.AuditQueries.of(gw.config().audit());
        var page = new io.phigate.audit.AuditQueries.Page(1000, 0);
        assertThat(queries.search(io.phigate.audit.AuditQueries.Filter.ANY.withColumn("public.patients.ssn")
                .withText("probe_audit_ssn"), page).statements()).hasSize(1);
        assertThat(queries.search(io.phigate.audit.AuditQueries.Filter.ANY.withPhiType("ssn")
                .withText("probe_audit_ssn"), page).statements()).hasSize(1);
        assertThat(queries.search(io.phigate.audit.AuditQueries.Filter.ANY.withTable("patients")
                .withText("probe_audit_ssn"), page).statements()).hasSize(1);
        assertThat(queries.search(io.phigate.audit.AuditQueries.Filter.ANY.withTable("public.encounters")
                .withText("probe_audit_ssn"), page).statements()).isEmpty();
        assertThat(queries.search(io.phigate.audit.AuditQueries.Filter.ANY.withPhiType("dob")
                .withText("probe_audit_ssn"), page).statements()).isEmpty();
        // ... and the auditor's access report lists them per identity.
        var report = io.phigate.audit.AccessReport.build(gw.auditFile(), java.time.Instant.now().minusSeconds(3600),
                java.time.Instant.now().plusSeconds(60), null, null, java.time.Instant.now());
        var agent = report.identities().stream().filter(i -> GatewayHarness.AGENT.equals(i.subject())).findFirst()
                .orElseThrow();
        assertThat(agent.tables()).contains("public.patients");
        assertThat(agent.phiTypesMasked()).contains("ssn", "name");
        assertThat(agent.phiValuesMasked()).as("the SELECT delivered one row of two masked PHI columns")
                .isGreaterThanOrEqualTo(2);
    }

    @Test
    void psqlDescribesTablesForAMaskedSession() throws Exception {
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir, ClientTools.find("psql").toString(), "-X",
                "-v", "ON_ERROR_STOP=1", "-c", "\\d patients", "-c", "\\d+ encounters", "-c", "\\df lower",
                "-c", "\\dt");
        assertThat(r.output()).contains("Table \"public.patients\"").contains("ssn").contains("birth_date")
                .contains("Table \"public.encounters\"").contains("List of functions").contains("List of relations")
                .doesNotContain("ERROR");
    }

    /**
     * SET search_path is refused for a masked session because masking resolves names by the path the catalog was
     * read with; the same setting at startup (options, or pgjdbc's currentSchema) is refused too, unless it names
     * that very path.
     */
    @Test
    void aStartupSearchPathOtherThanTheUpstreamsIsRefused() throws Exception {
        Properties same = new Properties();
        same.setProperty("currentSchema", "public");
        try (Connection c = gw.connect(same); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients LIMIT 1")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("[SSN]");
        }
        for (String[] setting : new String[][]{{"currentSchema", "information_schema,public"},
                {"options", "-c search_path=pg_temp,public"}, {"options", "--search-path=information_schema"}}) {
            Properties other = new Properties();
            other.setProperty(setting[0], setting[1]);
            assertThatThrownBy(() -> gw.connect(other).close()).as(setting[1])
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("search_path");
                    });
        }
    }

    /**
     * With standard_conforming_strings off the server reads \' inside '...' as a quote: the statement below was
     * two constants to the analyser and upper(last_name) to the server, which returned the names unmasked. Off is
     * refused, whether SET or asked for at startup.
     */
    @Test
    void standardConformingStringsStayOn() throws Exception {
        String smuggled = "SELECT 'a\\' , ' , upper(last_name), last_name FROM patients LIMIT 3 --'";
        try (Connection c = gw.connect(); Statement s = c.createStatement()) {
            for (String set : List.of("SET standard_conforming_strings = off", "SET standard_conforming_strings TO 'off'",
                    "SET LOCAL standard_conforming_strings = false", "set standard_conforming_strings=0")) {
                assertThatThrownBy(() -> s.execute(set)).as(set).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("0A000"));
            }
            s.execute("SET standard_conforming_strings = on");
            StringBuilder received = new StringBuilder();
            try (ResultSet rs = s.executeQuery(smuggled)) {
                while (rs.next()) {
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        received.append(rs.getString(i)).append('|');
                    }
                }
            }
            assertNoSeeds(received.toString());
        }
        Properties off = new Properties();
        off.setProperty("options", "-c standard_conforming_strings=off");
        assertThatThrownBy(() -> gw.connect(off).close()).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("0A000"));
    }

    /** What ORMs and schema tools ask pgjdbc for before their first query. */
    @Test
    void jdbcMetadataWorksForAMaskedSession() throws Exception {
        try (Connection c = gw.connect()) {
            java.sql.DatabaseMetaData md = c.getMetaData();
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "public", "patients", null)) {
                while (rs.next()) {
                    columns.add(rs.getString("COLUMN_NAME"));
                }
            }
            assertThat(columns).contains("id", "ssn", "last_name", "birth_date");
            try (ResultSet rs = md.getTables(null, "public", "%", new String[]{"TABLE"})) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "patients")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("COLUMN_NAME")).isEqualTo("id");
            }
            try (ResultSet rs = md.getImportedKeys(null, "public", "encounters")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("PKTABLE_NAME")).isEqualTo("patients");
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", "patients", false, true)) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getExportedKeys(null, "public", "patients")) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getTypeInfo()) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getSchemas()) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getFunctions(null, "pg_catalog", "lower")) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getProcedures(null, "pg_catalog", "lower")) {
                rs.next(); // pgjdbc lists procedures only here: none is named lower
            }
            try (ResultSet rs = md.getFunctionColumns(null, "pg_catalog", "lower", null)) {
                assertThat(rs.next()).isTrue();
            }
            try (ResultSet rs = md.getColumnPrivileges(null, "public", "patients", "%")) {
                rs.next();
            }
            try (ResultSet rs = md.getTablePrivileges(null, "public", "patients")) {
                rs.next();
            }
            try (ResultSet rs = md.getBestRowIdentifier(null, "public", "patients", 0, false)) {
                rs.next();
            }
            try (ResultSet rs = md.getUDTs(null, null, null, null)) {
                rs.next();
            }
            assertThat(md.getDatabaseProductVersion()).isNotBlank();
        }
    }

    @Test
    void psqlSeesNoSeededValueEither() throws Exception {
        Path psql = ClientTools.find("psql");
        StringBuilder script = new StringBuilder("\\set ON_ERROR_STOP 0\n");
        for (Probe p : probes()) {
            script.append(p.sql).append(";\n");
        }
        script.append("\\copy (select * from patients) to stdout with (format csv)\n");
        Path file = dir.resolve("probes.sql");
        Files.writeString(file, script);
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir, psql.toString(), "-X", "-v", "VERBOSITY=verbose",
                "-f", file.toString());
        assertThat(r.output()).contains("[SSN]").contains("42501");
        assertNoSeeds(r.output());
    }

    private static void assertNoSeeds(String received) {
        for (String seed : seeds) {
            if (received.contains(seed)) {
                fail("a seeded PHI value reached the client: " + context(received, seed));
            }
        }
    }

    /** Where a seed showed up, with the seed itself blanked out (the data is synthetic, but the habit matters). */
    static String context(String received, String seed) {
        int at = received.indexOf(seed);
        if (at < 0) {
            return "(in the error text)";
        }
        String around = received.substring(Math.max(0, at - 80), Math.min(received.length(), at + seed.length() + 40));
        return around.replace(seed, "#".repeat(seed.length())).replaceAll("[^\\x20-\\x7e]", ".");
    }

    private static Connection connect(Relay relay, Properties extra) throws SQLException, IOException {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", gw.token());
        p.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + relay.port() + "/clinical?sslmode=disable", p);
    }

    static void drain(Statement s) throws SQLException {
        while (true) {
            ResultSet rs = s.getResultSet();
            if (rs != null) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    for (int i = 1; i <= n; i++) {
                        rs.getObject(i);
                    }
                }
            }
            if (!s.getMoreResults() && s.getUpdateCount() == -1) {
                return;
            }
        }
    }

    /** A one-connection TCP relay that keeps every byte the gateway sends toward the client. */
    static final class Relay implements AutoCloseable {
        private final ServerSocket server;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final Thread thread;

        Relay(int target) throws IOException {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            thread = Thread.ofVirtual().start(() -> {
                try (Socket client = server.accept(); Socket up = new Socket(InetAddress.getLoopbackAddress(), target)) {
                    Thread back = Thread.ofVirtual().start(() -> pump(up, client, true));
                    pump(client, up, false);
                    back.join();
                } catch (IOException | InterruptedException ignored) {
                    // the test ended the connection
                }
            });
        }

        private void pump(Socket from, Socket to, boolean keep) {
            byte[] buf = new byte[65536];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    if (keep) {
                        synchronized (received) {
                            received.write(buf, 0, n);
                        }
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // either side closed
            }
        }

        int port() {
            return server.getLocalPort();
        }

        String received() {
            synchronized (received) {
                return received.toString(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
