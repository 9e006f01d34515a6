package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.config.GatewayConfig;
import io.phigate.config.UpstreamConfig;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.BackendMessage.ParameterStatus;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An analysed session (here: masked) runs with client_encoding UTF8 whatever the route that would change it: the
 * startup packet, options, the role's or database's default, and at run time whatever the analyser cannot see (a
 * trigger calling set_config), where the server's own ParameterStatus ends the session before anything sent after
 * it reaches the server. Raw protocol, so the test sends exactly what a hostile client would.
 */
class AnalysedSessionEncodingTest {
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
                functions: [enc_scoped]
              latin:
                columns:
                  public.enc_latin_people.ssn: ssn
            masking:
              key_file: masking.key
            """;
    static final String LATIN_DB = "phigate_enc_latin1";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection c = db.superuser(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + LATIN_DB + "'");
            if (!rs.next()) {
                s.execute("CREATE DATABASE " + LATIN_DB + " ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'"
                        + " TEMPLATE template0");
            }
        }
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS enc_probe (id int)");
            s.execute("CREATE TABLE IF NOT EXISTS enc_side_effect (id int)");
            s.execute("TRUNCATE enc_probe, enc_side_effect");
            // A route the analyser never sees: the statement is a plain INSERT, the switch is in a trigger.
            s.execute("""
                    CREATE OR REPLACE FUNCTION enc_probe_switch() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('client_encoding', 'SJIS', false); RETURN NEW; END $$""");
            s.execute("DROP TRIGGER IF EXISTS enc_probe_switch ON enc_probe");
            s.execute("CREATE TRIGGER enc_probe_switch BEFORE INSERT ON enc_probe FOR EACH ROW"
                    + " EXECUTE FUNCTION enc_probe_switch()");
            // A function's own SET clause is undone when it returns.
            s.execute("CREATE OR REPLACE FUNCTION enc_scoped() RETURNS int LANGUAGE sql"
                    + " SET client_encoding = 'SJIS' AS 'SELECT 1'");
        }
        Files.writeString(dir.resolve("masking.key"), "k".repeat(64));
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        gw = GatewayHarness.start(dir, c -> {
            UpstreamConfig clinical = c.upstreams().get("clinical");
            Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
            upstreams.put("clinical", new UpstreamConfig("clinical", clinical.address(), clinical.database(),
                    clinical.credentials(), clinical.tls(), Set.of("work_mem")));
            // Not in the policy: a pass-through session on the same database.
            upstreams.put("plain", new UpstreamConfig("plain", clinical.address(), clinical.database(),
                    clinical.credentials(), clinical.tls()));
            upstreams.put("latin", new UpstreamConfig("latin", clinical.address(), LATIN_DB,
                    clinical.credentials(), clinical.tls()));
            GatewayConfig withUpstreams = new GatewayConfig(c.listen(), upstreams, c.identity(), c.audit(),
                    c.limits(), c.tls(), c.policy(), c.baseDir(), c.console());
            return GatewayHarness.withPolicy(withUpstreams, policy);
        });
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    /** Logs in with these startup parameters; returns everything up to ReadyForQuery or the first error. */
    private static List<BackendMessage> login(RawClient c, String database, Map<String, String> extra)
            throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "raw-agent");
        p.put("database", database);
        p.putAll(extra);
        c.send(MessageCodec.encode(new FrontendMessage.StartupMessage(MessageCodec.PROTOCOL_3_0, p)));
        BackendMessage m = c.read();
        assertThat(m).isInstanceOf(BackendMessage.AuthenticationCleartextPassword.class);
        c.send(RawClient.passwordPacket(gw.token()));
        return c.readUntilReadyOrError();
    }

    private static String reported(List<BackendMessage> got, String name) {
        return got.stream().filter(m -> m instanceof ParameterStatus p && p.name().equals(name))
                .map(m -> ((ParameterStatus) m).value()).reduce((a, b) -> b).orElse(null);
    }

    private static ErrorResponse refusal(List<BackendMessage> got) {
        assertThat(got).last().isInstanceOf(ErrorResponse.class);
        return (ErrorResponse) got.getLast();
    }

    private static byte[] query(String sql) {
        return MessageCodec.encode(new FrontendMessage.Query(sql));
    }

    private static long count(String table) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- startup ----

    @ParameterizedTest
    @ValueSource(strings = {"client_encoding=SJIS", "options=-c client_encoding=SJIS", "options=--client-encoding=sjis",
            "options=-cCLIENT_ENCODING=BIG5", "options=-c Client-Encoding=latin1",
            "options=-c client_encoding=UTF8 -c client_encoding=GBK", "client_encoding=SQL_ASCII"})
    void aClientEncodingOtherThanUtf8IsRefusedAtStartupWhateverItsRoute(String parameter) throws Exception {
        String[] kv = parameter.split("=", 2);
        try (RawClient c = new RawClient(gw.port())) {
            ErrorResponse e = refusal(login(c, "clinical", Map.of(kv[0], kv[1])));
            assertThat(e.fields().get((byte) 'V')).isEqualTo("FATAL");
            assertThat(e.sqlState()).isEqualTo("0A000");
            assertThat(e.message()).contains("client_encoding");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '0A000' and detail like '%client_encoding%'"))
                .isNotEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"UTF8", "'utf-8'", "Unicode", "u-t-f_8"})
    void utf8SpelledAnyWayPostgresAcceptsStarts(String spelling) throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            List<BackendMessage> got = login(c, "clinical", Map.of("client_encoding", spelling));
            assertThat(got).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            assertThat(reported(got, "client_encoding")).isEqualTo("UTF8");
        }
    }

    @Test
    void aSessionNamingNoEncodingRunsInUtf8OverItsRolesAndItsDatabasesDefault() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("ALTER ROLE " + db.user() + " SET client_encoding = 'SJIS'");
            try (RawClient c = new RawClient(gw.port())) {
                List<BackendMessage> got = login(c, "clinical", Map.of());
                assertThat(got).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
                assertThat(reported(got, "client_encoding")).isEqualTo("UTF8");
            }
            // The same role through a pass-through session gets its default: the rule is the analysed session's.
            try (RawClient c = new RawClient(gw.port())) {
                assertThat(reported(login(c, "plain", Map.of()), "client_encoding")).isEqualTo("SJIS");
            }
        } finally {
            try (Connection su = db.superuser(); Statement s = su.createStatement()) {
                s.execute("ALTER ROLE " + db.user() + " RESET client_encoding");
            }
        }
        try (RawClient c = new RawClient(gw.port())) {
            List<BackendMessage> got = login(c, "latin", Map.of());
            assertThat(reported(got, "server_encoding")).isEqualTo("LATIN1");
            assertThat(reported(got, "client_encoding")).isEqualTo("UTF8");
            c.send(query("SELECT 'café' AS word"));
            List<BackendMessage> answer = c.readUntilReadyOrError();
            assertThat(answer).anySatisfy(m -> assertThat(m).isInstanceOfSatisfying(BackendMessage.DataRow.class,
                    row -> assertThat(new String(row.values()[0], StandardCharsets.UTF_8)).isEqualTo("café")));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session_preload_libraries=auto_explain", "options=-c jit=off",
            "options=--local-preload-libraries=x", "lc_messages=C", "geqo=off", "options=-c myapp.tenant=7"})
    void aStartupSettingNotOnTheAllowlistIsRefusedNamingItAndTheKeyThatWouldAllowIt(String parameter) throws Exception {
        String[] kv = parameter.split("=", 2);
        String name = (kv[0].equals("options") ? kv[1].replaceFirst("^(-c ?|--)", "").split("=")[0] : kv[0])
                .replace('-', '_');
        try (RawClient c = new RawClient(gw.port())) {
            ErrorResponse e = refusal(login(c, "clinical", Map.of(kv[0], kv[1])));
            assertThat(e.sqlState()).isEqualTo("42501");
            assertThat(e.message()).contains("\"" + name + "\"", "upstreams.clinical.startup_parameters.allow");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"DateStyle=SQL, DMY", "options=-c datestyle=German", "standard_conforming_strings=off"})
    void aDriverSettingWithAValueTheAnalysisCannotRunWithIsRefused(String parameter) throws Exception {
        String[] kv = parameter.split("=", 2);
        try (RawClient c = new RawClient(gw.port())) {
            assertThat(refusal(login(c, "clinical", Map.of(kv[0], kv[1]))).sqlState()).isEqualTo("0A000");
        }
    }

    @Test
    void whatDriversSendAndWhatTheOperatorAllowsPassesThrough() throws Exception {
        Map<String, String> drivers = new LinkedHashMap<>();
        drivers.put("application_name", "PostgreSQL JDBC Driver");
        drivers.put("DateStyle", "ISO");
        drivers.put("TimeZone", "Europe/Paris");
        drivers.put("extra_float_digits", "2");
        drivers.put("statement_timeout", "5000");
        drivers.put("options", "-c IntervalStyle=iso_8601 --work-mem=8MB");
        try (RawClient c = new RawClient(gw.port())) {
            List<BackendMessage> got = login(c, "clinical", drivers);
            assertThat(got).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            assertThat(reported(got, "TimeZone")).isEqualTo("Europe/Paris");
            c.send(query("SHOW work_mem"));
            assertThat(c.readUntilReadyOrError()).anySatisfy(m -> assertThat(m).isInstanceOfSatisfying(
                    BackendMessage.DataRow.class, row -> assertThat(new String(row.values()[0])).isEqualTo("8MB")));
        }
    }

    @Test
    void aPassThroughSessionKeepsWhateverSettingsItSends() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            List<BackendMessage> got = login(c, "plain", Map.of("client_encoding", "SJIS", "options", "-c jit=off"));
            assertThat(got).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            assertThat(reported(got, "client_encoding")).isEqualTo("SJIS");
        }
    }

    // ---- the server's word at run time ----

    @Test
    void anEncodingChangeTheAnalyserCannotSeeEndsTheSessionAndTheStatementSentAfterItNeverRuns() throws Exception {
        long sideEffects = count("enc_side_effect");
        try (RawClient c = new RawClient(gw.port())) {
            assertThat(login(c, "clinical", Map.of())).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            // One write: the second statement is in the gateway before the server has even run the first.
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.write(query("INSERT INTO enc_probe VALUES (1)"));
            both.write(query("INSERT INTO enc_side_effect VALUES (1)"));
            c.send(both.toByteArray());
            List<BackendMessage> got = new ArrayList<>();
            for (BackendMessage m; (m = c.read()) != null; ) {
                got.add(m);
            }
            assertThat(got).noneMatch(m -> m instanceof ParameterStatus);
            ErrorResponse fatal = refusal(got);
            assertThat(fatal.fields().get((byte) 'V')).isEqualTo("FATAL");
            assertThat(fatal.sqlState()).isEqualTo("0A000");
            assertThat(fatal.message()).contains("client_encoding SJIS");
        }
        assertThat(count("enc_side_effect")).isEqualTo(sideEffects);
        assertThat(gw.auditEventually("kind = 'session_ended' and detail like '%client_encoding SJIS%'", 1))
                .isNotEmpty();
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'aborted'"
                + " and detail like '%not forwarded%'", 1)).isNotEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET client_encoding = 'SJIS'", "SET NAMES 'BIG5'", "SET SESSION client_encoding TO gbk"})
    void settingAnotherEncodingIsRefusedAndTheSessionGoesOnInUtf8(String statement) throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            login(c, "clinical", Map.of());
            c.send(query(statement));
            assertThat(refusal(c.readUntilReadyOrError()).sqlState()).isEqualTo("0A000");
            assertThat(c.read()).isInstanceOf(BackendMessage.ReadyForQuery.class);
            c.send(query("SHOW client_encoding"));
            assertThat(c.readUntilReadyOrError()).anySatisfy(m -> assertThat(m).isInstanceOfSatisfying(
                    BackendMessage.DataRow.class, row -> assertThat(new String(row.values()[0])).isEqualTo("UTF8")));
        }
    }

    @Test
    void anExtendedProtocolPipelineStopsAtTheRequestThatChangedTheEncoding() throws Exception {
        long sideEffects = count("enc_side_effect");
        try (RawClient c = new RawClient(gw.port())) {
            assertThat(login(c, "clinical", Map.of())).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
            for (String sql : List.of("INSERT INTO enc_probe VALUES (2)", "INSERT INTO enc_side_effect VALUES (2)")) {
                pipeline.write(MessageCodec.encode(new FrontendMessage.Parse("", sql, new int[0])));
                pipeline.write(MessageCodec.encode(new FrontendMessage.Bind("", "", new short[0], new byte[0][],
                        new short[0])));
                pipeline.write(MessageCodec.encode(new FrontendMessage.Execute("", 0)));
                pipeline.write(MessageCodec.encode(FrontendMessage.Sync.INSTANCE));
            }
            c.send(pipeline.toByteArray());
            List<BackendMessage> got = new ArrayList<>();
            for (BackendMessage m; (m = c.read()) != null; ) {
                got.add(m);
            }
            assertThat(refusal(got).sqlState()).isEqualTo("0A000");
        }
        assertThat(count("enc_side_effect")).isEqualTo(sideEffects);
    }

    @Test
    void aFunctionsOwnSetClauseIsUndoneBeforeTheServerReportsSoTheSessionGoesOn() throws Exception {
        // PostgreSQL 14+ reports a changed setting at ReadyForQuery, by which time the function's SET is undone:
        // nothing is reported, and statements in the meantime were already read in UTF-8.
        try (RawClient c = new RawClient(gw.port())) {
            login(c, "clinical", Map.of());
            c.send(query("SELECT enc_scoped()"));
            List<BackendMessage> got = c.readUntilReadyOrError();
            assertThat(got).as(() -> got.getLast() instanceof ErrorResponse e ? e.message() : "")
                    .last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            assertThat(got).noneMatch(m -> m instanceof ParameterStatus);
            c.send(query("SELECT 1"));
            assertThat(c.readUntilReadyOrError()).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
        }
    }

    // ---- statement text is UTF-8, strictly ----

    @Test
    void malformedUtf8InAStatementIsRefusedWithTheServersOwnError() throws Exception {
        byte[] bad = {'S', 'E', 'L', 'E', 'C', 'T', ' ', '\'', (byte) 0xC3, '(', '\'', 0};
        ErrorResponse server;
        try (RawClient c = new RawClient(gw.port())) {
            login(c, "plain", Map.of("client_encoding", "UTF8")); // pass-through: the server's own answer
            c.send(RawClient.frame('Q', bad));
            server = refusal(c.readUntilReadyOrError());
        }
        try (RawClient c = new RawClient(gw.port())) {
            login(c, "clinical", Map.of());
            c.send(RawClient.frame('Q', bad));
            List<BackendMessage> got = c.readUntilReadyOrError();
            ErrorResponse ours = refusal(got);
            assertThat(ours.sqlState()).isEqualTo(server.sqlState()).isEqualTo("22021");
            assertThat(ours.message()).isEqualTo(server.message());
            assertThat(c.read()).isInstanceOf(BackendMessage.ReadyForQuery.class);

            ByteArrayOutputStream parse = new ByteArrayOutputStream();
            parse.write('\0');
            parse.write(bad);
            parse.write(new byte[]{0, 0});
            c.send(RawClient.frame('P', parse.toByteArray()));
            c.send(MessageCodec.encode(FrontendMessage.Sync.INSTANCE));
            assertThat(refusal(c.readUntilReadyOrError()).sqlState()).isEqualTo("22021");
            assertThat(c.read()).isInstanceOf(BackendMessage.ReadyForQuery.class);
            c.send(query("SELECT 1"));
            assertThat(c.readUntilReadyOrError()).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
        }
    }

    // ---- real drivers ----

    @Test
    void pgjdbcConnectsToAMaskedSessionAndRunsInUtf8() throws Exception {
        try (Connection c = gw.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'ünïcödé'")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("ünïcödé");
        }
    }

    @Test
    void nodePostgresConnectsToAMaskedSessionWithTheSettingsItSends() throws Exception {
        Path node = io.phigate.clients.ClientTools.find("node");
        Path modules = Path.of(System.getenv().getOrDefault("PHIGATE_NODE_MODULES", "target/node-clients/node_modules"))
                .toAbsolutePath();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(modules.resolve("pg"))
                || System.getenv("PHIGATE_REQUIRE_CLIENTS") != null, "node-postgres not installed in " + modules);
        Path script = dir.resolve("masked-client.js");
        // node-postgres sends client_encoding UTF8 itself, and statement_timeout and application_name when asked.
        Files.writeString(script, """
                const { Client } = require('pg');
                (async () => {
                  const c = new Client({ host: '127.0.0.1', port: +process.env.PGPORT, user: 'node-agent',
                                         password: process.env.PGPASSWORD, database: 'clinical', ssl: false,
                                         application_name: 'node-probe', statement_timeout: 5000 });
                  await c.connect();
                  const out = {};
                  out.id = (await c.query('select id from patients where id = $1', [3])).rows[0].id;
                  out.multi = (await c.query('select 1 as a; select 2 as b')).length;
                  out.text = (await c.query("select 'ünïcödé' as t")).rows[0].t;
                  console.log(JSON.stringify(out));
                  await c.end();
                })().catch(e => { console.error(e.message); process.exit(1); });
                """);
        var r = io.phigate.clients.ClientTools.run(Map.of("NODE_PATH", modules.toString(), "PGPORT",
                String.valueOf(gw.port()), "PGPASSWORD", gw.token()), dir, node.toString(), script.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("\"id\":3", "\"multi\":2", "\"text\":\"ünïcödé\"");
    }

    @Test
    void psqlConnectsToAMaskedSessionAndIsRefusedWithAnotherEncoding() throws Exception {
        Path psql = io.phigate.clients.ClientTools.find("psql");
        Map<String, String> env = new LinkedHashMap<>(Map.of("PGPASSWORD", gw.token(), "PGHOST", "127.0.0.1",
                "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent", "PGDATABASE", "clinical",
                "PGSSLMODE", "disable"));
        var ok = io.phigate.clients.ClientTools.run(env, dir, psql.toString(), "-X", "-At", "-c", "SHOW client_encoding");
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(ok.output().strip()).isEqualTo("UTF8");

        env.put("PGCLIENTENCODING", "SJIS");
        var sjis = io.phigate.clients.ClientTools.run(env, dir, psql.toString(), "-X", "-At", "-c", "SELECT 1");
        assertThat(sjis.exitCode()).isNotZero();
        assertThat(sjis.output()).contains("client_encoding");

        env.remove("PGCLIENTENCODING");
        env.put("PGOPTIONS", "-c client_encoding=BIG5");
        var big5 = io.phigate.clients.ClientTools.run(env, dir, psql.toString(), "-X", "-At", "-c", "SELECT 1");
        assertThat(big5.exitCode()).isNotZero();
        assertThat(big5.output()).contains("client_encoding");
    }
}
