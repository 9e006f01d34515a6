package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state-confusion sequences of issue 18, each run through the gateway: a name is redefined by a request the
 * server refuses or skips, and then used. The gateway must judge, mask and record what the server actually runs:
 * no seeded PHI reaches the client, a read-only role's write never reaches the server, and the request record
 * names the statement that ran. Raw protocol for the pipelines no driver sends, pgjdbc for the SQL-level forms.
 */
class StateConfusionTest {
    /** Expressions, not bare columns: their descriptions carry no table, so only the analysis says they are PHI. */
    private static final String PHI_QUERY = "SELECT ssn || '' AS ssn, last_name || '' AS last_name FROM patients"
            + " ORDER BY id LIMIT 200";
    private static final String BENIGN = "SELECT 'nothing'::text AS ssn, 'here'::text AS last_name";
    /** Benign too, but a text of its own: the other tests' records must not name {@link #BENIGN} as run. */
    private static final String OTHER_BENIGN = "SELECT 'harmless'::text AS ssn, 'too'::text AS last_name";

    /** The request records of protocol Executes of a Parse'd statement (not of SQL-level PREPARE or DECLARE). */
    private static final String EXECUTES = "protocol = 'extended' and portal is not null and statement like 'SELECT%'";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> seeds;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS state_probe (v text)");
            s.execute("GRANT ALL ON state_probe TO " + db.user());
        }
        seeds = new LinkedHashSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn, last_name FROM patients ORDER BY id LIMIT 200")) {
            while (rs.next()) {
                seeds.add(rs.getString(1));
                if (rs.getString(2).length() >= 6) {
                    seeds.add(rs.getString(2));
                }
            }
        }
        assertThat(seeds).hasSizeGreaterThan(20);
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.patients.last_name: name
                masking:
                  key_file: masking.key
                roles:
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.*"], operations: [select] }
                rules:
                  - name: no-unlimited-phi
                    when: { phi_without_limit: true }
                    deny: "read PHI a page at a time"
                """.formatted(GatewayHarness.AGENT));
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @BeforeEach
    void emptyProbeTable() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE state_probe");
        }
    }

    // ---- raw protocol: pipelines ----

    @Test
    void aFailedReParseDoesNotChangeWhatTheNameMeans() throws Exception {
        try (RawClient c = client()) {
            exchange(c, parse("s", PHI_QUERY), sync());
            // The server refuses the re-Parse (42P05) and keeps the PHI query under "s"; the Bind after the Sync
            // binds that query.
            String answer = exchange(c, parse("s", BENIGN), sync(), bind("", "s"), execute(""), sync());
            assertThat(answer).contains("42P05");
            assertNoSeeds(answer);
        }
        assertRecorded(EXECUTES, PHI_QUERY);
    }

    @Test
    void aParseTheServerSkippedAfterAnErrorDoesNotCount() throws Exception {
        try (RawClient c = client()) {
            exchange(c, parse("t", PHI_QUERY), sync());
            // The gateway lets "broken" through; the server refuses it at Parse and skips the rest to Sync.
            String answer = exchange(c, parse("broken", "SELECT 'abc'::int"), close('S', "t"),
                    parse("t", BENIGN), sync(), bind("", "t"), execute(""), sync());
            assertThat(answer).contains("22P02");
            assertNoSeeds(answer);
        }
        assertRecorded(EXECUTES, PHI_QUERY);
    }

    /**
     * The server keeps a portal's or prepared statement's name to its first 63 bytes (NAMEDATALEN - 1): two protocol
     * names that differ only after that are one name to it. Here the benign portal's name, then the PHI portal's
     * under the other long name, named one server portal; the Execute of the first ran the PHI query, masked (before
     * decision 0065) by the benign statement's plan: every SSN and name in clear.
     */
    @Test
    void twoLongPortalNamesTheServerKeepsAsOneAreOnePortal() throws Exception {
        String first = "p".repeat(63) + "a";
        String second = "p".repeat(63) + "b";
        try (RawClient c = client()) {
            String answer = exchange(c, parse("benign", OTHER_BENIGN), parse("phi", PHI_QUERY), bind(first, "benign"),
                    close('P', second), bind(second, "phi"), execute(first), sync());
            assertNoSeeds(answer);
        }
    }

    /** The same for prepared statements: protocol names, and an SQL name the server's lexer cut to 63 bytes. */
    @Test
    void twoLongStatementNamesTheServerKeepsAsOneAreOneStatement() throws Exception {
        String first = "s".repeat(63) + "a";
        String second = "s".repeat(63) + "b";
        try (RawClient c = client()) {
            String answer = exchange(c, parse(first, OTHER_BENIGN), close('S', second), parse(second, PHI_QUERY),
                    bind("", first), execute(""), sync());
            assertNoSeeds(answer);
            String cut = "q".repeat(63);
            answer = exchange(c, query("PREPARE " + cut + "zz AS " + OTHER_BENIGN), close('S', cut + "b"),
                    parse(cut + "b", PHI_QUERY), sync(), query("EXECUTE " + cut));
            assertNoSeeds(answer);
        }
    }

    /**
     * DEALLOCATE ALL and DISCARD ALL drop the named prepared statements only: the unnamed one lives apart on the
     * server, and a Bind of it after them runs it (masked by its plan, not refused as missing).
     */
    @Test
    void deallocateAllLeavesTheUnnamedStatementAsTheServerDoes() throws Exception {
        try (RawClient c = client()) {
            for (String drop : List.of("DEALLOCATE ALL", "DISCARD ALL")) {
                String answer = exchange(c, parse("", PHI_QUERY), parse("d", drop), bind("pd", "d"), execute("pd"),
                        sync(), bind("", ""), execute(""), sync());
                assertThat(answer).as(drop).doesNotContain("26000").contains("[SSN]");
                assertNoSeeds(answer);
            }
        }
    }

    @Test
    void theUnnamedPortalKeepsTheStatementItWasBoundFrom() throws Exception {
        try (RawClient c = client()) {
            String answer = exchange(c, parse("", PHI_QUERY), bind("", ""), parse("", BENIGN), execute(""), sync());
            assertNoSeeds(answer);
        }
        assertRecorded(EXECUTES, PHI_QUERY);
    }

    @Test
    void aWriteCannotHideBehindAFailedReParse() throws Exception {
        try (RawClient c = client()) {
            exchange(c, parse("w", "SELECT v FROM state_probe"), sync());
            String answer = exchange(c, parse("w", "INSERT INTO state_probe VALUES ('written')"), sync(),
                    bind("", "w"), execute(""), sync());
            assertThat(answer).contains("42501");
        }
        assertProbeTableEmpty();
    }

    // ---- pgjdbc: SQL-level PREPARE, DECLARE, EXECUTE, FETCH ----

    @Test
    void aFailedRePrepareDoesNotChangeWhatExecuteRuns() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = connect(mode); Statement s = c.createStatement()) {
                s.execute("PREPARE p AS " + PHI_QUERY);
                assertThatThrownBy(() -> s.execute("PREPARE p AS " + BENIGN)).isInstanceOf(SQLException.class);
                assertNoSeeds(rows(s, "EXECUTE p"));
            }
        }
        assertRecorded("statement like 'EXECUTE p%'", "prepared statement p runs: " + PHI_QUERY);
    }

    @Test
    void aFailedReDeclareDoesNotChangeWhatFetchReads() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = connect(mode); Statement s = c.createStatement()) {
                s.execute("DECLARE c CURSOR WITH HOLD FOR " + PHI_QUERY);
                assertThatThrownBy(() -> s.execute("DECLARE c CURSOR WITH HOLD FOR " + BENIGN))
                        .isInstanceOf(SQLException.class);
                assertNoSeeds(rows(s, "FETCH ALL FROM c"));
                s.execute("CLOSE c");
            }
        }
        assertRecorded("statement like 'FETCH ALL FROM c%'", "cursor c runs: " + PHI_QUERY);
    }

    @Test
    void aReadOnlyRoleCannotWriteThroughARedefinedPreparedStatement() throws Exception {
        try (Connection c = connect("simple"); Statement s = c.createStatement()) {
            s.execute("PREPARE q AS SELECT v FROM state_probe");
            assertThatThrownBy(() -> s.execute("PREPARE q AS INSERT INTO state_probe VALUES ('written')"))
                    .hasMessageContaining("INSERT");
            assertThatThrownBy(() -> s.execute("PREPARE r AS INSERT INTO state_probe VALUES ('written')"))
                    .hasMessageContaining("INSERT");
            // Never prepared upstream: the gateway answers as the server would.
            assertThatThrownBy(() -> s.execute("EXECUTE r")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("26000"));
            s.execute("EXECUTE q");
        }
        assertProbeTableEmpty();
    }

    @Test
    void aDeclareParsedAndExecutedLaterIsTheCursorFetchReads() throws Exception {
        try (Connection c = connect("extended"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (java.sql.PreparedStatement declare = c.prepareStatement("DECLARE d CURSOR FOR " + PHI_QUERY)) {
                declare.execute();
            }
            assertNoSeeds(rows(s, "FETCH ALL FROM d"));
            c.rollback();
        }
        assertRecorded("statement like 'FETCH ALL FROM d%'", "cursor d runs: " + PHI_QUERY);
    }

    /**
     * ROLLBACK TO SAVEPOINT drops on the server the cursors declared since the savepoint (decision 0069): the
     * gateway forgets them with it, so it answers a FETCH of the name itself, as the server would (34000), and a
     * cursor declared again under that name is masked and recorded by its own query.
     */
    @Test
    void aCursorDeclaredAgainAfterRollbackToSavepointIsMaskedByItsNewQuery() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = connect(mode); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("SAVEPOINT sp");
                s.execute("DECLARE r CURSOR FOR " + OTHER_BENIGN);
                s.execute("ROLLBACK TO SAVEPOINT sp");
                assertThatThrownBy(() -> s.executeQuery("FETCH ALL FROM r")).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("34000"));
                s.execute("ROLLBACK TO SAVEPOINT sp");
                s.execute("DECLARE r CURSOR FOR " + PHI_QUERY);
                assertNoSeeds(rows(s, "FETCH ALL FROM r"));
                c.rollback();
            }
        }
        assertRecorded("statement like 'FETCH ALL FROM r%'", "cursor r runs: " + PHI_QUERY);
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'FETCH ALL FROM r%harmless%'"))
                .as("no FETCH is recorded as reading the dropped cursor").isEmpty();
        assertThat(gw.auditEventually("kind = 'statement_completed' and sqlstate = '34000' and outcome = 'refused'", 2))
                .as("the gateway knew the cursor was gone and answered for the server").hasSize(2);
    }

    // ---- rules judge what runs (issue 19, item 5) ----

    @Test
    void fetchAndExecuteAreJudgedAsTheStatementTheyRun() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = connect(mode); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("SELECT ssn FROM patients"))
                        .hasMessageContaining("no-unlimited-phi");
                // Preparing and declaring run nothing; executing and fetching run the unlimited PHI read.
                s.execute("PREPARE everyone AS SELECT ssn FROM patients");
                assertThatThrownBy(() -> s.executeQuery("EXECUTE everyone")).hasMessageContaining("no-unlimited-phi");
                s.execute("DECLARE everything CURSOR WITH HOLD FOR SELECT ssn FROM patients");
                assertThatThrownBy(() -> s.executeQuery("FETCH ALL FROM everything"))
                        .hasMessageContaining("no-unlimited-phi");
                assertThatThrownBy(() -> s.execute("MOVE FORWARD ALL IN everything"))
                        .hasMessageContaining("no-unlimited-phi");
                s.execute("CLOSE everything");
                s.execute("DEALLOCATE everyone");
                // A limited read runs, through either form.
                s.execute("PREPARE a_few AS SELECT ssn FROM patients LIMIT 3");
                assertNoSeeds(rows(s, "EXECUTE a_few"));
                s.execute("DEALLOCATE a_few");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'EXECUTE everyone%'"
                + " and statement like '%runs: SELECT ssn FROM patients%'", 2)).hasSize(2);
    }

    // ---- helpers ----

    private static Connection connect(String mode) throws Exception {
        Properties p = new Properties();
        p.setProperty("preferQueryMode", mode);
        return gw.connect(p);
    }

    private static RawClient client() throws IOException {
        RawClient c = new RawClient(gw.port());
        c.login(gw.token());
        return c;
    }

    private static byte[] parse(String name, String sql) {
        return MessageCodec.encode(new FrontendMessage.Parse(name, sql, new int[0]));
    }

    private static byte[] bind(String portal, String statement) {
        return MessageCodec.encode(new FrontendMessage.Bind(portal, statement, new short[0], new byte[0][],
                new short[0]));
    }

    private static byte[] execute(String portal) {
        return MessageCodec.encode(new FrontendMessage.Execute(portal, 0));
    }

    private static byte[] close(char kind, String name) {
        return MessageCodec.encode(new FrontendMessage.Close((byte) kind, name));
    }

    private static byte[] query(String sql) {
        return MessageCodec.encode(new FrontendMessage.Query(sql));
    }

    private static byte[] sync() {
        return MessageCodec.encode(FrontendMessage.Sync.INSTANCE);
    }

    /**
     * Sends the messages as one pipeline and returns every byte the client got back (as text), up to the
     * ReadyForQuery that answers the last Sync.
     */
    private static String exchange(RawClient c, byte[]... messages) throws IOException {
        int syncs = 0;
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] m : messages) {
            all.writeBytes(m);
            syncs += m[0] == 'S' || m[0] == 'Q' ? 1 : 0;
        }
        c.send(all.toByteArray());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (syncs > 0) {
            int type = c.in.next();
            if (type < 0) {
                throw new IOException("the gateway closed the connection");
            }
            got.write(type);
            got.writeBytes(c.in.body());
            syncs -= type == 'Z' ? 1 : 0;
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    private static String rows(Statement s, String sql) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                for (int i = 1; i <= n; i++) {
                    out.append(rs.getString(i)).append('\t');
                }
                out.append('\n');
            }
        }
        assertThat(out).as("the statement returned its rows, masked").isNotEmpty();
        return out.toString();
    }

    private static void assertNoSeeds(String clientVisible) {
        for (String seed : seeds) {
            assertThat(clientVisible).as("seeded PHI reached the client").doesNotContain(seed);
        }
    }

    /**
     * The request records matching {@code where} name {@code ran} (what the server ran), and none of them names
     * the text the server refused ({@link #BENIGN}).
     */
    private static void assertRecorded(String where, String ran) throws Exception {
        List<Map<String, Object>> rows = gw.auditEventually("kind = 'statement_requested' and " + where
                + " and statement like '%" + ran.replace("'", "''") + "%'", 1);
        assertThat(rows).as("a request record naming what ran").isNotEmpty();
        assertThat(gw.audit("kind = 'statement_requested' and " + where + " and statement like '%nothing''::text%'"))
                .as("no record of a statement that ran names the statement the server refused").isEmpty();
    }

    private static void assertProbeTableEmpty() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM state_probe")) {
            rs.next();
            assertThat(rs.getLong(1)).as("a write reached the server").isZero();
        }
    }
}
