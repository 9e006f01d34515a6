package io.phigate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditVerifier;
import io.phigate.identity.KeyTool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a gateway in its own JVM, as Kubernetes stops a pod, with real pgjdbc clients: readiness turns 503 at
 * once, new connections are refused, an open session keeps working through the grace period, a statement still
 * running when it ends gets FATAL 57P01, and the audit store records the drain and every session's end, its chains
 * intact.
 */
class DrainOnSigtermTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration GRACE = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    @Test
    void sigtermDrainsSessionsWithinTheGraceThenEndsThemWith57P01AndRecordsIt() throws Exception {
        TestDatabase db = TestDatabase.get();
        Path jwtKey = GatewayHarness.keys(dir);
        int port = ChildGateway.freePort();
        int httpPort = ChildGateway.freePort();
        Path config = ChildGateway.writeConfig(dir, port, db.port(), db.user(), db.passwordFile(), "",
                "limits:\n  drain_grace: " + GRACE.toSeconds() + "s\n");
        Files.writeString(config, Files.readString(config).replace("  postgres: 127.0.0.1:" + port + "\n",
                "  postgres: 127.0.0.1:" + port + "\n  http: 127.0.0.1:" + httpPort + "\n"));
        String token = KeyTool.mint(jwtKey, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
        String readyz = "http://127.0.0.1:" + httpPort + "/readyz";

        try (ChildGateway gateway = ChildGateway.start(config, port, dir.resolve("gateway.log"));
             Connection working = connect(port, token);
             Connection idle = connect(port, token)) {
            HttpResponse<String> ready = get(readyz);
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(JSON.readTree(ready.body()).path("checks").path("audit").asText()).isEqualTo("ok");
            assertThat(get("http://127.0.0.1:" + httpPort + "/livez").statusCode()).isEqualTo(200);
            assertThat(scalar(working, "select 1")).isEqualTo(1);
            assertThat(scalar(idle, "select 1")).isEqualTo(1);

            long signalled = System.nanoTime();
            gateway.sigterm();
            JsonNode draining = awaitNotReady(readyz);
            assertThat(draining.path("status").asText()).isEqualTo("draining");
            assertThatThrownBy(() -> connect(port, token)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));

            // Within the grace period an open session is served as before.
            assertThat(scalar(working, "select 2")).isEqualTo(2);
            // A statement that outlasts it is ended the way PostgreSQL ends sessions on shutdown.
            CompletableFuture<SQLException> longOne = CompletableFuture.supplyAsync(() -> {
                try (Statement s = working.createStatement()) {
                    s.execute("select pg_sleep(20)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            SQLException ended = longOne.get(20, TimeUnit.SECONDS);
            long endedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
            assertThat((Object) ended).as("the long statement's outcome").isNotNull();
            assertThat(ended.getSQLState()).as(ended.getMessage()).isEqualTo("57P01");
            assertThat(endedAfterMillis).as("ended after the grace, not at once")
                    .isBetween(GRACE.toMillis() - 300, GRACE.toMillis() + 5_000);
            assertThat(gateway.awaitExit(Duration.ofSeconds(20))).as("the gateway exits after the drain").isTrue();
        }

        ChildGateway.recoverAudit(config); // nothing should be left in the journal; this proves it either way
        Path audit = dir.resolve("audit.db");
        List<Map<String, String>> drain = rows(audit, "select outcome, detail from audit_event"
                + " where kind = 'gateway_drain' order by seq");
        assertThat(drain).hasSize(2);
        assertThat(drain.get(0).get("outcome")).isEqualTo("started");
        assertThat(JSON.readTree(drain.get(0).get("detail")).path("sessions").asInt()).isEqualTo(2);
        assertThat(JSON.readTree(drain.get(0).get("detail")).path("grace_ms").asLong()).isEqualTo(GRACE.toMillis());
        assertThat(drain.get(1).get("outcome")).isEqualTo("finished");
        assertThat(JSON.readTree(drain.get(1).get("detail")).path("sessions").asInt()).isEqualTo(2);
        List<Map<String, String>> ends = rows(audit, "select outcome, detail from audit_event"
                + " where kind = 'session_ended' order by seq");
        assertThat(ends).hasSize(2).allSatisfy(e -> assertThat(JSON.readTree(e.get("detail")).path("reason").asText())
                .isEqualTo("terminating connection because phigate is shutting down"));
        List<Map<String, String>> last = rows(audit, "select kind as outcome, detail from audit_event"
                + " order by seq desc limit 1");
        assertThat(last.getFirst().get("outcome")).as("the chain's last record").isEqualTo("gateway_drain");
        AuditVerifier.Report report = AuditVerifier.verifySqlite(audit);
        assertThat(report.intact()).as("%s", report.problems()).isTrue();
    }

    private static Connection connect(int port, String token) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", token);
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p);
    }

    private static int scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Polls /readyz until it answers 503; SIGTERM reaches the JVM's hook within milliseconds, so 2 s is ample. */
    private static JsonNode awaitNotReady(String url) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        HttpResponse<String> r = get(url);
        while (r.statusCode() != 503 && System.nanoTime() < deadline) {
            Thread.sleep(20);
            r = get(url);
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        return JSON.readTree(r.body());
    }

    private static List<Map<String, String>> rows(Path audit, String sql) throws SQLException {
        List<Map<String, String>> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + audit);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(Map.of("outcome", String.valueOf(rs.getString(1)), "detail", rs.getString(2) == null ? "" : rs.getString(2)));
            }
        }
        return out;
    }
}
