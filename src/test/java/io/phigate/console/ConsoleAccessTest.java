package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's server-side checks, over plain HTTP: nothing but the sign-in page without a sign-in, an auditor
 * can read but neither approve nor kill (through the pages and through the API), forms need the sign-in's CSRF
 * token, workload identities never get in, and what people do is in the audit store.
 */
class ConsoleAccessTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static ConsoleFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ConsoleFixture.start(dir);
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void anUnauthenticatedRequestGetsNothingButTheSignInPage() throws Exception {
        HttpClient anon = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        for (String path : List.of("/console", "/console/approvals", "/console/approvals/pending.html",
                "/console/sessions", "/console/sessions/live.html", "/console/sessions/x", "/console/audit?subject=a",
                "/console/audit/export?format=csv", "/console/evidence", "/console/evidence/verify",
                "/console/records/1/rows", "/console/records/1/proof", "/console/config")) {
            HttpResponse<String> r = fx.get(anon, path);
            assertThat(r.statusCode()).as(path).isEqualTo(303);
            assertThat(r.headers().firstValue("Location").orElseThrow()).as(path).startsWith("/console/sign-in");
            assertThat(r.body()).as(path).doesNotContain(ConsoleFixture.SSN).doesNotContain("console_patients");
        }
        for (String path : List.of("/console/sessions/x/kill", "/console/approvals/x/decide",
                "/console/evidence/verify", "/console/sign-out")) {
            HttpResponse<String> r = fx.post(anon, path, Map.of("csrf", "guess"));
            assertThat(r.statusCode()).as(path).isEqualTo(401);
        }
        HttpResponse<String> page = fx.get(anon, "/console/sign-in");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<label for=\"token\">").doesNotContain("<nav");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'none'");
        // The APIs behind the console want a console user's token now.
        assertThat(fx.get(anon, "/api/v1/sessions").statusCode()).isEqualTo(401);
        assertThat(fx.get(anon, "/api/v1/audit/statements").statusCode()).isEqualTo(401);
    }

    @Test
    void anAuditorCanReadButNeitherApproveNorKillThroughPagesOrApi() throws Exception {
        try (Connection agent = fx.agent(); Statement s = agent.createStatement()) {
            s.execute("SELECT 1");
            String sessionId = onlySessionOf(ConsoleFixture.AGENT);
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try (Connection c = fx.agent(); java.sql.PreparedStatement st = c.prepareStatement(
                        "DELETE FROM console_held WHERE id = ? AND ?::text IS NOT NULL")) {
                    st.setInt(1, 3);
                    st.setString(2, "param-Ada-Lovelace");
                    return st.executeUpdate();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            String approval = pendingApproval();

            HttpClient audrey = fx.signedIn(fx.audrey());
            HttpResponse<String> sessionsPage = fx.get(audrey, "/console/sessions");
            assertThat(sessionsPage.statusCode()).isEqualTo(200);
            assertThat(sessionsPage.body()).contains(sessionId).doesNotContain("/kill\"");
            String csrf = fx.csrf(audrey, "/console/sessions");
            assertThat(fx.post(audrey, "/console/sessions/" + sessionId + "/kill", Map.of("csrf", csrf)).statusCode())
                    .isEqualTo(403);
            HttpResponse<String> approvalPage = fx.get(audrey, "/console/approvals/" + approval);
            // Bound parameters are shown as the viewer's own role would see them; a viewer with no policy role
            // (nobody has one here) sees them redacted.
            assertThat(approvalPage.body()).contains("DELETE FROM console_held").contains("id=\"params\"")
                    .doesNotContain("param-Ada-Lovelace").doesNotContain("id=\"approve\"");
            assertThat(fx.post(audrey, "/console/approvals/" + approval + "/decide",
                    Map.of("csrf", csrf, "decision", "approve", "reason", "looks fine")).statusCode()).isEqualTo(403);

            String audreyToken = fx.audrey();
            assertThat(fx.api("POST", "/api/v1/sessions/" + sessionId + "/kill", audreyToken).statusCode())
                    .isEqualTo(403);
            assertThat(fx.api("POST", "/api/v1/approvals/" + approval + "/approve", audreyToken).statusCode())
                    .isIn(403, 404);
            assertThat(fx.api("GET", "/api/v1/sessions", audreyToken).statusCode()).isEqualTo(200);

            // Nothing changed: the session still answers, the statement is still held.
            try (ResultSet rs = s.executeQuery("SELECT 2")) {
                assertThat(rs.next()).isTrue();
            }
            assertThat(held).isNotDone();
            assertThat(JSON.readTree(fx.api("GET", "/api/v1/approvals/" + approval, fx.alice()).body())
                    .get("state").asText()).isEqualTo("pending");

            // An approver decides through the page; the held statement completes.
            HttpClient alice = fx.signedIn(fx.alice());
            String aliceCsrf = fx.csrf(alice, "/console/approvals/" + approval);
            HttpResponse<String> decided = fx.post(alice, "/console/approvals/" + approval + "/decide",
                    Map.of("csrf", aliceCsrf, "decision", "approve", "reason", "ticket CHG-1"));
            assertThat(decided.statusCode()).isEqualTo(200);
            assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo(1);

            // An admin ends the session through the API; the agent gets 57P01.
            assertThat(fx.api("POST", "/api/v1/sessions/" + sessionId + "/kill", fx.alice()).statusCode())
                    .isEqualTo(200);
            assertThatThrownBy(() -> s.executeQuery("SELECT 3")).isInstanceOf(java.sql.SQLException.class);
        }
    }

    @Test
    void formsWithoutTheSignInsCsrfTokenAreRefused() throws Exception {
        try (Connection agent = fx.agent(); Statement s = agent.createStatement()) {
            s.execute("SELECT 1");
            String sessionId = onlySessionOf(ConsoleFixture.AGENT);
            HttpClient alice = fx.signedIn(fx.alice());
            HttpClient other = fx.signedIn(fx.alice());
            String otherCsrf = fx.csrf(other, "/console/sessions");
            assertThat(fx.post(alice, "/console/sessions/" + sessionId + "/kill", Map.of()).statusCode()).isEqualTo(403);
            assertThat(fx.post(alice, "/console/sessions/" + sessionId + "/kill", Map.of("csrf", otherCsrf))
                    .statusCode()).isEqualTo(403);
            try (ResultSet rs = s.executeQuery("SELECT 2")) {
                assertThat(rs.next()).isTrue();
            }
            // With its own token the same form works, and the kill is on record with who did it.
            String csrf = fx.csrf(alice, "/console/sessions");
            assertThat(fx.post(alice, "/console/sessions/" + sessionId + "/kill", Map.of("csrf", csrf)).statusCode())
                    .isEqualTo(200);
            assertThatThrownBy(() -> s.executeQuery("SELECT 3")).isInstanceOf(java.sql.SQLException.class)
                    .hasMessageContaining("administrator command");
            List<Map<String, Object>> kills = fx.gw.auditEventually("kind = 'console_action' AND session_id = '"
                    + sessionId + "'", 1);
            assertThat(kills.getFirst().get("subject")).isEqualTo(ConsoleFixture.ALICE);
            assertThat((String) kills.getFirst().get("detail")).contains("session_kill");
        }
    }

    @Test
    void workloadIdentitiesAndPeopleWithoutAConsoleRoleCannotSignIn() throws Exception {
        String workload = fx.person("system:serviceaccount:clinical:sneaky", "phigate-admins");
        assertThatThrownBy(() -> fx.signedIn(workload)).hasMessageContaining("403");
        String nobody = fx.person("nobody@hospital.example", "clinicians");
        assertThatThrownBy(() -> fx.signedIn(nobody)).hasMessageContaining("403");
        assertThatThrownBy(() -> fx.signedIn("not-a-token")).hasMessageContaining("401");
        assertThat(fx.api("GET", "/api/v1/sessions", workload).statusCode()).isEqualTo(403);
        List<Map<String, Object>> refused = fx.gw.auditEventually("kind = 'console_action' AND outcome = 'refused'", 3);
        assertThat(refused).extracting(r -> r.get("subject")).contains("system:serviceaccount:clinical:sneaky",
                "nobody@hospital.example");
    }

    @Test
    void exportGivesTheRecordsOfTheFilterOnScreenAndIsRecorded() throws Exception {
        try (Connection agent = fx.agent(); Statement s = agent.createStatement()) {
            s.execute("SELECT name FROM console_patients WHERE id = 2 /* export-marker */");
        }
        HttpClient audrey = fx.signedIn(fx.audrey());
        HttpResponse<String> csv = fx.get(audrey, "/console/audit/export?format=csv&text=export-marker");
        assertThat(csv.statusCode()).isEqualTo(200);
        assertThat(csv.headers().firstValue("Content-Disposition").orElseThrow()).contains("attachment");
        String[] lines = csv.body().split("\r\n");
        assertThat(lines[0]).startsWith("seq,time,kind,session_id");
        assertThat(lines).hasSize(3); // the header, the request and its completion
        assertThat(lines[1]).contains("statement_requested").contains(ConsoleFixture.AGENT).contains("export-marker");
        assertThat(lines[2]).contains("statement_completed");
        HttpResponse<String> ocsf = fx.get(audrey, "/console/audit/export?format=ocsf&text=export-marker");
        JsonNode event = JSON.readTree(ocsf.body().lines().findFirst().orElseThrow());
        assertThat(event.get("class_uid").asInt()).isEqualTo(6005);
        List<Map<String, Object>> exports = fx.gw.auditEventually("kind = 'console_action' AND detail LIKE '%export%'", 2);
        assertThat(exports).extracting(r -> r.get("subject")).containsOnly(ConsoleFixture.AUDREY);
    }

    private static String onlySessionOf(String subject) throws Exception {
        for (var s : fx.gw.gateway().sessions().list()) {
            if (s.identity().subject().equals(subject) && s.statements() > 0) {
                return s.id();
            }
        }
        throw new AssertionError("no session of " + subject);
    }

    private static String pendingApproval() throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode list = JSON.readTree(fx.api("GET", "/api/v1/approvals?status=pending", fx.alice()).body());
            if (!list.get("approvals").isEmpty()) {
                return list.get("approvals").get(0).get("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval");
    }
}
