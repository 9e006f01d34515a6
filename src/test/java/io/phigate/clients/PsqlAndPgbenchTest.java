package io.phigate.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import io.phigate.audit.AuditQueries;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** psql and pgbench, unmodified, through the gateway. */
class PsqlAndPgbenchTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.start(dir);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    private Map<String, String> env() throws Exception {
        return Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(30)), "PGHOST", "127.0.0.1",
                "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent", "PGDATABASE", "clinical",
                "PGCONNECT_TIMEOUT", "10");
    }

    @Test
    void psqlRunsAScriptWithTransactionsCopyAndErrorsThroughTheGateway() throws Exception {
        Path psql = ClientTools.find("psql");
        Path script = dir.resolve("script.sql");
        Files.writeString(script, """
                \\set ON_ERROR_STOP 0
                create temp table ward (bed int, note text);
                begin;
                insert into ward values (1, 'window'), (2, 'door');
                select count(*) as beds from ward;
                commit;
                \\copy ward from stdin with (format csv)
                3,hall
                4,corner
                \\.
                select 'total=' || count(*) from ward;
                select * from no_such_table;
                select 'after-error=' || count(*) from patients where id <= 5;
                \\copy (select bed from ward order by bed) to stdout
                """);
        ClientTools.Result r = ClientTools.run(env(), dir, psql.toString(), "-X", "-v", "VERBOSITY=verbose",
                "-f", script.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("total=4").contains("after-error=5").contains("42P01")
                .contains("1\n2\n3\n4");
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'select ''total=''%'", 1)).hasSize(1);
        assertThat(gw.auditEventually("kind = 'statement_completed' and command_tag = 'COPY 2'", 1)).isNotEmpty();
    }

    @Test
    void pgbenchInitializesAndRunsSelectOnlyAndTpcbWithZeroFailures() throws Exception {
        Path pgbench = ClientTools.find("pgbench");
        Map<String, String> env = env();
        ClientTools.Result init = ClientTools.run(env, dir, pgbench.toString(), "-i", "-s", "2", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();

        double selectOnly = runAndCheck(pgbench, env, "-S", "-c", "8", "-j", "2", "-T", "5");
        double prepared = runAndCheck(pgbench, env, "-S", "-M", "prepared", "-c", "8", "-j", "2", "-T", "5");
        double tpcb = runAndCheck(pgbench, env, "-c", "4", "-j", "2", "-T", "5");

        // The same runs straight at PostgreSQL, for the closing note's comparison (not asserted: that is bench/'s job).
        TestDatabase db = TestDatabase.get();
        Map<String, String> direct = Map.of("PGPASSWORD", db.password(), "PGHOST", "127.0.0.1",
                "PGPORT", String.valueOf(db.port()), "PGUSER", db.user(), "PGDATABASE", "clinical");
        double directSelect = runAndCheck(pgbench, direct, "-S", "-c", "8", "-j", "2", "-T", "5");
        double directPrepared = runAndCheck(pgbench, direct, "-S", "-M", "prepared", "-c", "8", "-j", "2", "-T", "5");
        System.out.printf("pgbench tps through phigate: -S %.0f, -S -M prepared %.0f, tpcb %.0f; direct: -S %.0f,"
                + " -S -M prepared %.0f%n", selectOnly, prepared, tpcb, directSelect, directPrepared);
        Files.writeString(Path.of("target", "pgbench-through-gateway.txt"), String.format(
                "gateway_select=%.0f%ngateway_prepared=%.0f%ngateway_tpcb=%.0f%ndirect_select=%.0f%ndirect_prepared=%.0f%n",
                selectOnly, prepared, tpcb, directSelect, directPrepared));

        long audited = gw.auditEventually("kind = 'statement_requested' and statement like '%pgbench_accounts%'", 100).size();
        assertThat(audited).isGreaterThan(100);
    }

    /** The responses in a server-to-client byte stream: each run of messages up to and including ReadyForQuery. */
    static List<byte[]> untilEachReadyForQuery(byte[] stream) {
        List<byte[]> responses = new ArrayList<>();
        int start = 0;
        int at = 0;
        while (at + 5 <= stream.length) {
            int type = stream[at];
            int length = java.nio.ByteBuffer.wrap(stream, at + 1, 4).getInt();
            at += 1 + length;
            if (type == 'Z') {
                responses.add(Arrays.copyOfRange(stream, start, at));
                start = at;
            }
        }
        return responses;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Polls the search until it finds {@code n} statements (records of a finished client may still be in flight). */
    static List<AuditQueries.Statement> search(AuditQueries queries, AuditQueries.Filter filter, int n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            var found = queries.search(filter, new AuditQueries.Page(1000, 0)).statements();
            if ((found.size() >= n && found.stream().allMatch(s -> s.outcome() != null)) || System.nanoTime() > deadline) {
                return found;
            }
            Thread.sleep(50);
        }
    }

    @Test
    void aPsqlSessionIsFoundBySearchAndReplayedWithTheBytesPsqlReceived() throws Exception {
        Path psql = ClientTools.find("psql");
        String marker = "replay_" + Long.toHexString(System.nanoTime());
        Path script = dir.resolve("replay.sql");
        Files.writeString(script, """
                \\set ON_ERROR_STOP 0
                select '%1$s' as marker, count(*) as patients from patients where id <= 3;
                select mrn, first_name, '%1$s' as marker from patients where id in (1, 2) order by id;
                select * from %1$s_missing;
                select 'done-%1$s';
                """.formatted(marker));
        byte[] received;
        ClientTools.Result r;
        try (var relay = new RecordingRelay(gw.port())) {
            Map<String, String> env = new HashMap<>(env());
            env.put("PGPORT", String.valueOf(relay.port()));
            // Plain bytes on the wire, so what the relay copies is what psql decoded.
            env.put("PGSSLMODE", "disable");
            env.put("PGGSSENCMODE", "disable");
            r = ClientTools.run(env, dir, psql.toString(), "-X", "-f", script.toString());
            assertThat(relay.connections()).as(r.output()).isEqualTo(1);
            received = relay.received(0);
        }
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("done-" + marker).contains("does not exist");
        List<byte[]> responses = untilEachReadyForQuery(received);
        responses = responses.subList(1, responses.size()); // the first ends the startup
        assertThat(responses).hasSize(4);

        AuditQueries queries = AuditQueries.sqlite(gw.auditFile());
        var found = search(queries, AuditQueries.Filter.ANY.withText(marker), 4);
        assertThat(found).extracting(AuditQueries.Statement::outcome).containsExactly("ok", "ok", "error", "ok");
        String session = found.getFirst().sessionId();
        assertThat(found).allSatisfy(st -> assertThat(st.sessionId()).isEqualTo(session));

        var completions = queries.session(session).stream()
                .filter(e -> e.kind().equals("statement_completed")).toList();
        assertThat(completions).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(completions.get(i).responseDigest()).as("statement %d", i + 1)
                    .isEqualTo(sha256(responses.get(i)));
            assertThat(queries.response(completions.get(i).seq())).as("statement %d", i + 1)
                    .isEqualTo(responses.get(i));
        }

        var searched = io.phigate.cli.TestAccess.capture("audit", "search", "--store", gw.auditFile().toString(),
                "--text", "\"select 'done-" + marker + "'\"");
        assertThat(searched.exitCode()).as(searched.err()).isZero();
        assertThat(searched.out()).contains(session.substring(0, 8)).contains("done-" + marker);
        var replay = io.phigate.cli.TestAccess.capture("audit", "session", session, "--store",
                gw.auditFile().toString(), "--responses");
        assertThat(replay.exitCode()).as(replay.err()).isZero();
        assertThat(replay.out()).contains(marker + "_missing").contains("42P01").contains("done-" + marker);
    }

    @Test
    void everyStatementOfAPgbenchRunIsFoundWithItsOutcome() throws Exception {
        Path pgbench = ClientTools.find("pgbench");
        Map<String, String> env = env();
        ClientTools.Result init = ClientTools.run(env, dir, pgbench.toString(), "-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as(init.output()).isZero();
        java.time.Instant since = java.time.Instant.now();
        ClientTools.Result run = ClientTools.run(env, dir, pgbench.toString(), "-n", "-c", "2", "-t", "5");
        assertThat(run.exitCode()).as(run.output()).isZero();

        AuditQueries queries = AuditQueries.sqlite(gw.auditFile());
        AuditQueries.Filter ran = AuditQueries.Filter.ANY.withSince(since);
        // pgbench's TPC-B-like script, each statement 10 times (2 clients, 5 transactions each).
        for (String statement : List.of("BEGIN;", "UPDATE pgbench_accounts SET abalance", "SELECT abalance FROM",
                "UPDATE pgbench_tellers", "UPDATE pgbench_branches", "INSERT INTO pgbench_history", "END;")) {
            var found = search(queries, ran.withText("\"" + statement + "\""), 10);
            assertThat(found).as(statement).hasSize(10)
                    .allSatisfy(st -> assertThat(st.outcome()).as(st.text()).isEqualTo("ok"));
        }
        assertThat(queries.search(ran.withOutcome("incomplete"), AuditQueries.Page.FIRST_100).statements()).isEmpty();
        assertThat(queries.search(ran.withOutcome("error"), AuditQueries.Page.FIRST_100).statements()).isEmpty();
    }

    private double runAndCheck(Path pgbench, Map<String, String> env, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = pgbench.toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        ClientTools.Result r = ClientTools.run(env, dir, cmd);
        assertThat(r.exitCode()).as(r.output()).isZero();
        Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(r.output());
        if (failed.find()) {
            assertThat(Long.parseLong(failed.group(1))).as(r.output()).isZero();
        }
        Matcher processed = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(r.output());
        assertThat(processed.find()).as(r.output()).isTrue();
        assertThat(Long.parseLong(processed.group(1))).isPositive();
        Matcher tps = Pattern.compile("tps = ([\\d.]+)").matcher(r.output());
        assertThat(tps.find()).as(r.output()).isTrue();
        return Double.parseDouble(tps.group(1));
    }
}
