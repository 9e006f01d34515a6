package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routes around a role's allow rules and the risk rules in sessions that are analysed but mask nothing, as an
 * attacker found them: a built-in with a side effect called from a SELECT, a search_path that makes the server read
 * another schema's table under a name the rules allow, and code the analyser cannot follow (a DO block, a function,
 * a built-in that runs SQL given as text) doing what a rule holds. Each is refused before it reaches the database,
 * and the refusal is recorded (decision 0058).
 */
class RoutesAroundScopeAndRulesTest {
    static final String READER = "system:serviceaccount:clinical:routes-reader";
    static final String NOTIFIER = "system:serviceaccount:clinical:routes-notifier";
    static final String AGENT = "system:serviceaccount:clinical:routes-agent";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            String user = TestDatabase.get().user();
            s.execute("CREATE SCHEMA IF NOT EXISTS routes_secret");
            s.execute("CREATE TABLE IF NOT EXISTS routes_secret.patients (id int, secret text)");
            s.execute("TRUNCATE routes_secret.patients");
            s.execute("INSERT INTO routes_secret.patients VALUES (1, 'ROUTES-SECRET-ROW')");
            s.execute("GRANT USAGE ON SCHEMA routes_secret TO " + user);
            s.execute("GRANT SELECT ON routes_secret.patients TO " + user);
            s.execute("DROP TABLE IF EXISTS public.routes_held");
            s.execute("CREATE TABLE public.routes_held (id int)");
            s.execute("INSERT INTO public.routes_held VALUES (1), (2)");
            s.execute("ALTER TABLE public.routes_held OWNER TO " + user);
            s.execute("CREATE OR REPLACE FUNCTION public.routes_count() RETURNS bigint LANGUAGE sql"
                    + " AS 'SELECT count(*) FROM public.routes_held'");
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.patients", "public.medications"], operations: [select] }
                  - name: notifier
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.patients"], operations: [select] }
                      - { tables: ["pg_catalog.pg_notify", "pg_catalog.set_config"], operations: [function] }
                  - name: agent
                    match: { subject: "%s" }
                    upstreams: [clinical]
                approvers:
                  dba:
                    match: { issuer: "%s", claims: { groups: "dba" } }
                rules:
                  - name: held-deletes
                    when: { operations: [delete], tables: [public.routes_held] }
                    require_approval: { group: dba, timeout: 5m, mode: ticket }
                  - name: held-reads
                    when: { tables: [public.encounters] }
                    deny: "encounters are read through the reporting service"
                """.formatted(READER, NOTIFIER, AGENT, GatewayHarness.ISSUER));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void aReadOnlyRoleCallsNoBuiltInThatChangesStateWithoutAGrant() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as(READER, mode, null); Statement s = c.createStatement()) {
                for (String sql : List.of(
                        "SELECT pg_notify('routes', 'hello')",
                        "SELECT set_config('statement_timeout', '1', false)",
                        "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_get_activity(NULL) WHERE false",
                        "SELECT pg_cancel_backend(0)",
                        "SELECT id FROM patients WHERE pg_catalog.pg_stat_reset() IS NULL",
                        "SELECT gin_clean_pending_list('medications_patient_id')",
                        "SELECT pg_catalog.pg_create_restore_point('routes')")) {
                    assertRefused(s, sql, "may change state beyond its result");
                }
                // Volatile built-ins that change nothing still run.
                try (ResultSet rs = s.executeQuery("SELECT random() < 2, clock_timestamp() IS NOT NULL,"
                        + " pg_relation_size('patients') >= 0, gen_random_uuid() IS NOT NULL")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBoolean(1) && rs.getBoolean(2) && rs.getBoolean(3) && rs.getBoolean(4)).isTrue();
                }
            }
        }
        // A grant on the built-in lets it run.
        try (Connection c = as(NOTIFIER, "simple", null); Statement s = c.createStatement()) {
            s.execute("SELECT pg_notify('routes', 'granted')");
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%may change state beyond its result%'", 14)).hasSizeGreaterThanOrEqualTo(14);
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'SELECT pg_notify(''routes'', ''hello'')%'"))
                .hasSize(2);
    }

    /**
     * txid_current() and pg_current_xact_id() are marked stable, not volatile, yet each gives the transaction an xid:
     * a write to WAL and the commit log, and one xid of the two billion before wraparound per call in its own
     * transaction. A read-only role ran them in a loop through the gateway (decision 0089); they now need a grant like
     * any other built-in that changes state.
     */
    @Test
    void aReadOnlyRoleAssignsNoTransactionIdWithoutAGrant() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = as(READER, mode, null); Statement s = c.createStatement()) {
                for (String sql : List.of("SELECT txid_current()", "SELECT pg_catalog.pg_current_xact_id()",
                        "SELECT id FROM patients WHERE txid_current() > 0")) {
                    assertRefused(s, sql, "may change state beyond its result");
                }
                // Reading whether the transaction has one assigns none, and still runs.
                try (ResultSet rs = s.executeQuery("SELECT txid_current_if_assigned() IS NULL")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBoolean(1)).isTrue();
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%built-in function%txid_current may change state%'", 4))
                .hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void aRoleWhoseRulesNameSchemasCannotMoveNamesToAnotherSchema() throws Exception {
        try (Connection c = as(READER, "simple", null); Statement s = c.createStatement()) {
            assertRefused(s, "SET search_path = routes_secret, public", "changing search_path is not allowed");
            assertRefused(s, "SET LOCAL search_path TO routes_secret", "changing search_path is not allowed");
            assertThat(firstSecret(s)).isNull();
        }
        try (Connection c = as(NOTIFIER, "extended", null); Statement s = c.createStatement()) {
            // Granted set_config still may not move names, nor switch the role, nor set a setting it computes.
            assertRefused(s, "SELECT set_config('search_path', 'routes_secret,public', false)",
                    "changing search_path is not allowed");
            assertRefused(s, "SELECT 1 FROM patients WHERE set_config('SEARCH_PATH', 'routes_secret', true) = ''",
                    "changing search_path is not allowed");
            assertRefused(s, "SELECT set_config(lower('SEARCH_PATH'), 'routes_secret', false)",
                    "setting's name written as a string constant");
            assertRefused(s, "SELECT set_config('role', 'pg_monitor', false)", "setting role is not allowed");
            s.execute("SELECT set_config('statement_timeout', '0', false)");
            assertThat(firstSecret(s)).isNull();
        }
        // Risk rules name tables by schema too: a role with none of its own may not move names either.
        try (Connection c = as(AGENT, "simple", null); Statement s = c.createStatement()) {
            assertRefused(s, "SET search_path = routes_secret, public", "changing search_path is not allowed");
            assertThat(firstSecret(s)).isNull();
        }
        // Nor at startup.
        assertThatThrownBy(() -> as(READER, "simple", "routes_secret,public").close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                .hasMessageContaining("search_path");
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%search_path is not allowed%'", 5)).hasSizeGreaterThanOrEqualTo(5);
    }

    @Test
    void codeTheAnalyserCannotFollowMeetsEveryRuleOnWhatItDoes() throws Exception {
        try (Connection c = as(AGENT, "simple", null); Statement s = c.createStatement()) {
            // A DO block and a function may delete anything: the approval rule holds them.
            assertThatThrownBy(() -> s.execute("DO $$ BEGIN DELETE FROM public.routes_held; END $$"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("PA001"))
                    .hasMessageContaining("held-deletes");
            assertThatThrownBy(() -> s.execute("SELECT public.routes_count()"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("PA001"))
                    .hasMessageContaining("held-deletes");
            // ts_rewrite runs its second argument as a query.
            assertThatThrownBy(() -> s.execute("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery,"
                    + " to_tsquery(''simple'', quote_literal(department)) FROM encounters LIMIT 1')"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("held-deletes");
        }
        try (Connection c = as(READER, "simple", null); Statement s = c.createStatement()) {
            assertRefused(s, "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')",
                    "function ts_rewrite is not allowed");
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM public.routes_held")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(2);
        }
        assertThat(gw.auditEventually("kind = 'approval_requested' and detail like '%held-deletes%'", 3))
                .hasSizeGreaterThanOrEqualTo(3);
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%function ts_rewrite is not allowed%'", 1)).hasSize(1);
    }

    /** The secret table's marker if an unqualified {@code patients} reads it; null when it reads public's. */
    private static String firstSecret(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT * FROM patients LIMIT 50")) {
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    if ("ROUTES-SECRET-ROW".equals(rs.getString(i))) {
                        return rs.getString(i);
                    }
                }
            }
        }
        return null;
    }

    private static Connection as(String subject, String mode, String currentSchema) throws Exception {
        Properties p = new Properties();
        if (currentSchema != null) {
            p.setProperty("currentSchema", currentSchema);
        }
        return ThroughTheGateway.as(gw, subject, mode, p);
    }
}
