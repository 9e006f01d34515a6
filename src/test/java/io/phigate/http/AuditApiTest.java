package io.phigate.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.phigate.GatewayHarness;
import io.phigate.audit.AuditQueries;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** As the CLI on this host does: with the admin token the gateway wrote beside its config. */
    private HttpResponse<String> get(String url) throws Exception {
        String token = java.nio.file.Files.readString(dir.resolve("admin.token")).strip();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Through text, as a client sees it (a tree built from objects keeps Long and Integer apart). */
    private static JsonNode tree(Object value) throws Exception {
        return JSON.readTree(JSON.writeValueAsString(value));
    }

    @Test
    void loopbackListenerServesTheSameAsAuditQueries() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new GatewayConfig(
                new GatewayConfig.Listen(c.listen().postgres(), new HostPort("127.0.0.1", 0)), c.upstreams(),
                c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()))) {
            String base = "http://127.0.0.1:" + gw.gateway().httpAddress().getPort() + "/api/v1/audit";
            try (Connection c = gw.connect()) {
                try (PreparedStatement ps = c.prepareStatement("select count(*) from patients where ssn <> ?")) {
                    ps.setString(1, "SEEDED-987-65-4321");
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }
                try (Statement s = c.createStatement()) {
                    s.execute("select 1 as \"100%_done\"");
                }
            }
            gw.auditEventually("kind = 'session_ended'", 1);
            AuditQueries queries = AuditQueries.sqlite(gw.auditFile());

            HttpResponse<String> all = get(base + "/statements?subject=" + GatewayHarness.AGENT);
            assertThat(all.statusCode()).isEqualTo(200);
            assertThat(all.headers().firstValue("Cache-Control")).hasValue("no-store");
            var expected = queries.search(AuditQueries.Filter.ANY.withSubject(GatewayHarness.AGENT),
                    AuditQueries.Page.FIRST_100);
            JsonNode body = JSON.readTree(all.body());
            assertThat(body.get("statements")).hasSize(expected.statements().size());
            for (int i = 0; i < expected.statements().size(); i++) {
                ObjectNode got = (ObjectNode) body.get("statements").get(i).deepCopy();
                AuditQueries.Statement want = expected.statements().get(i);
                assertThat(got.remove("session_url").asText()).isEqualTo("/api/v1/audit/sessions/" + want.sessionId());
                assertThat(got).isEqualTo(tree(want.fields()));
            }
            JsonNode prepared = body.get("statements").get(expected.statements().size() - 2);
            assertThat(prepared.at("/parameters/0").asText()).isEqualTo("SEEDED-987-65-4321");
            assertThat(prepared.get("outcome").asText()).isEqualTo("ok");

            JsonNode literal = JSON.readTree(get(base + "/statements?text=100%25_done").body());
            assertThat(literal.get("statements")).hasSize(1);
            assertThat(JSON.readTree(get(base + "/statements?text=100%25xdone").body()).get("statements")).isEmpty();

            JsonNode paged = JSON.readTree(get(base + "/statements?limit=1").body());
            assertThat(paged.get("statements")).hasSize(1);
            long next = paged.get("next_after").asLong();
            JsonNode page2 = JSON.readTree(get(base + "/statements?limit=1000&after=" + next).body());
            assertThat(page2.get("statements")).hasSize(expected.statements().size() - 1);
            assertThat(page2.get("next_after").isNull()).isTrue();

            String session = expected.statements().getLast().sessionId();
            HttpResponse<String> replay = get(base + "/sessions/" + session);
            assertThat(replay.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(replay.body()).get("events"))
                    .isEqualTo(tree(queries.session(session).stream().map(AuditQueries.Event::columns).toList()));
            assertThat(JSON.readTree(replay.body()).at("/events/0/kind").asText()).isEqualTo("session_started");
            assertThat(get(base + "/sessions/nope").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void badParametersGetA400WithAJsonError() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new GatewayConfig(
                new GatewayConfig.Listen(c.listen().postgres(), new HostPort("127.0.0.1", 0)), c.upstreams(),
                c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()))) {
            String base = "http://127.0.0.1:" + gw.gateway().httpAddress().getPort() + "/api/v1/audit/statements";
            for (String query : new String[]{"?limit=0", "?limit=1001", "?limit=ten", "?after=-1", "?outcome=fine",
                    "?since=yesterday", "?subjct=x", "?since=2025-03-05&until=2025-03-04", "?session=a&session=b"}) {
                HttpResponse<String> r = get(base + query);
                assertThat(r.statusCode()).as(query).isEqualTo(400);
                assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
                assertThat(JSON.readTree(r.body()).get("error").asText()).as(query).isNotBlank();
            }
        }
    }
}
