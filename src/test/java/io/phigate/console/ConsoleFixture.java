package io.phigate.console;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.CheckpointKeys;
import io.phigate.audit.AuditConfig;
import io.phigate.config.ConsoleConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.identity.KeyTool;
import io.phigate.policy.Match;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway with the web console for the console tests: a policy masking {@code console_patients.ssn}, an approval
 * rule holding deletes from {@code console_held}, signed checkpoints, and console roles matched on the token's
 * groups (phigate-auditors, phigate-admins; phi-approvers are approvers through the policy).
 */
final class ConsoleFixture implements AutoCloseable {
    static final String AGENT = "system:serviceaccount:clinical:console-agent";
    static final String SSN = "123-45-6789";
    static final String ALICE = "alice@hospital.example";   // approver and admin
    static final String AUDREY = "audrey@hospital.example"; // auditor only
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.console_patients.ssn: ssn
                  public.console_patients.name: name
            approvers:
              phi-approvers:
                match: { issuer: "%s", claims: { groups: "phi-approvers" } }
            rules:
              - name: held-deletes
                when: { operations: [delete], tables: [console_held] }
                require_approval: { group: phi-approvers, approvers: 1, timeout: 10m, mode: hold }
            """;

    final GatewayHarness gw;
    final Path dir;

    private ConsoleFixture(GatewayHarness gw, Path dir) {
        this.gw = gw;
        this.dir = dir;
    }

    static ConsoleFixture start(Path dir) throws Exception {
        return start(dir, POLICY.formatted(GatewayHarness.ISSUER));
    }

    /** The same gateway with another policy file. */
    static ConsoleFixture start(Path dir, String policy) throws Exception {
        Path key = dir.resolve("keys/audit-signing.key");
        CheckpointKeys.generate(key);
        return start(dir, policy, a -> new AuditConfig(a.store(), a.sqlitePath(), a.queueCapacity(), a.writeTimeout(),
                a.busyTimeout(), a.replica(), new AuditConfig.CheckpointConfig(key,
                dir.resolve("audit.checkpoints"), 1, Duration.ofMillis(200))));
    }

    /** The gateway with its audit store as {@code audit} makes it of the default one (a replica's, say). */
    static ConsoleFixture start(Path dir, String policy, java.util.function.UnaryOperator<AuditConfig> audit)
            throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), policy);
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS console_patients");
            s.execute("CREATE TABLE console_patients (id int primary key, name text, ssn text)");
            s.execute("INSERT INTO console_patients VALUES (1, 'Ada Lovelace', '" + SSN + "'),"
                    + " (2, 'Grace Hopper', '987-65-4321')");
            s.execute("DROP TABLE IF EXISTS console_held");
            s.execute("CREATE TABLE console_held (id int primary key)");
            s.execute("INSERT INTO console_held SELECT generate_series(1, 10)");
        }
        ConsoleConfig console = new ConsoleConfig(true, null, Map.of(
                "auditor", List.of(new Match(GatewayHarness.ISSUER, null, Map.of("groups", "phigate-auditors"))),
                "admin", List.of(new Match(GatewayHarness.ISSUER, null, Map.of("groups", "phigate-admins")))),
                Duration.ofHours(1));
        GatewayHarness gw = GatewayHarness.start(dir, c -> {
            GatewayConfig withAudit = new GatewayConfig(c.listen(), c.upstreams(), c.identity(), audit.apply(c.audit()),
                    c.limits(), c.tls(), c.policy(), c.baseDir());
            return GatewayHarness.withConsole(GatewayHarness.withHttp(GatewayHarness.withPolicy(withAudit,
                    dir.resolve("policy.yaml"))), console);
        });
        return new ConsoleFixture(gw, dir);
    }

    String base() {
        return "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
    }

    /** A person's token with {@code groups}. */
    String person(String subject, String... groups) throws Exception {
        return KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, subject, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(30), Map.of("groups", List.of(groups)));
    }

    String alice() throws Exception {
        return person(ALICE, "clinicians", "phi-approvers", "phigate-admins");
    }

    String audrey() throws Exception {
        return person(AUDREY, "compliance", "phigate-auditors");
    }

    Connection agent() throws Exception {
        return agent(AGENT);
    }

    Connection agent(String subject) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token(subject, Duration.ofMinutes(30)));
        return java.sql.DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    /** An HTTP client with its own cookie jar, signed in through the local sign-in form with {@code token}. */
    HttpClient signedIn(String token) throws Exception {
        HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create(base() + "/console/sign-in")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher pre = Pattern.compile("name=\"pre\" value=\"([^\"]+)\"").matcher(form.body());
        if (!pre.find()) {
            throw new AssertionError("sign-in page without its form: " + form.body());
        }
        HttpResponse<String> r = post(http, "/console/sign-in", Map.of("pre", pre.group(1), "token", token,
                "next", "/console"));
        if (r.statusCode() != 303) {
            throw new AssertionError("sign-in failed: " + r.statusCode() + " " + r.body());
        }
        return http;
    }

    HttpResponse<String> get(HttpClient http, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(HttpClient http, String path, Map<String, String> form) throws Exception {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return http.send(HttpRequest.newBuilder(URI.create(base() + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The CSRF token the page at {@code path} issued to this sign-in. */
    String csrf(HttpClient http, String path) throws Exception {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(get(http, path).body());
        if (!m.find()) {
            throw new AssertionError("no CSRF field on " + path);
        }
        return m.group(1);
    }

    HttpResponse<String> api(String method, String path, String bearer) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base() + path))
                .header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        gw.close();
    }
}
