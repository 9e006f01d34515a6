package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One test per lexing class of issue 18, end to end through the gateway with a raw simple-protocol client (so no
 * driver splits or rewrites the text): wherever the gateway's reading of a statement once differed from the
 * server's, no seeded PHI value may reach the client, and a statement that would copy PHI out is refused. The
 * probes return expressions over PHI columns ({@code translate(ssn, '-', '')}, {@code last_name || ''}): a plain
 * column is masked by its RowDescription's table OID whatever the gateway read, and content detection finds a
 * formatted SSN, so only such an expression shows a misreading. Each probe leaked on the JSqlParser build.
 */
class ServerParityTest {
    private static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
                  public.patients.last_name: name
                subjects: { public.patients: id }
            masking:
              key_file: masking.key
            """;

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> seeds;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
        }
        seeds = new LinkedHashSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn, last_name FROM patients")) {
            while (rs.next()) {
                seeds.add(rs.getString(1));
                seeds.add(rs.getString(1).replace("-", ""));
                if (rs.getString(2).length() >= 5) {
                    seeds.add(rs.getString(2));
                }
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, POLICY);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /** What the client receives for one simple Query: every message up to ReadyForQuery. */
    record Answer(List<BackendMessage> messages, String bytes) {
        long results() {
            return messages.stream().filter(m -> m instanceof BackendMessage.CommandComplete
                    || m instanceof BackendMessage.EmptyQueryResponse).count();
        }

        String sqlState() {
            return messages.stream().filter(m -> m instanceof BackendMessage.ErrorResponse)
                    .map(m -> ((BackendMessage.ErrorResponse) m).fields().get((byte) 'C')).findFirst().orElse(null);
        }
    }

    private static Answer query(String sql) throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token());
            c.send(MessageCodec.encode(new FrontendMessage.Query(sql)));
            List<BackendMessage> got = new ArrayList<>();
            StringBuilder bytes = new StringBuilder();
            while (true) {
                int t = c.in.next();
                if (t < 0) {
                    break;
                }
                byte[] body = c.in.body();
                bytes.append(new String(body, StandardCharsets.UTF_8));
                BackendMessage m = MessageCodec.decodeBackend(c.in.type(), body);
                got.add(m);
                if (m instanceof BackendMessage.ReadyForQuery) {
                    break;
                }
            }
            return new Answer(got, bytes.toString());
        }
    }

    private static void assertNoSeeds(Answer a) {
        for (String seed : seeds) {
            if (a.bytes.contains(seed)) {
                fail("a seeded PHI value reached the client");
            }
        }
    }

    /** The check itself: the same statement read plainly returns PHI in clear directly, and masked here. */
    @Test
    void theSeedsAreRealValuesThatPlainReadsMask() throws Exception {
        Answer a = query("SELECT ssn, last_name FROM patients");
        assertNoSeeds(a);
        assertThat(a.bytes).contains("[SSN]");
    }

    @ParameterizedTest(name = "{index}")
    @ValueSource(strings = {
        // The server's scanner ends a -- comment at \r as at \n: ", ssn, last_name" is code.
        "SELECT 1 AS a -- comment\r, translate(ssn, '-', '') AS s, last_name || '' AS l FROM patients",
        "SELECT 1 AS a -- comment\r\n, translate(ssn, '-', '') AS s FROM patients",
        "SELECT 1 AS a /* a /* nested */ comment */ , translate(ssn, '-', '') AS s FROM patients",
        // Form feed and tab are whitespace to the server.
        "SELECT\ftranslate(ssn, '-', '') AS s,\tlast_name || ''\fFROM\tpatients",
    })
    void commentTerminatorsAndWhitespaceAreReadAsTheServerReadsThem(String sql) throws Exception {
        Answer a = query(sql);
        assertThat(a.sqlState()).isNull();
        assertNoSeeds(a);
    }

    @ParameterizedTest(name = "{index}")
    @ValueSource(strings = {
        "SELECT 1 AS a;;SELECT translate(ssn, '-', '') AS s, last_name || '' AS l FROM patients",
        ";SELECT 'x' AS a; ; ;SELECT translate(ssn, '-', '') AS s FROM patients;",
        "SELECT 1 AS a; /* only a comment */ ; -- and another\n; SELECT translate(ssn, '-', '') AS s FROM patients; SELECT last_name || '' FROM patients",
    })
    void emptyStatementsDoNotShiftTheMaskingPlanOfLaterResults(String sql) throws Exception {
        Answer a = query(sql);
        assertThat(a.sqlState()).isNull();
        assertNoSeeds(a);
    }

    @Test
    void anEntirelyEmptyQueryGetsOneEmptyQueryResponse() throws Exception {
        for (String sql : List.of("", ";", " ; ; -- nothing\n")) {
            Answer a = query(sql);
            assertThat(a.results()).as("'%s'", sql).isEqualTo(1);
            assertThat(a.messages).anyMatch(m -> m instanceof BackendMessage.EmptyQueryResponse);
        }
    }

    /**
     * The server folds only ASCII letters: {@code Ä} and {@code ä} name two different CTEs. Folded by Unicode rules
     * the second would replace the first, and the gateway would plan the outer SELECT as the constant.
     */
    @Test
    void nonAsciiNamesAreNotFolded() throws Exception {
        Answer a = query("WITH Ä AS (SELECT translate(ssn, '-', '') || '' AS v FROM patients), ä AS (SELECT 'safe'::text AS v) SELECT v FROM Ä");
        assertThat(a.sqlState()).isNull();
        assertNoSeeds(a);
        Answer b = query("WITH Ärger AS (SELECT last_name || '' AS v FROM patients), ärger AS (SELECT 'x' AS v) SELECT v FROM Ärger");
        assertThat(b.sqlState()).isNull();
        assertNoSeeds(b);
    }

    /**
     * EXPLAIN ANALYZE runs its statement; each spelling the grammar accepts for the option is read as such. The
     * UPDATE would store SSNs in an untagged column, which is refused only when EXPLAIN is read as running it
     * (wrapped in a transaction rolled back, should it ever run).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ANALYZE", "ANALYSE", "analyze 'on'", "analyze true", "analyze 1", "\"analyze\"",
        "U&\"an\\0061lyze\"", "analyze 'TRUE', costs off"})
    void explainAnalyzeInAnySpellingIsJudgedAsTheStatementItRuns(String option) throws Exception {
        Answer a = query("BEGIN; EXPLAIN (" + option + ") UPDATE patients SET city = ssn; ROLLBACK");
        assertThat(a.sqlState()).as(option).isEqualTo("42501");
    }

    @Test
    void explainWithoutAnalyzeDoesNotRunItsStatement() throws Exception {
        Answer a = query("BEGIN; EXPLAIN (analyze 'off') UPDATE patients SET city = ssn; ROLLBACK");
        assertThat(a.sqlState()).isNull();
    }

    /** COPY output options in any spelling: binary or custom formats are refused, never masked as text. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"(FORMAT binary)", "(FORMAT 'binary')", "(FORMAT \"binary\")", "(FORMAT U&\"b\\0069nary\")",
        "BINARY", "(DELIMITER '|')", "(FORMAT csv, QUOTE '\"', FORCE_QUOTE *)", "(\"delimiter\" ',')",
        "(FORMAT text, NULL 'x')", "CSV DELIMITER ';'"})
    void copyOptionsInAnySpellingAreReadAsTheServerReadsThem(String options) throws Exception {
        Answer a = query("COPY patients TO STDOUT " + options);
        assertNoSeeds(a);
        assertThat(a.sqlState()).as(options).isEqualTo("42501");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"(FORMAT csv, HEADER)", "(FORMAT 'csv')", "CSV HEADER", "(HEADER false)", ""})
    void copyInMaskableFormatsIsMasked(String options) throws Exception {
        Answer a = query("COPY (SELECT id, ssn, last_name FROM patients) TO STDOUT " + options);
        assertThat(a.sqlState()).as(options).isNull();
        assertNoSeeds(a);
        assertThat(a.bytes).contains("[SSN]");
    }

    /** The same classes through psql, which sends a -c string as one simple Query, as the agent wrote it. */
    @ParameterizedTest(name = "{index}")
    @ValueSource(strings = {
        "SELECT 1 AS a -- comment\r, translate(ssn, '-', '') AS s, last_name || '' AS l FROM patients",
        "SELECT 1 AS a;;SELECT translate(ssn, '-', '') AS s, last_name || '' AS l FROM patients",
        "WITH Ä AS (SELECT translate(ssn, '-', '') || '' AS v FROM patients), ä AS (SELECT 'x' AS v) SELECT v FROM Ä",
    })
    void psqlSeesTheServersReadingToo(String sql) throws Exception {
        io.phigate.clients.ClientTools.Result r = io.phigate.clients.ClientTools.run(java.util.Map.of(
                "PGPASSWORD", gw.token(GatewayHarness.AGENT, java.time.Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir,
                io.phigate.clients.ClientTools.find("psql").toString(), "-X", "-v", "ON_ERROR_STOP=1", "-c", sql);
        assertThat(r.exitCode()).as(r.output()).isZero();
        for (String seed : seeds) {
            if (r.output().contains(seed)) {
                fail("a seeded PHI value reached psql");
            }
        }
    }

    @Test
    void aTextTheGrammarRejectsIsAnsweredWithTheServersSyntaxError() throws Exception {
        Answer a = query("SELECT ssn FROM patients; selec 1");
        BackendMessage.ErrorResponse e = (BackendMessage.ErrorResponse) a.messages.stream()
                .filter(m -> m instanceof BackendMessage.ErrorResponse).findFirst().orElseThrow();
        assertThat(e.fields().get((byte) 'C')).isEqualTo("42601");
        assertThat(e.fields().get((byte) 'M')).isEqualTo("syntax error at or near \"selec\"");
        assertThat(e.fields().get((byte) 'P')).isEqualTo("27");
        assertNoSeeds(a);
    }
}
