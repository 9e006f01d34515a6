package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.GatewayHarness;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.identity.KeyTool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** An approver talking to a test gateway's approvals API with a token of its own. */
final class ApprovalsApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final GatewayHarness gw;

    ApprovalsApiClient(GatewayHarness gw) {
        this.gw = gw;
    }

    /** A gateway with {@code policy} and an HTTP listener (the approvals API) on a free loopback port. */
    static GatewayHarness startGateway(Path dir, Path policy) throws Exception {
        return GatewayHarness.start(dir, c -> GatewayHarness.withPolicy(new GatewayConfig(
                new GatewayConfig.Listen(c.listen().postgres(), new HostPort("127.0.0.1", 0)), c.upstreams(),
                c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()), policy));
    }

    /** The request id a ticket refusal (PA001) names; asserts it is one. */
    static String ticketId(java.sql.SQLException e) {
        assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("PA001");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("request (apr-[0-9a-f]+)").matcher(e.getMessage());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    /** A token for a human in the phi-approvers group. */
    String approver(String subject) throws Exception {
        return KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, subject, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(5), Map.of("groups", List.of("clinicians", "phi-approvers")));
    }

    HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(url() + path)).header("Authorization", "Bearer " + token);
        // Writes are JSON, an empty body too, as the gateway requires of every state-changing API call.
        b = method.equals("GET") ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    String url() {
        return "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
    }

    /** Waits (up to 10 s) for the one pending request whose statement contains {@code marker}, as {@code viewer} sees it. */
    JsonNode pending(String marker, String viewer) throws Exception {
        String token = approver(viewer);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = call("GET", "/api/v1/approvals?status=pending", token, null);
            assertThat(r.statusCode()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(r.body()).get("approvals")) {
                if (a.get("statement").asText().contains(marker)) {
                    return a;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval for " + marker);
    }

    /** Approves or denies as {@code subject}; asserts the API took it. */
    void decide(String id, String subject, boolean approve, String reason) throws Exception {
        HttpResponse<String> r = call("POST", "/api/v1/approvals/" + id + (approve ? "/approve" : "/deny"),
                approver(subject), JSON.writeValueAsString(Map.of("reason", reason)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
