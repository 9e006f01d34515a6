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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database role a session runs as is chosen by the gateway: SET ROLE is refused for every role, and so must be
 * {@code ALTER ROLE CURRENT_USER SET role = ...} (or ALTER DATABASE ... SET), which makes every later session of the
 * shared upstream login, any agent's, start as that role (decision 0084). The session must be analysed (a rule or scope
 * applies to its role): a session nothing analyses is passed through, and its route stays open (disabled below).
 */
class RoleDefaultsForOtherSessionsTest {
    static final String AGENT = "system:serviceaccount:clinical:defaults-agent";
    static final String BUILDER = "system:serviceaccount:clinical:defaults-builder";
    /** A role nothing analyses: no allow rules, justification, windows or risk rule that applies to it. */
    static final String TOOL = "system:serviceaccount:clinical:defaults-tool";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS defaults_other");
            s.execute("CREATE ROLE defaults_other NOLOGIN");
            s.execute("GRANT defaults_other TO " + TestDatabase.get().user());
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: agent
                    match: { subject: "%s" }
                    upstreams: [clinical]
                  - name: builder
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["scratch.*"], operations: [select, insert, ddl] }
                  - name: tool
                    match: { subject: "%s" }
                    upstreams: [clinical]
                approvers:
                  dba:
                    match: { issuer: "%s", claims: { groups: "dba" } }
                rules:
                  - name: held-purges
                    when: { operations: [truncate], tables: [public.defaults_none], roles: [agent] }
                    require_approval: { group: dba, timeout: 5m, mode: ticket }
                """.formatted(AGENT, BUILDER, TOOL, GatewayHarness.ISSUER));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        resetDefaults();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS defaults_other");
        }
    }

    @Test
    void noRoleSetsTheLoginsDefaultRole() throws Exception {
        for (String mode : new String[]{"simple", "extended"}) {
            // A role granted ddl somewhere ran these as DDL that names no table.
            try (Connection c = ThroughTheGateway.as(gw, BUILDER, mode); Statement s = c.createStatement()) {
                assertRefused(s, "ALTER ROLE CURRENT_USER SET role = 'defaults_other'", "setting role is not allowed");
                assertRefused(s, "ALTER ROLE CURRENT_USER IN DATABASE clinical SET ROLE TO defaults_other",
                        "setting role is not allowed");
                assertRefused(s, "ALTER DATABASE clinical SET role = 'defaults_other'", "setting role is not allowed");
                assertRefused(s, "ALTER USER CURRENT_USER SET session_authorization = 'defaults_other'",
                        "setting session_authorization is not allowed");
                s.execute("ALTER ROLE CURRENT_USER SET work_mem = '4MB'"); // another default is DDL as before
            }
            // A session judged by risk rules only: ALTER ROLE installs what every rule that applies holds (0068).
            try (Connection c = ThroughTheGateway.as(gw, AGENT, mode); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute("ALTER ROLE CURRENT_USER SET role = 'defaults_other'"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("PA001"));
            }
        }
        assertThat(currentUser(AGENT)).as("the role a later session runs as").isEqualTo(TestDatabase.get().user());
    }

    @Test
    void aSessionNothingAnalysesDoesNotChooseTheRoleOfOtherAgentsSessions() throws Exception {
        // Nothing analyses this session (its role has no rule), so its ALTER ROLE reaches the server; what it must
        // not do is make another agent's analysed session run as defaults_other.
        try (Connection c = ThroughTheGateway.as(gw, TOOL, "simple"); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE CURRENT_USER SET role = 'defaults_other'");
        }
        try {
            assertThatThrownBy(() -> currentUser(BUILDER))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("starts this session as another role than its login"));
        } finally {
            resetDefaults();
        }
        assertThat(currentUser(BUILDER)).as("once the default is reset").isEqualTo(TestDatabase.get().user());
    }

    private static String currentUser(String subject) throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, subject, "simple"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void resetDefaults() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE " + TestDatabase.get().user() + " RESET ALL");
        }
    }
}
