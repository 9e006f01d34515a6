package io.phigate.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpEndpointsTest {
    @TempDir
    Path dir;

    @Test
    void healthAndMetricsAreServedAndMetricsCarryNoValues() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new GatewayConfig(
                new GatewayConfig.Listen(c.listen().postgres(), new HostPort("127.0.0.1", 0)), c.upstreams(),
                c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()))) {
            String base = "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
            HttpClient http = HttpClient.newHttpClient();
            try (Connection c = gw.connect(); PreparedStatement ps = c.prepareStatement("select ssn from patients where ssn <> ?")) {
                ps.setString(1, "SEEDED-987-65-4321");
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                }
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).isEqualTo(200);
                HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(metrics.statusCode()).isEqualTo(200);
                assertThat(metrics.body()).contains("phigate_sessions_active 1.0").contains("phigate_audit_commits_total")
                        .doesNotContain("SEEDED").doesNotContain("patients");
            }
        }
    }
}
