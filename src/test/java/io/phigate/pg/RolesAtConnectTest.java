package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Roles decided at connect: who is admitted, under which role, and what the session records say about it. */
class RolesAtConnectTest {
    static final String POLICY = """
            roles:
              - name: triage-agent
                match: { issuer: "%s", subject: "system:serviceaccount:clinical:*" }
                upstreams: [clinical]
                allow:
                  - { tables: ["public.*"], operations: [select] }
                justification: required
              - name: research-namespace
                match: { claims: { kubernetes.namespace: research } }
                upstreams: ["*"]
              - name: billing-agent
                match: { subject: "system:serviceaccount:billing:*" }
                upstreams: [billing]
            """.formatted(GatewayHarness.ISSUER);

    @TempDir
    Path dir;

    private GatewayHarness start() throws Exception {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        return GatewayHarness.start(dir, c -> GatewayHarness.withPolicy(c, policy));
    }

    private static Connection connect(GatewayHarness gw, String token, String options) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", token);
        if (options != null) {
            p.setProperty("options", options);
        }
        return DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    @Test
    void anIdentityMatchingNoRoleIsRefusedAndAudited() throws Exception {
        try (GatewayHarness gw = start()) {
            String token = gw.token("system:serviceaccount:research:notebook", Duration.ofMinutes(5));
            assertThatThrownBy(() -> connect(gw, token, null).close()).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("28000");
                assertThat(e.getMessage()).contains("no role in the policy matches");
            });
            List<Map<String, Object>> refused = gw.audit("kind = 'connection_refused'");
            assertThat(refused).hasSize(1);
            assertThat(refused.getFirst()).containsEntry("sqlstate", "28000")
                    .containsEntry("subject", "system:serviceaccount:research:notebook");
            assertThat((String) refused.getFirst().get("detail")).contains("no role in the policy matches");
        }
    }

    @Test
    void aRoleOnAnUpstreamItMayNotReachIsRefusedNamingTheRule() throws Exception {
        try (GatewayHarness gw = start()) {
            String token = gw.token("system:serviceaccount:billing:invoicer", Duration.ofMinutes(5));
            assertThatThrownBy(() -> connect(gw, token, null).close()).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("role \"billing-agent\" may not reach upstream \"clinical\"");
            });
            assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '42501'")).hasSize(1);
        }
    }

    @Test
    void theRoleAndJustificationGoIntoTheSessionAndStatementRecords() throws Exception {
        try (GatewayHarness gw = start()) {
            try (Connection c = connect(gw, gw.token(), "-c phigate.justification=ticket\\ 42 -c search_path=public");
                 ResultSet rs = c.createStatement().executeQuery("show search_path")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("public");
            }
            Map<String, Object> started = gw.audit("kind = 'session_started'").getFirst();
            assertThat((String) started.get("detail")).contains("\"role\":\"triage-agent\"",
                    "\"justification\":\"ticket 42\"").doesNotContain("phigate.justification");
            assertThat(gw.audit("kind = 'statement_requested'")).allSatisfy(r ->
                    assertThat((String) r.get("detail")).isEqualTo("{\"justification\":\"ticket 42\"}"));
        }
    }

    @Test
    void aRoleIsMatchedOnKubernetesClaims() throws Exception {
        try (GatewayHarness gw = start()) {
            String token = io.phigate.identity.KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER,
                    "system:serviceaccount:research:notebook", List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(5),
                    Map.of("kubernetes.io", Map.of("namespace", "research",
                            "serviceaccount", Map.of("name", "notebook", "uid", "u-1"))));
            try (Connection c = connect(gw, token, null)) {
                assertThat(c.isValid(2)).isTrue();
            }
            assertThat((String) gw.audit("kind = 'session_started'").getFirst().get("detail"))
                    .contains("\"role\":\"research-namespace\"");
        }
    }

    @Test
    void switchingTheUpstreamRoleAtStartupIsRefused() throws Exception {
        try (GatewayHarness gw = start()) {
            assertThatThrownBy(() -> connect(gw, gw.token(), "-c role=postgres").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
    }
}
