package io.phigate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.GatewayHarness;
import io.phigate.cli.TestAccess;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.identity.IdentityConfig;
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
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The credential exchange, revocation at connect, and listing and killing sessions over HTTP and the CLI. */
class AccessApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static GatewayConfig withHttp(GatewayConfig c, IdentityConfig identity) {
        return new GatewayConfig(new GatewayConfig.Listen(c.listen().postgres(), new HostPort("127.0.0.1", 0)),
                c.upstreams(), identity, c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir());
    }

    private GatewayHarness start(Duration ttl, IdentityConfig.Revoked revoked) throws Exception {
        UnaryOperator<GatewayConfig> custom = c -> withHttp(c, new IdentityConfig(c.identity().issuers(),
                c.identity().clockSkew(), c.identity().sessionGrace(), revoked, ttl));
        return GatewayHarness.start(dir, custom);
    }

    private static String url(GatewayHarness gw) {
        return "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
    }

    private static HttpResponse<String> post(GatewayHarness gw, String path, String token, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(gw) + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static Connection login(GatewayHarness gw, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        return DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    @Test
    void aCredentialOpensOneSessionWhoseRecordsCarryTheJustification() throws Exception {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.classic.Level level = root.getLevel();
        root.setLevel(ch.qos.logback.classic.Level.DEBUG);
        var captured = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        captured.start();
        root.addAppender(captured);
        String password;
        try (GatewayHarness gw = start(Duration.ofMinutes(5), IdentityConfig.Revoked.NONE)) {
            HttpResponse<String> r = post(gw, "/api/v1/credentials", gw.token(),
                    "{\"justification\": \"readmission review, ticket 42\", \"upstream\": \"clinical\"}");
            assertThat(r.statusCode()).isEqualTo(201);
            assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
            JsonNode c = JSON.readTree(r.body());
            String user = c.get("username").asText();
            password = c.get("password").asText();
            try (Connection conn = login(gw, user, password);
                 ResultSet rs = conn.createStatement().executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }
            String used = password;
            assertThatThrownBy(() -> login(gw, user, used).close()).isInstanceOfSatisfying(SQLException.class,
                    e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("already used");
                    });
            var started = gw.audit("kind = 'session_started'");
            assertThat(started).hasSize(1);
            assertThat(started.getFirst()).containsEntry("subject", GatewayHarness.AGENT);
            assertThat((String) started.getFirst().get("detail"))
                    .contains("\"justification\":\"readmission review, ticket 42\"", "\"startup_user\":\"" + user + "\"");
            assertThat(gw.audit("kind = 'statement_requested'")).allSatisfy(row -> assertThat((String) row.get("detail"))
                    .contains("readmission review, ticket 42"));
            for (Path f : new Path[]{gw.auditFile(), gw.auditFile().resolveSibling("audit.db-wal")}) {
                if (Files.exists(f)) {
                    assertThat(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1))
                            .as("the one-time password is not stored").doesNotContain(password);
                }
            }
        } finally {
            root.detachAppender(captured);
            root.setLevel(level);
        }
        assertThat(captured.list).isNotEmpty().allSatisfy(e -> assertThat(e.getFormattedMessage())
                .as("the one-time password is never logged").doesNotContain(password));
    }

    @Test
    void aCredentialFailsAfterItsTtlAndTheApiWantsAValidToken() throws Exception {
        try (GatewayHarness gw = start(Duration.ofSeconds(1), IdentityConfig.Revoked.NONE)) {
            JsonNode c = JSON.readTree(post(gw, "/api/v1/credentials", gw.token(), null).body());
            Thread.sleep(1_300);
            assertThatThrownBy(() -> login(gw, c.get("username").asText(), c.get("password").asText()).close())
                    .hasMessageContaining("expired");
            assertThat(post(gw, "/api/v1/credentials", null, null).statusCode()).isEqualTo(401);
            assertThat(post(gw, "/api/v1/credentials", "not-a-token", null).statusCode()).isEqualTo(401);
            assertThat(post(gw, "/api/v1/credentials", gw.token(), "{\"justifcation\": \"x\"}").body())
                    .contains("unknown field");
        }
    }

    @Test
    void theCliIssuesACredential() throws Exception {
        try (GatewayHarness gw = start(Duration.ofMinutes(5), IdentityConfig.Revoked.NONE)) {
            Path tokenFile = dir.resolve("token");
            Files.writeString(tokenFile, gw.token() + "\n");
            TestAccess.Result r = TestAccess.capture("credentials", "issue", "--url", url(gw), "--token-file",
                    tokenFile.toString(), "--justification", "cli check");
            assertThat(r.exitCode()).as(r.err()).isZero();
            String user = r.out().lines().filter(l -> l.startsWith("export PGUSER=")).findFirst().orElseThrow().substring(14);
            String password = r.out().lines().filter(l -> l.startsWith("export PGPASSWORD=")).findFirst().orElseThrow()
                    .substring(18);
            try (Connection conn = login(gw, user, password)) {
                assertThat(conn.isValid(2)).isTrue();
            }
        }
    }

    @Test
    void aRevokedKeyIdOrSubjectIsRefusedAtConnectAndAudited() throws Exception {
        Path keys = dir.resolve("keys");
        io.phigate.identity.KeyTool.generate(keys);
        String kid = com.nimbusds.jose.jwk.JWK.parse(Files.readString(keys.resolve(
                io.phigate.identity.KeyTool.PRIVATE_KEY_FILE))).getKeyID();
        try (GatewayHarness gw = start(Duration.ofMinutes(5), new IdentityConfig.Revoked(Set.of("revoked-agent"),
                Set.of(kid)))) {
            assertThatThrownBy(() -> gw.connect().close()).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("28000");
                assertThat(e.getMessage()).contains("identity.revoked.key_ids");
            });
            assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '28000'")).hasSize(1);
            assertThat(post(gw, "/api/v1/credentials", gw.token(), null).statusCode()).isEqualTo(403);
        }
    }

    @Test
    void sessionsAreListedAndKilledAtOnceByIdOrSubjectWithTheAdminTokenTheGatewayWrote() throws Exception {
        try (GatewayHarness gw = start(Duration.ofMinutes(5), IdentityConfig.Revoked.NONE);
             Connection a = gw.connect(); Connection b = gw.connect()) {
            String tokenFile = dir.resolve("admin.token").toString();
            TestAccess.Result refused = TestAccess.capture("sessions", "list", "--url", url(gw));
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.err()).contains("401").contains("admin.token");

            TestAccess.Result list = TestAccess.capture("sessions", "list", "--url", url(gw), "--token-file", tokenFile);
            assertThat(list.exitCode()).as(list.err()).isZero();
            assertThat(list.out().lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains(GatewayHarness.AGENT));
            String first = list.out().lines().findFirst().orElseThrow().split("\t")[0];

            TestAccess.Result kill = TestAccess.capture("sessions", "kill", "--url", url(gw), "--token-file", tokenFile,
                    first);
            assertThat(kill.exitCode()).as(kill.err()).isZero();
            assertThat(kill.out()).contains("killed 1 session(s)", first);
            // The kill closes the session's sockets at once; its thread leaves the registry as it ends.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (gw.gateway().sessions().size() != 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(gw.gateway().sessions().size()).isEqualTo(1);
            assertThat(gw.auditEventually("kind = 'session_ended' and detail like '%administrator command%'", 1))
                    .hasSize(1);

            // With --config the CLI finds the token where the config says the gateway writes it.
            Path cli = cliConfig(gw, "../admin.token");
            TestAccess.Result bySubject = TestAccess.capture("sessions", "kill", "--config", cli.toString(),
                    "--identity", GatewayHarness.AGENT);
            assertThat(bySubject.exitCode()).as(bySubject.err()).isZero();
            assertThat(bySubject.out()).contains("killed 1 session(s)");
            for (Connection c : new Connection[]{a, b}) {
                assertThatThrownBy(() -> c.createStatement().executeQuery("select 1"))
                        .isInstanceOf(SQLException.class);
            }
            assertThat(TestAccess.capture("sessions", "kill", "--url", url(gw), "--token-file", tokenFile,
                    "no-such-id").exitCode()).isEqualTo(1);
            TestAccess.Result missing = TestAccess.capture("sessions", "list", "--config",
                    cliConfig(gw, "nowhere/admin.token").toString());
            assertThat(missing.exitCode()).isEqualTo(1);
            assertThat(missing.err()).contains("cannot read the token file").contains("is it running");
        }
    }

    /** A config in its own folder that points the CLI at the gateway's HTTP port and {@code tokenFile}. */
    private Path cliConfig(GatewayHarness gw, String tokenFile) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("cli"));
        io.phigate.TestConfigs.write(folder, "store: sqlite:unused.db\n");
        Path config = folder.resolve("phigate.yaml");
        Files.writeString(config, Files.readString(config).replace("  postgres: 127.0.0.1:6432\n",
                "  postgres: 127.0.0.1:6432\n  http: 127.0.0.1:" + gw.gateway().httpAddress().getPort() + "\n")
                + "http:\n  admin_token_file: " + tokenFile + "\n");
        return config;
    }
}
