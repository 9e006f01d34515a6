package io.phigate.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
