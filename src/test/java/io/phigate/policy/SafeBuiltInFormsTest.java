package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
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
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safe forms of the built-ins a masked session was refused wholesale (issue 25, item 2), through pgjdbc: custom
 * settings it sets and reads back, notifications with a constant payload, its own backend ended, its own prepared
 * statements listed, pg_stat_activity with other sessions' statement texts masked; and the forms that stay refused
 * because a value the statement reads would leave where masking cannot follow.
 */
class SafeBuiltInFormsTest {
    static final String PREFIX = "system:serviceaccount:clinical:";
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
                  public.patients.last_name: name
            roles:
              - { name: analyst, match: { subject: "%sanalyst" }, upstreams: [clinical] }
            """.formatted(PREFIX);

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static String ssnOfPatient1;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.startWithPolicy(dir, POLICY);
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE id = 1")) {
            rs.next();
            ssnOfPatient1 = rs.getString(1);
        }
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    static Connection analyst() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "analyst");
        p.setProperty("password", gw.token(PREFIX + "analyst", Duration.ofMinutes(10)));
        return DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    static List<String> column(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Test
    void aCustomSettingTheSessionSetIsReadBackAsItIs() throws Exception {
        try (Connection c = analyst(); Statement s = c.createStatement()) {
            s.execute("SELECT set_config('triage.ward', 'ward-7', false)");
            assertThat(column(s, "SELECT current_setting('triage.ward')")).containsExactly("ward-7");
            assertThat(column(s, "SELECT current_setting('work_mem')")).containsExactly("4MB");
        }
    }

    @Test
    void aSettingCannotCarryAMaskedValue() throws Exception {
        try (Connection c = analyst(); Statement s = c.createStatement()) {
            assertRefused(s, "SELECT set_config('triage.ward', ssn, false) FROM patients WHERE id = 1", "set_config");
            assertRefused(s, "SELECT set_config('triage.ward', (SELECT ssn FROM patients LIMIT 1), false)",
                    "set_config");
            assertRefused(s, "SELECT set_config('phigate.justification', 'x', false)", "set_config");
            assertRefused(s, "SELECT current_setting(last_name, true) FROM patients", "current_setting");
        }
    }

    @Test
    void aNotificationWithAConstantPayloadIsSentAndOneComputedFromRowsIsRefused() throws Exception {
        try (Connection c = analyst(); Statement s = c.createStatement()) {
            assertThat(column(s, "SELECT pg_notify('ward', 'bed 4 free')")).hasSize(1);
            assertRefused(s, "SELECT pg_notify('ward', last_name) FROM patients WHERE id = 1", "pg_notify");
            assertRefused(s, "SELECT pg_notify(last_name, 'x') FROM patients WHERE id = 1", "pg_notify");
        }
    }

    @Test
    void theSessionMayEndItsOwnBackendButNoOtherOne() throws Exception {
        try (Connection other = analyst(); Statement o = other.createStatement();
             Connection c = analyst(); Statement s = c.createStatement()) {
            String otherPid = column(o, "SELECT pg_backend_pid()").getFirst();
            assertRefused(s, "SELECT pg_terminate_backend(" + otherPid + ")", "pg_backend_pid()");
            assertRefused(s, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity", "pg_cancel_backend");
            assertThat(column(o, "SELECT 1")).as("the other session lives on").containsExactly("1");
            assertThatThrownBy(() -> s.execute("SELECT pg_terminate_backend(pg_backend_pid())"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57P01"));
        }
    }

    @Test
    void theSessionListsItsOwnPreparedStatements() throws Exception {
        try (Connection c = analyst(); Statement s = c.createStatement()) {
            s.execute("PREPARE ward_count AS SELECT count(*) FROM encounters WHERE department = $1");
            assertThat(column(s, "SELECT statement FROM pg_prepared_statements WHERE name = 'ward_count'"))
                    .containsExactly("PREPARE ward_count AS SELECT count(*) FROM encounters WHERE department = $1");
        }
    }

    @Test
    void pgStatActivityListsSessionsWithOtherSessionsStatementTextsMasked() throws Exception {
        try (Connection direct = TestDatabase.get().direct(); Statement d = direct.createStatement();
             Connection c = analyst(); Statement s = c.createStatement()) {
            // A session outside the gateway leaves a statement text with a literal SSN in pg_stat_activity.
            d.execute("SELECT count(*) FROM patients WHERE ssn = '" + ssnOfPatient1 + "'");
            List<String> queries = column(s, "SELECT query FROM pg_stat_activity WHERE datname = 'clinical'");
            assertThat(queries).isNotEmpty().noneMatch(q -> q != null && q.contains(ssnOfPatient1))
                    .contains("[FREE_TEXT]");
            assertThat(column(s, "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()"))
                    .containsExactly("1");
            assertThat(column(s, "SELECT state FROM pg_stat_activity WHERE pid = pg_backend_pid()"))
                    .containsExactly("active");
            assertRefused(s, "SELECT pid FROM pg_stat_activity WHERE query LIKE '%" + ssnOfPatient1.substring(0, 3)
                    + "%'", "query");
        }
    }

    /** Issue 25's bar: over non-PHI data, psql sees in a masked session exactly what it sees in a pass-through one. */
    @Test
    void psqlRunsTheSafeFormsAsInAPassThroughSession() throws Exception {
        Path psql = io.phigate.clients.ClientTools.find("psql");
        Path script = dir.resolve("safe-forms.sql");
        Files.writeString(script, """
                \\set ON_ERROR_STOP 1
                select set_config('triage.ward', 'ward-7', false);
                select current_setting('triage.ward') as ward, current_setting('DateStyle') as style;
                select pg_notify('ward', 'bed 4 free');
                prepare ward_count as select count(*) from encounters where department = $1;
                select name, statement, from_sql from pg_prepared_statements;
                execute ward_count('Cardiology');
                begin;
                declare beds cursor for select id from encounters order by id;
                select name, statement from pg_cursors;
                commit;
                select state, backend_type from pg_stat_activity where pid = pg_backend_pid();
                select count(*) > 0 as others_listed from pg_stat_activity;
                """);
        Path plainDir = java.nio.file.Files.createDirectories(dir.resolve("pass-through"));
        try (GatewayHarness plain = GatewayHarness.start(plainDir)) {
            String masked = runPsql(psql, script, gw, PREFIX + "analyst", "analyst");
            String passThrough = runPsql(psql, script, plain, GatewayHarness.AGENT, "triage-agent");
            assertThat(masked).contains("ward-7").contains("ward_count").contains("beds").contains("active")
                    .isEqualTo(passThrough);
        }
    }

    private static String runPsql(Path psql, Path script, GatewayHarness through, String subject, String user)
            throws Exception {
        var env = java.util.Map.of("PGPASSWORD", through.token(subject, Duration.ofMinutes(5)), "PGHOST",
                "127.0.0.1", "PGPORT", String.valueOf(through.port()), "PGUSER", user, "PGDATABASE", "clinical",
                "PGSSLMODE", "disable");
        var r = io.phigate.clients.ClientTools.run(env, dir, psql.toString(), "-X", "-f", script.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.output();
    }

    @Test
    void largeObjectsStayRefusedNamingWhy() throws Exception {
        try (Connection c = analyst(); Statement s = c.createStatement()) {
            assertRefused(s, "SELECT lo_create(0)", "lo_create");
            assertRefused(s, "SELECT lo_get(oid) FROM pg_largeobject_metadata", "lo_get");
        }
    }
}
