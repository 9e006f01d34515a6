package io.phigate.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.mask.SecretRef;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /livez and /readyz as an orchestrator sees them: unauthenticated, JSON reasons, no PHI, cheap under load. */
class ReadinessTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void readyWhenStoreUpstreamsAndKeysAreFineAndNotReadyNamingAnUnreachableUpstream() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, GatewayHarness::withHttp)) {
            HttpResponse<String> live = get(gw, "/livez");
            assertThat(live.statusCode()).isEqualTo(200);
            HttpResponse<String> ready = get(gw, "/readyz");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            JsonNode body = JSON.readTree(ready.body());
            assertThat(body.path("status").asText()).isEqualTo("ready");
            assertThat(body.path("checks").path("audit").asText()).isEqualTo("ok");
            assertThat(body.path("checks").path("upstreams").asText()).isEqualTo("ok");
            assertThat(body.path("checks").path("keys").asText()).isEqualTo("ok");
        }
        int closed = ChildGateway.freePort(); // nothing listens there
        try (GatewayHarness gw = GatewayHarness.start(dir.resolve("second"), c -> {
            Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>(c.upstreams());
            UpstreamConfig first = c.upstreams().values().iterator().next();
            upstreams.put("archive", new UpstreamConfig("archive", new HostPort("127.0.0.1", closed), "archive",
                    new CredentialsConfig(CredentialsConfig.Mode.STATIC, "x", new SecretRef(null, dir.resolve("pw"))),
                    UpstreamTlsConfig.DISABLED));
            GatewayConfig with = new GatewayConfig(c.listen(), upstreams, c.identity(), c.audit(), c.limits(),
                    c.tls(), c.policy(), c.baseDir());
            return GatewayHarness.withHttp(with);
        })) {
            HttpResponse<String> ready = get(gw, "/readyz");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            JsonNode body = JSON.readTree(ready.body());
            assertThat(body.path("status").asText()).isEqualTo("not ready");
            assertThat(body.path("checks").path("upstreams").asText())
                    .isEqualTo("cannot reach archive (127.0.0.1:" + closed + ")");
            assertThat(body.path("checks").path("audit").asText()).isEqualTo("ok");
            assertThat(ready.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
            assertThat(get(gw, "/livez").statusCode()).as("alive all the same").isEqualTo(200);
        }
    }

    @Test
    void checksRunAtMostOncePerPeriodHoweverOftenProbedAndDrainingAnswersAtOnce() {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong now = new AtomicLong();
        AtomicInteger failing = new AtomicInteger();
        Readiness readiness = new Readiness(Map.of("store", () -> {
            runs.incrementAndGet();
            return failing.get() > 0 ? "the last 1 audit write(s) failed" : null;
        }), Duration.ofSeconds(1), now::get);
        for (int i = 0; i < 1_000; i++) {
            assertThat(readiness.verdict().ready()).isTrue();
        }
        assertThat(runs).hasValue(1);
        failing.set(1);
        now.addAndGet(Duration.ofMillis(999).toNanos());
        assertThat(readiness.verdict().ready()).as("the verdict is reused within the period").isTrue();
        now.addAndGet(Duration.ofMillis(1).toNanos());
        Readiness.Verdict failed = readiness.verdict();
        assertThat(failed.ready()).isFalse();
        assertThat(failed.checks()).containsEntry("store", "the last 1 audit write(s) failed");
        assertThat(runs).hasValue(2);

        failing.set(0);
        readiness.drain();
        Readiness.Verdict draining = readiness.verdict();
        assertThat(draining.ready()).isFalse();
        assertThat(draining.status()).isEqualTo("draining");
        assertThat(runs).as("a draining replica runs no checks").hasValue(2);
    }

    private static HttpResponse<String> get(GatewayHarness gw, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + gw.gateway().httpAddress().getPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
