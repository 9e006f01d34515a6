package io.phigate.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.GatewayHarness;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.config.HttpConfig;
import io.phigate.identity.KeyTool;
import io.phigate.policy.Match;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API (audit search and replay, sessions list and kill) without a web console: authenticated by the
 * local admin token or an {@code http.admins} bearer, answering only its own Host names, and refusing writes a
 * cross-site form could send. Real gateway, real HTTP client; the Host probes go over a plain socket because a
 * rebinding browser sends exactly such a request and Java's client will not forge the header.
 */
class AdminApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN = "ops@hospital.example";

    @TempDir
    Path dir;

    private GatewayHarness start(String listenHost, List<String> allowedHosts) throws Exception {
        return GatewayHarness.start(dir, c -> GatewayHarness.withHttpConfig(new GatewayConfig(
                new GatewayConfig.Listen(c.listen().postgres(), new HostPort(listenHost, 0)), c.upstreams(),
                c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()),
                new HttpConfig(allowedHosts, dir.resolve("admin.token"), List.of(new Match(GatewayHarness.ISSUER, null,
                        Map.of("groups", "phigate-admins"))))));
    }

    private static String base(GatewayHarness gw) {
        return "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
    }

    private String adminToken() throws Exception {
        return Files.readString(dir.resolve("admin.token")).strip();
    }

    private static String person(GatewayHarness gw, String subject, String group) throws Exception {
        return KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, subject, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(5), Map.of("groups", List.of(group)));
    }

    /** {@code method path} with {@code bearer} (may be null) and, for a body, its content type. */
    private static HttpResponse<String> send(GatewayHarness gw, String method, String path, String bearer,
                                             String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(gw) + path));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static HttpResponse<String> get(GatewayHarness gw, String path, String bearer) throws Exception {
        return send(gw, "GET", path, bearer, null, null);
    }

    private static HttpResponse<String> kill(GatewayHarness gw, String sessionId, String bearer) throws Exception {
        return send(gw, "POST", "/api/v1/sessions/" + sessionId + "/kill", bearer, "application/json", null);
    }

    /** The status line's code for a GET sent with exactly this Host header. */
    private static int statusWithHost(GatewayHarness gw, String path, String host, String bearer) throws Exception {
        return Integer.parseInt(rawWithHost(gw, path, host, bearer).substring(9, 12));
    }

    /** The whole response to a GET sent with exactly this Host header. */
    private static String rawWithHost(GatewayHarness gw, String path, String host, String bearer) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", gw.gateway().httpAddress().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + bearer
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String onlySession(GatewayHarness gw) {
        assertThat(gw.gateway().sessions().list()).hasSize(1);
        return gw.gateway().sessions().list().getFirst().id();
    }

    private static void stillAnswers(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    @Test
    void withoutAConsoleTheAuditAndSessionsApisRefuseAnyoneWithoutAToken() throws Exception {
        try (GatewayHarness gw = start("127.0.0.1", List.of()); Connection agent = gw.connect()) {
            stillAnswers(agent);
            String session = onlySession(gw);
            for (String path : List.of("/api/v1/audit/statements?subject=" + GatewayHarness.AGENT,
                    "/api/v1/audit/sessions/" + session, "/api/v1/sessions")) {
                HttpResponse<String> r = get(gw, path, null);
                assertThat(r.statusCode()).as(path).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
                assertThat(JSON.readTree(r.body()).get("error").asText()).contains(dir.resolve("admin.token").toString())
                        .contains("http.admins");
                assertThat(r.body()).doesNotContain("select 1");
            }
            HttpResponse<String> refused = kill(gw, session, null);
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(send(gw, "POST", "/api/v1/sessions/kill?subject=" + GatewayHarness.AGENT, null,
                    "application/json", null).statusCode()).isEqualTo(401);
            stillAnswers(agent);
        }
    }

    @Test
    void theLocalAdminTokenAndAnHttpAdminsBearerAreAcceptedAndNobodyElse() throws Exception {
        try (GatewayHarness gw = start("127.0.0.1", List.of()); Connection agent = gw.connect()) {
            stillAnswers(agent);
            String session = onlySession(gw);
            gw.auditEventually("kind = 'statement' and statement = 'select 1'", 1);
            HttpResponse<String> search = get(gw, "/api/v1/audit/statements?text=select%201", adminToken());
            assertThat(search.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(search.body()).get("statements")).isNotEmpty();
            String ops = person(gw, ADMIN, "phigate-admins");
            assertThat(get(gw, "/api/v1/audit/sessions/" + session, ops).statusCode()).isEqualTo(200);
            assertThat(get(gw, "/api/v1/sessions", ops).statusCode()).isEqualTo(200);

            // A verified token of anyone else (the agent itself, a clinician) is not enough.
            for (String other : List.of(gw.token(), person(gw, "clinician@hospital.example", "clinicians"))) {
                HttpResponse<String> r = get(gw, "/api/v1/audit/statements", other);
                assertThat(r.statusCode()).isEqualTo(403);
                assertThat(r.body()).contains("http.admins");
                assertThat(kill(gw, session, other).statusCode()).isEqualTo(403);
            }
            assertThat(get(gw, "/api/v1/sessions", AdminToken.PREFIX + "guessed").statusCode()).isEqualTo(401);
            assertThat(get(gw, "/api/v1/sessions", "not-a-token").statusCode()).isEqualTo(401);
            stillAnswers(agent);

            JsonNode killed = JSON.readTree(kill(gw, session, adminToken()).body()).get("killed");
            assertThat(killed).hasSize(1);
            assertThat(killed.get(0).asText()).isEqualTo(session);
        }
    }

    @Test
    void theTokenFileIsOwnerOnlyRemovedAtStopAndNewAtEachStart() throws Exception {
        Path file = dir.resolve("admin.token");
        String first;
        try (GatewayHarness gw = start("127.0.0.1", List.of())) {
            first = adminToken();
            assertThat(first).startsWith(AdminToken.PREFIX).hasSizeGreaterThan(AdminToken.PREFIX.length() + 40);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        }
        assertThat(file).doesNotExist();
        try (GatewayHarness gw = start("127.0.0.1", List.of())) {
            assertThat(adminToken()).isNotEqualTo(first);
            assertThat(get(gw, "/api/v1/sessions", first).statusCode()).isEqualTo(401);
            assertThat(get(gw, "/api/v1/sessions", adminToken()).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aForeignHostHeaderIsRefusedEvenWithTheToken() throws Exception {
        try (GatewayHarness gw = start("127.0.0.1", List.of("phigate.example.org"))) {
            int port = gw.gateway().httpAddress().getPort();
            String token = adminToken();
            for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port,
                    "localhost.evil.example", "10.255.255.1")) {
                assertThat(statusWithHost(gw, "/api/v1/sessions", host, token)).as(host).isEqualTo(421);
                assertThat(statusWithHost(gw, "/healthz", host, token)).as(host).isEqualTo(421);
            }
            assertThat(rawWithHost(gw, "/api/v1/audit/statements", "evil.example:" + port, token))
                    .contains("this gateway does not answer to Host \\\"evil.example:" + port + "\\\"")
                    .contains("http.allowed_hosts").doesNotContain("statements\":");
            // An empty Host is already refused by Jetty.
            assertThat(statusWithHost(gw, "/api/v1/sessions", "", token)).isIn(400, 421);
            for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port,
                    "phigate.example.org", "Phigate.Example.org:443")) {
                assertThat(statusWithHost(gw, "/api/v1/sessions", host, token)).as(host).isEqualTo(200);
            }
        }
    }

    @Test
    void aCrossSiteFormPostIsRefusedAndChangesNothing() throws Exception {
        try (GatewayHarness gw = start("127.0.0.1", List.of()); Connection agent = gw.connect()) {
            stillAnswers(agent);
            String session = onlySession(gw);
            String path = "/api/v1/sessions/" + session + "/kill";
            // What a form on any site can send without a preflight: with the user's standing or even the token.
            for (String type : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                    "text/plain")) {
                for (String bearer : new String[]{null, adminToken()}) {
                    HttpResponse<String> r = send(gw, "POST", path, bearer, type, "a=b");
                    assertThat(r.statusCode()).as(type).isEqualTo(415);
                    assertThat(r.body()).contains("Content-Type: application/json");
                }
            }
            assertThat(send(gw, "POST", path, adminToken(), null, null).statusCode()).isEqualTo(415);
            // GET never changes state: there is no GET route that kills.
            assertThat(get(gw, path, adminToken()).statusCode()).isIn(404, 405);
            stillAnswers(agent);

            assertThat(send(gw, "POST", path, adminToken(), "application/json; charset=utf-8", null).statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void onAWildcardListenerTheAuditApiIsServedButOnlyWithAToken() throws Exception {
        try (GatewayHarness gw = start("0.0.0.0", List.of())) {
            assertThat(get(gw, "/api/v1/audit/statements", null).statusCode()).isEqualTo(401);
            assertThat(get(gw, "/api/v1/audit/statements", adminToken()).statusCode()).isEqualTo(200);
            assertThat(get(gw, "/healthz", null).statusCode()).isEqualTo(200);
        }
    }
}
