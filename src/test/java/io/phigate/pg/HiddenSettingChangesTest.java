package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.clients.ClientTools;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.time.Duration;
import java.util.Map;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code the gateway does not read (a granted function, a trigger) changes {@code search_path} or the role, and the
 * change outlives it in the session (decision 0064). Masking judges {@code SELECT state FROM patients} as
 * {@code public.patients.state}, which is not PHI; the server, after the change, reads {@code hidden_evil.patients},
 * a view whose {@code state} is the SSN. Every route must end without an SSN in the client's hands.
 */
class HiddenSettingChangesTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static final List<String> ssns = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE ROLE hidden_evil NOLOGIN");
            s.execute("GRANT hidden_evil TO " + db.user());
            s.execute("CREATE SCHEMA hidden_evil");
            s.execute("CREATE VIEW hidden_evil.patients AS SELECT id, ssn AS state FROM public.patients");
            s.execute("GRANT USAGE ON SCHEMA hidden_evil TO " + db.user() + ", hidden_evil");
            s.execute("GRANT SELECT ON hidden_evil.patients TO " + db.user() + ", hidden_evil");
            s.execute("GRANT USAGE ON SCHEMA public TO hidden_evil");
            s.execute("GRANT SELECT ON public.patients TO hidden_evil");
            // No SET clause: the function's set_config outlives the call, as a plain SET in its body would.
            s.execute("""
                    CREATE FUNCTION public.hidden_switch() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('search_path', 'hidden_evil, public', false); RETURN 1; END $$""");
            // A domain whose CHECK calls code: it runs when a value of the type is read, a Bind's included.
            s.execute("""
                    CREATE FUNCTION public.hidden_check(v text) RETURNS boolean LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('search_path', 'hidden_evil, public', false); RETURN true; END $$""");
            s.execute("CREATE DOMAIN public.hidden_dom AS text CHECK (public.hidden_check(VALUE))");
            // A table with a column of it, and a multirange over it: values of the domain made with no type named.
            s.execute("CREATE TABLE public.hidden_people (id int PRIMARY KEY, d public.hidden_dom)");
            s.execute("INSERT INTO public.hidden_people VALUES (1, NULL)");
            s.execute("GRANT SELECT ON public.hidden_people TO " + db.user());
            s.execute("CREATE TYPE public.hidden_range AS RANGE (subtype = public.hidden_dom)");
            s.execute("""
                    CREATE FUNCTION public.hidden_become() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('role', 'hidden_evil', false); RETURN 1; END $$""");
            s.execute("""
                    CREATE FUNCTION public.hidden_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN SET search_path = hidden_evil, public; RETURN NEW; END $$""");
            s.execute("CREATE TABLE public.hidden_log (id serial PRIMARY KEY, note text)");
            s.execute("CREATE TRIGGER hidden_log_insert AFTER INSERT ON public.hidden_log"
                    + " FOR EACH ROW EXECUTE FUNCTION public.hidden_on_insert()");
            s.execute("GRANT SELECT, INSERT ON public.hidden_log TO " + db.user());
            s.execute("GRANT USAGE ON SEQUENCE public.hidden_log_id_seq TO " + db.user());
            // A trigger that changes no setting: the common case, which a batch must get through.
            s.execute("""
                    CREATE FUNCTION public.hidden_harmless() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN NEW.note := upper(NEW.note); RETURN NEW; END $$""");
            s.execute("CREATE TABLE public.hidden_rows (id int PRIMARY KEY, note text)");
            s.execute("CREATE TRIGGER hidden_rows_insert BEFORE INSERT ON public.hidden_rows"
                    + " FOR EACH ROW EXECUTE FUNCTION public.hidden_harmless()");
            s.execute("GRANT SELECT, INSERT, DELETE ON public.hidden_rows TO " + db.user());
            // Code a write runs with no trigger (decision 0086): an index expression calling a function marked
            // immutable whatever it does, and a default calling the built-in set_config.
            s.execute("""
                    CREATE FUNCTION public.hidden_index_key(v text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('search_path', 'hidden_evil, public', false); RETURN v; END $$""");
            s.execute("CREATE TABLE public.hidden_indexed (id int, note text)");
            s.execute("CREATE INDEX ON public.hidden_indexed (public.hidden_index_key(note))");
            s.execute("CREATE TABLE public.hidden_defaulted (id int,"
                    + " note text DEFAULT set_config('search_path', 'hidden_evil, public', false))");
            // And a table whose writes run nothing: a transaction of writes to it needs no question of the server.
            s.execute("CREATE TABLE public.hidden_plain (id int PRIMARY KEY, n int)");
            s.execute("INSERT INTO public.hidden_plain VALUES (1, 0)");
            s.execute("GRANT SELECT, INSERT, UPDATE ON public.hidden_indexed, public.hidden_defaulted,"
                    + " public.hidden_plain TO " + db.user());
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE ssn IS NOT NULL")) {
            while (rs.next()) {
                ssns.add(rs.getString(1));
            }
        }
        assertThat(ssns).isNotEmpty();
        // An operator vetted both functions: they read no table and return a constant (what the list asks).
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    functions: [hidden_switch, hidden_become]
                    detection:
                      enabled: false
                masking:
                  key_file: masking.key
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP TABLE IF EXISTS public.hidden_log, public.hidden_rows, public.hidden_indexed,"
                + " public.hidden_defaulted, public.hidden_plain");
        s.execute("DROP FUNCTION IF EXISTS public.hidden_index_key(text)");
        s.execute("DROP TABLE IF EXISTS public.hidden_people");
        s.execute("DROP TYPE IF EXISTS public.hidden_range");
        s.execute("DROP DOMAIN IF EXISTS public.hidden_dom");
        s.execute("DROP FUNCTION IF EXISTS public.hidden_check(text)");
        s.execute("DROP FUNCTION IF EXISTS public.hidden_switch(), public.hidden_become(), public.hidden_on_insert(),"
                + " public.hidden_harmless()");
        s.execute("DROP SCHEMA IF EXISTS hidden_evil CASCADE");
        s.execute("DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hidden_evil') THEN"
                + " EXECUTE 'DROP OWNED BY hidden_evil'; DROP ROLE hidden_evil; END IF; END $$");
    }

    /** The control: straight to the server, each route does read the SSN under the harmless name. */
    @Test
    void straightToTheServerEveryRouteReadsTheSsnAsState() throws Exception {
        for (String first : List.of("SELECT hidden_switch()", "SELECT hidden_become()",
                "INSERT INTO hidden_log (note) VALUES ('x')")) {
            try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
                s.execute(first);
                assertThat(column(s, "SELECT state FROM patients")).as(first).containsAnyElementsOf(ssns);
            }
        }
    }

    @Test
    void aGrantedFunctionThatMovesSearchPathEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter(new Properties(), "SELECT hidden_switch()", "changed search_path");
    }

    @Test
    void aTriggerThatMovesSearchPathEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter(new Properties(), "INSERT INTO hidden_log (note) VALUES ('x')", "changed search_path");
    }

    @Test
    void anIndexExpressionOrADefaultThatMovesSearchPathEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter(new Properties(), "INSERT INTO hidden_indexed VALUES (1, 'x')", "changed search_path");
        assertEndedAfter(new Properties(), "INSERT INTO hidden_defaulted (id) VALUES (1)", "changed search_path");
    }

    @Test
    void aTransactionOfWritesToATableThatRunsNoCodeGoesOnInADatabaseHoldingCode() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            Properties props = new Properties();
            props.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(props)) {
                c.setAutoCommit(false);
                try (PreparedStatement up = c.prepareStatement("UPDATE hidden_plain SET n = n + ? WHERE id = 1")) {
                    for (int i = 0; i < 3; i++) {
                        up.setInt(1, 1);
                        assertThat(up.executeUpdate()).isEqualTo(1);
                        c.commit();
                    }
                }
                try (Statement s = c.createStatement()) {
                    assertThat(column(s, "SELECT id::text FROM hidden_plain")).containsExactly("1");
                    assertThat(column(s, "SELECT state FROM patients")).doesNotContainAnyElementsOf(ssns);
                }
                c.commit();
            }
        }
    }

    @Test
    void aCursorWhoseQueryMovesSearchPathAsItIsFetchedEndsTheSessionBeforeTheNextRead() throws Exception {
        // attack10: DECLARE runs nothing; the function runs at FETCH (or MOVE), which was taken to run no code
        for (String fetch : List.of("FETCH hs", "MOVE hs", "FETCH ALL FROM hs")) {
            List<String> received = new ArrayList<>();
            try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("DECLARE hs CURSOR FOR SELECT hidden_switch()");
                s.execute(fetch);
                assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM patients")))
                        .as(fetch)
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                                .contains("phigate ended the session", "changed search_path"));
            }
            assertThat(received).as(fetch).doesNotContainAnyElementsOf(ssns);
        }
    }

    @Test
    void aFunctionThatSwitchesTheRoleEndsTheSessionBeforeTheNextRead() throws Exception {
        // "$user" on the default path now names the schema of the role switched to.
        assertEndedAfter(new Properties(), "SELECT hidden_become()", "changed role");
    }

    @Test
    void aCastToADomainWhoseCheckMovesThePathEndsTheSessionBeforeTheNextRead() throws Exception {
        // No function named, no table written: the domain's CHECK runs where the value is made.
        for (String first : List.of("SELECT 'x'::hidden_dom", "SELECT CAST('x' AS public.hidden_dom)",
                "SELECT hidden_dom 'x'", "SELECT '{x}'::hidden_dom[]")) {
            try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
                s.execute(first);
                assertThat(column(s, "SELECT state FROM patients")).as(first).containsAnyElementsOf(ssns);
            }
            assertEndedAfter(new Properties(), first, "changed search_path");
        }
    }

    @Test
    void aValueOfSuchADomainMadeWithNoTypeNamedEndsTheSessionBeforeTheNextRead() throws Exception {
        // A row's type comes from the row, a multirange's element is the domain (attacker's read of the merge fix).
        for (String first : List.of("SELECT jsonb_populate_record(p, '{\"d\": \"x\"}') FROM hidden_people p",
                "SELECT '{[a,b)}'::hidden_multirange")) {
            try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
                s.execute(first);
                assertThat(column(s, "SELECT state FROM patients")).as(first).containsAnyElementsOf(ssns);
            }
            assertEndedAfter(new Properties(), first, "changed search_path");
        }
    }

    @Test
    void aCastToATemporaryTablesRowTypeEndsTheSessionBeforeTheNextRead() throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE hidden_row (d hidden_dom)");
            s.execute("SELECT '(x)'::hidden_row"); // the row type is the catalog's news: its column is the domain
            assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM patients")))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("phigate ended the session", "changed search_path");
                    });
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void aWriteToATemporaryTableOfSuchADomainEndsTheSessionBeforeTheNextRead() throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE hidden_tmp (a hidden_dom)");
            s.execute("INSERT INTO hidden_tmp VALUES ('x')"); // names no type: the column's domain runs its CHECK
            assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM patients")))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("phigate ended the session", "changed search_path");
                    });
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void theSameRoutesInTheSimpleProtocolEndTheSession() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        assertEndedAfter(simple, "SELECT hidden_switch()", "changed search_path");
        assertEndedAfter(simple, "INSERT INTO hidden_log (note) VALUES ('x')", "changed search_path");
    }

    @Test
    void anExtendedBatchOfReadsThatRunNoCodeStillRuns() throws Exception {
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM patients; SELECT count(*) FROM patients WHERE id > 1")) {
            assertThat(ps.execute()).isTrue();
            assertThat(ps.getMoreResults()).isTrue();
        }
        // Nothing in it may run code, so nothing in it was asked before (decision 0070: no cost there).
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%SELECT count(*) FROM patients"
                + " WHERE id > 1%'", 1)).isNotEmpty().noneSatisfy(r -> assertThat(r.get("statement").toString())
                .contains("asked the server"));
    }

    /** The common path in a database that holds such code: reads, transactions and their settings still work. */
    @Test
    void sessionsThatRunNoSuchCodeGoOnAsBefore() throws Exception {
        for (String mode : List.of("extended", "simple")) {
            Properties props = new Properties();
            props.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(props); Statement s = c.createStatement()) {
                assertThat(column(s, "SELECT state FROM patients LIMIT 1")).hasSize(1);
                // The probe asks with SHOW, which takes no snapshot: the isolation level can still be set.
                s.execute("BEGIN");
                s.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
                assertThat(column(s, "SHOW transaction_isolation")).containsExactly("serializable");
                s.execute("COMMIT");
                // pg_dump's narrowing form is allowed and stays allowed.
                s.execute("SELECT set_config('search_path', '', false)");
                assertThat(column(s, "SELECT count(*) FROM public.patients")).hasSize(1);
                assertThat(column(s, "SELECT current_setting('search_path')")).containsExactly("");
            }
        }
    }

    @Test
    void aStatementPreparedBeforeTheChangeIsNotReboundUnderIt() throws Exception {
        Properties prepared = new Properties();
        prepared.setProperty("prepareThreshold", "1");
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(prepared); PreparedStatement read = c.prepareStatement(
                "SELECT state FROM patients WHERE id > ?")) {
            read.setInt(1, 0);
            received.addAll(rows(read));
            received.addAll(rows(read)); // now a named statement on the server
            try (Statement s = c.createStatement()) {
                s.execute("SELECT hidden_switch()");
            }
            assertThatThrownBy(() -> received.addAll(rows(read))).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getMessage()).contains("changed search_path"));
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void oneSimpleQueryThatChangesThePathAndThenReadsIsRefused() throws Exception {
        // psql -c sends both statements in one Query message: the gateway cannot ask the server in between.
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT,
                        Duration.ofMinutes(5)), "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()),
                "PGUSER", "triage-agent", "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir,
                ClientTools.find("psql").toString(), "-X", "-c",
                "SELECT hidden_switch(); SELECT state FROM patients", "-c", "SELECT state FROM patients LIMIT 1",
                "-c", "SELECT 'plain' AS first; SELECT count(*) AS counted FROM patients");
        assertThat(r.output()).contains("phigate refuses a query whose statements read names after a statement");
        for (String ssn : ssns) {
            assertThat(r.output()).doesNotContain(ssn);
        }
        // Refused whole: the function never ran, so the session reads on as before; and statements that by the
        // catalog run no code (a read of a table without triggers, rules or row security) still share a query.
        assertThat(r.output()).contains("(1 row)", "counted");
    }

    @Test
    void oneExtendedBatchThatChangesThePathAndThenReadsLeavesNoSsnInClear() throws Exception {
        assertNoSsnInOneRequest(new Properties());
    }

    /**
     * pgjdbc's executeBatch: one Sync for all rows, each row's INSERT firing a trigger (code this database holds).
     * Before each later row's Bind the gateway asks the server within the batch (decision 0070): one round trip per
     * row after the first, each recorded with what the server showed.
     */
    @Test
    void aPgjdbcBatchOfInsertsIntoATableWithATriggerRunsWhole() throws Exception {
        int rows = 50; // pgjdbc sends them all before it reads an answer
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO hidden_rows (id, note) VALUES (?, ?)")) {
            for (int i = 1; i <= rows; i++) {
                ps.setInt(1, 100 + i);
                ps.setString(2, "row " + i);
                ps.addBatch();
            }
            assertThat(ps.executeBatch()).containsOnly(1).hasSize(rows);
            try (Statement s = c.createStatement()) {
                List<String> notes = column(s, "SELECT note FROM hidden_rows WHERE id > 100 AND id < 200 ORDER BY id");
                assertThat(notes).hasSize(rows).startsWith("ROW 1").endsWith("ROW " + rows);
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested'"
                + " and statement like 'INSERT INTO hidden_rows (id, note) VALUES ($1, $2)%'"
                + " and statement like '%asked the server after code earlier in this batch: search_path=%'", rows - 1))
                .hasSize(rows - 1);
    }

    /** The same batch where the trigger moves search_path: the session ends at the second row, before it runs. */
    @Test
    void aPgjdbcBatchWhoseTriggerMovesThePathEndsTheSessionAtItsSecondRow() throws Exception {
        int before = count("hidden_log");
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO hidden_log (note) VALUES (?)")) {
            for (String n : List.of("a", "b", "c")) {
                ps.setString(1, n);
                ps.addBatch();
            }
            assertThatThrownBy(ps::executeBatch).isInstanceOfSatisfying(SQLException.class, e -> {
                SQLException cause = e.getNextException() == null ? e : e.getNextException();
                assertThat(cause.getSQLState()).isEqualTo("0A000");
                assertThat(cause.getMessage()).contains("phigate ended the session", "changed search_path");
            });
            assertThat(c.isValid(2)).isFalse();
        }
        // The batch's implicit transaction never committed: not even the first row stays.
        assertThat(count("hidden_log")).isEqualTo(before);
    }

    /** The first row fails: the server skips the rest, the gateway's question included, and the batch ends cleanly. */
    @Test
    void aPgjdbcBatchWhoseFirstRowFailsEndsWithTheServersErrorAndTheSessionGoesOn() throws Exception {
        try (Connection d = TestDatabase.get().direct(); Statement s = d.createStatement()) {
            s.execute("INSERT INTO hidden_rows VALUES (200, 'taken') ON CONFLICT DO NOTHING");
        }
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO hidden_rows (id, note) VALUES (?, 'x')")) {
            for (int id : new int[]{200, 201, 202}) {
                ps.setInt(1, id);
                ps.addBatch();
            }
            assertThatThrownBy(ps::executeBatch).isInstanceOfSatisfying(SQLException.class, e -> {
                SQLException cause = e.getNextException() == null ? e : e.getNextException();
                assertThat(cause.getSQLState()).isEqualTo("23505");
            });
            try (Statement s = c.createStatement()) {
                assertThat(column(s, "SELECT count(*) FROM hidden_rows WHERE id IN (201, 202)")).containsExactly("0");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'INSERT INTO hidden_rows%'"
                + " and statement like '%a statement before the question failed%'", 1)).isNotEmpty();
    }

    /** pgjdbc's multi-statement prepareStatement: a write, then a read of the rows it wrote, in one batch. */
    @Test
    void aMultiStatementPreparedWriteThenReadRuns() throws Exception {
        try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO hidden_rows VALUES (250, 'multi'); SELECT note FROM hidden_rows WHERE id = 250")) {
            assertThat(ps.execute()).isFalse();
            assertThat(ps.getMoreResults()).isTrue();
            try (ResultSet rs = ps.getResultSet()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("MULTI");
            }
        }
    }

    /**
     * libpq's pipeline mode (pgbench's \startpipeline): every statement sent before any answer is read, one Sync at
     * the end. The gateway asks behind the writes without reading the client meanwhile, and nothing deadlocks.
     */
    @Test
    void aLibpqPipelineOfWritesAndAReadRuns() throws Exception {
        Path pgbench = ClientTools.find("pgbench");
        Path script = dir.resolve("pipeline.sql");
        java.nio.file.Files.writeString(script, """
                \\startpipeline
                INSERT INTO hidden_rows (id, note) VALUES (300, 'p');
                INSERT INTO hidden_rows (id, note) VALUES (301, 'p');
                INSERT INTO hidden_rows (id, note) VALUES (302, 'p');
                SELECT count(*) FROM hidden_rows WHERE id BETWEEN 300 AND 302;
                \\endpipeline
                """);
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT,
                        Duration.ofMinutes(5)), "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()),
                "PGUSER", "triage-agent", "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir,
                pgbench.toString(), "-n", "-M", "extended", "-c", "1", "-t", "1", "-f", script.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(count("hidden_rows WHERE id BETWEEN 300 AND 302")).isEqualTo(3);
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like '%VALUES (30_, ''p'')%'"
                + " and statement like '%asked the server after code earlier in this batch%'", 2)).hasSize(2);
    }

    /**
     * A utility statement resolves its names when its portal runs, not at its Bind: {@code EXECUTE shadowed} bound
     * before code of the same batch and executed after it re-reads the prepared SELECT under the path that code left.
     * Found by the attacker's read of 0070: the question came before a Bind only, so this Execute went unasked and
     * the SSNs came back as the untagged {@code state}.
     */
    @Test
    void aPortalOfAnExecuteBoundBeforeCodeAndRunAfterItIsAskedFirst() throws Exception {
        List<BackendMessage> got = new ArrayList<>();
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token(GatewayHarness.AGENT, Duration.ofMinutes(5)));
            c.send(MessageCodec.encode(new FrontendMessage.Query("PREPARE shadowed AS SELECT state FROM patients")));
            assertThat(c.readUntilReadyOrError().getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
            c.send(cat(MessageCodec.encode(new FrontendMessage.Parse("runs_later", "EXECUTE shadowed", new int[0])),
                    MessageCodec.encode(new FrontendMessage.Bind("bound_first", "runs_later", new short[0],
                            new byte[0][], new short[0])),
                    MessageCodec.encode(new FrontendMessage.Parse("", "SELECT hidden_switch()", new int[0])),
                    MessageCodec.encode(new FrontendMessage.Bind("", "", new short[0], new byte[0][], new short[0])),
                    MessageCodec.encode(new FrontendMessage.Execute("", 0)),
                    MessageCodec.encode(new FrontendMessage.Execute("bound_first", 0)),
                    MessageCodec.encode(FrontendMessage.Sync.INSTANCE)));
            for (BackendMessage m = c.read(); m != null && !(m instanceof BackendMessage.ReadyForQuery); m = c.read()) {
                got.add(m);
            }
        } catch (java.net.SocketException reset) {
            // the session ended: what arrived before is judged below
        }
        assertNoSsnAndEnded(got);
    }

    /**
     * A simple Query inside an open extended batch, after only a Parse, runs the code: the batch was not yet open by
     * the gateway's count (no Bind or Execute), so the Bind after it was neither asked within the batch nor, the
     * batch being open upstream, between requests (attacker's read of 0070).
     */
    @Test
    void aBindAfterAQueryThatRanCodeInsideTheOpenBatchIsAskedFirst() throws Exception {
        List<BackendMessage> got = new ArrayList<>();
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token(GatewayHarness.AGENT, Duration.ofMinutes(5)));
            c.send(cat(MessageCodec.encode(new FrontendMessage.Parse("reads", "SELECT state FROM patients",
                            new int[0])),
                    MessageCodec.encode(new FrontendMessage.Query("SELECT hidden_switch()")),
                    MessageCodec.encode(new FrontendMessage.Bind("", "reads", new short[0], new byte[0][],
                            new short[0])),
                    MessageCodec.encode(new FrontendMessage.Execute("", 0)),
                    MessageCodec.encode(FrontendMessage.Sync.INSTANCE)));
            int ready = 0;
            for (BackendMessage m = c.read(); m != null && ready < 2; m = c.read()) {
                got.add(m);
                ready += m instanceof BackendMessage.ReadyForQuery ? 1 : 0;
            }
        } catch (java.net.SocketException reset) {
            // the session ended: what arrived before is judged below
        }
        assertNoSsnAndEnded(got);
    }

    private static void assertNoSsnAndEnded(List<BackendMessage> got) {
        List<String> values = got.stream().filter(m -> m instanceof BackendMessage.DataRow)
                .map(m -> ((BackendMessage.DataRow) m).values()[0])
                .map(v -> v == null ? "" : new String(v, java.nio.charset.StandardCharsets.UTF_8)).toList();
        assertThat(values).doesNotContainAnyElementsOf(ssns);
        assertThat(got).filteredOn(m -> m instanceof BackendMessage.ErrorResponse).singleElement()
                .isInstanceOfSatisfying(BackendMessage.ErrorResponse.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("0A000");
                    assertThat(e.fields().get((byte) 'M')).contains("phigate ended the session", "search_path");
                });
    }

    /**
     * The server converts a Bind's values before it re-reads the statement's names: a domain's CHECK calling code
     * moves search_path in between, so one request of Parse, Bind, Execute read the shadowing view, with no code
     * before it for a question to follow (attacker's read of 0070). The Execute is now asked before.
     */
    @Test
    void aValueWhoseDomainCheckMovesThePathAtBindEndsTheSessionBeforeItsExecute() throws Exception {
        List<BackendMessage> got = new ArrayList<>();
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token(GatewayHarness.AGENT, Duration.ofMinutes(5)));
            c.send(cat(MessageCodec.encode(new FrontendMessage.Parse("",
                            "SELECT state FROM patients WHERE $1::hidden_dom IS NOT NULL", new int[0])),
                    MessageCodec.encode(new FrontendMessage.Bind("", "", new short[0], new byte[][]{{'x'}},
                            new short[0])),
                    MessageCodec.encode(new FrontendMessage.Execute("", 0)),
                    MessageCodec.encode(FrontendMessage.Sync.INSTANCE)));
            for (BackendMessage m = c.read(); m != null && !(m instanceof BackendMessage.ReadyForQuery); m = c.read()) {
                got.add(m);
            }
        } catch (java.net.SocketException reset) {
            // the session ended: what arrived before is judged below
        }
        assertNoSsnAndEnded(got);
    }

    private static byte[] cat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static int count(String table) throws SQLException {
        try (Connection d = TestDatabase.get().direct(); Statement s = d.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void assertNoSsnInOneRequest(Properties props) throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(props);
             PreparedStatement ps = c.prepareStatement("SELECT hidden_switch(); SELECT state FROM patients")) {
            boolean rows = ps.execute();
            while (rows || ps.getUpdateCount() != -1) {
                if (rows) {
                    try (ResultSet rs = ps.getResultSet()) {
                        while (rs.next()) {
                            received.add(rs.getString(1));
                        }
                    }
                }
                rows = ps.getMoreResults();
            }
            throw new AssertionError("the batch ran whole");
        } catch (SQLException ended) {
            // Asked within the batch before the read's Bind (decision 0070): the session ends there.
            assertThat(ended.getSQLState()).isEqualTo("0A000");
            assertThat(ended.getMessage()).contains("phigate ended the session", "changed search_path");
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    private static void assertEndedAfter(Properties props, String first, String reason) throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(props); Statement s = c.createStatement()) {
            s.execute(first);
            assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM patients")))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("phigate ended the session", reason);
                    });
            assertThat(c.isValid(2)).isFalse();
        }
        assertThat(received).as(first).doesNotContainAnyElementsOf(ssns);
    }

    private static List<String> rows(PreparedStatement ps) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static List<String> column(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
