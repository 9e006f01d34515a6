package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.RestartablePostgres;
import io.phigate.audit.AuditConfig;
import io.phigate.config.ConsoleConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.identity.KeyTool;
import io.phigate.mask.SecretRef;
import io.phigate.policy.Match;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Console sign-ins across replicas (decision 0047): two gateways sharing a cookie key and a PostgreSQL audit store.
 * A sign-in made on one is honoured by the other and by the first after a restart; a sign-out on either ends it on
 * both; expiry, a tampered cookie and a cookie sealed under a key a replica does not hold are refused; a rotated-in
 * key seals while the old one still opens.
 */
class ConsoleSignInAcrossReplicasTest {
    private static final String AUDREY = "audrey@hospital.example";
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;
    private EmbeddedPostgres auditDb;
    private int auditPort;
    private final List<GatewayHarness> running = new ArrayList<>();

    @BeforeEach
    void startStore() throws Exception {
        auditPort = ChildGateway.freePort();
        auditDb = RestartablePostgres.startWithDatabase(dir.resolve("audit-pg"), auditPort, "phigate_audit");
        Files.writeString(dir.resolve("audit.password"), "unused-under-trust\n");
        Files.writeString(dir.resolve("cookie-old.key"), "Zm9yIHRlc3RzIG9ubHk6IG9sZCBjb29raWUga2V5IQ==\n");
        Files.writeString(dir.resolve("cookie-new.key"), "Zm9yIHRlc3RzIG9ubHk6IG5ldyBjb29raWUga2V5IQ==\n");
    }

    @AfterEach
    void stop() throws Exception {
        running.forEach(GatewayHarness::close);
        auditDb.close();
    }

    @Test
    void aSignInOnOneReplicaWorksOnAnotherAndAfterARestartUntilSignedOutAnywhere() throws Exception {
        GatewayHarness a = replica("a", "old");
        GatewayHarness b = replica("b", "old");
        String cookie = signIn(a, person(a, Duration.ofMinutes(30)));
        System.out.println("sealed sign-in cookie: " + cookie.length() + " characters");
        assertThat(cookie.length()).isLessThan(ConsoleAuth.MAX_COOKIE_CHARS);

        assertThat(page(b, "/console", cookie).statusCode()).as("the other replica").isEqualTo(200);
        assertThat(page(b, "/console", cookie).body()).contains(AUDREY);
        a.close();
        running.remove(a);
        GatewayHarness restarted = replica("a", "old");
        assertThat(page(restarted, "/console", cookie).statusCode()).as("the same replica restarted").isEqualTo(200);

        // CSRF as before: a form without the sign-in's token is refused, on any replica.
        assertThat(post(b, "/console/sign-out", cookie, "csrf", "guess").statusCode()).isEqualTo(403);
        HttpResponse<String> out = post(b, "/console/sign-out", cookie, "csrf", csrf(b, cookie));
        assertThat(out.statusCode()).isEqualTo(303);
        assertThat(out.headers().firstValue("Set-Cookie").orElseThrow()).startsWith(ConsoleAuth.COOKIE + "=;");
        assertSignedOut(b, cookie);
        assertSignedOut(restarted, cookie);

        List<String> actions = consoleActions();
        assertThat(actions).as("sign-in and sign-out under one console session id")
                .containsExactly("sign_in/ok/" + AUDREY, "sign_out/ok/" + AUDREY);
    }

    @Test
    void expiredTamperedAndForeignCookiesAreRefusedAndARotatedKeyStillOpensOldCookies() throws Exception {
        GatewayHarness oldOnly = replica("a", "old");
        GatewayHarness rotated = replica("b", "new", "old");
        String shortLived = signIn(oldOnly, person(oldOnly, Duration.ofSeconds(3)));
        String sealedOld = signIn(oldOnly, person(oldOnly, Duration.ofMinutes(30)));
        String sealedNew = signIn(rotated, person(rotated, Duration.ofMinutes(30)));

        assertThat(page(rotated, "/console", sealedOld).statusCode()).as("an old key still opens").isEqualTo(200);
        assertThat(page(rotated, "/console", sealedNew).statusCode()).isEqualTo(200);
        assertSignedOut(oldOnly, sealedNew); // sealed under a key this replica does not hold
        assertThat(sealedNew).startsWith("v1.new.");

        int middle = sealedOld.length() / 2;
        String tampered = sealedOld.substring(0, middle) + (sealedOld.charAt(middle) == 'A' ? 'B' : 'A')
                + sealedOld.substring(middle + 1);
        assertSignedOut(oldOnly, tampered);
        assertSignedOut(oldOnly, sealedOld.replace("v1.old.", "v1.new."));
        assertSignedOut(oldOnly, "v1.old.");

        assertThat(page(rotated, "/console", shortLived).statusCode()).isEqualTo(200);
        Thread.sleep(3_200);
        assertSignedOut(rotated, shortLived);
        assertSignedOut(oldOnly, shortLived);
    }

    /** A replica with the cookie keys named (the first seals), auditing to the shared store as {@code name}. */
    private GatewayHarness replica(String name, String... keys) throws Exception {
        Path home = dir.resolve("replica-" + name + "-" + running.size());
        Files.createDirectories(home);
        if (Files.exists(dir.resolve("keys"))) {
            copyKeys(home);
        }
        List<ConsoleConfig.CookieKey> cookieKeys = new ArrayList<>();
        for (String key : keys) {
            cookieKeys.add(new ConsoleConfig.CookieKey(key, new SecretRef(null, dir.resolve("cookie-" + key + ".key"))));
        }
        ConsoleConfig console = new ConsoleConfig(true, null, Map.of("auditor", List.of(new Match(
                GatewayHarness.ISSUER, null, Map.of("groups", "phigate-auditors")))), Duration.ofHours(1), cookieKeys);
        AuditConfig.Postgres store = new AuditConfig.Postgres("127.0.0.1", auditPort, "phigate_audit", "postgres",
                new SecretRef(null, dir.resolve("audit.password")));
        GatewayHarness gw = GatewayHarness.start(home, c -> GatewayHarness.withConsole(GatewayHarness.withHttp(
                new GatewayConfig(c.listen(), c.upstreams(), c.identity(), new AuditConfig("postgres://postgres@127.0.0.1:"
                        + auditPort + "/phigate_audit", null, 65536, Duration.ofSeconds(2), Duration.ofMillis(500), name,
                        null, AuditConfig.DEFAULT_RESPONSE_CAP, store), c.limits(), c.tls(), c.policy(), c.baseDir())),
                console));
        if (!Files.exists(dir.resolve("keys"))) {
            copyDir(home.resolve("keys"), dir.resolve("keys"));
        }
        running.add(gw);
        return gw;
    }

    private void copyKeys(Path home) throws Exception {
        copyDir(dir.resolve("keys"), home.resolve("keys"));
    }

    private static void copyDir(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    private static String person(GatewayHarness gw, Duration ttl) throws Exception {
        return KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, AUDREY, List.of(GatewayHarness.AUDIENCE), ttl,
                Map.of("groups", List.of("phigate-auditors")));
    }

    /** Signs in through the local form; the sealed cookie's value. */
    private static String signIn(GatewayHarness gw, String token) throws Exception {
        HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(URI.create(base(gw) + "/console/sign-in")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher pre = Pattern.compile("name=\"pre\" value=\"([^\"]+)\"").matcher(form.body());
        assertThat(pre.find()).isTrue();
        String body = "pre=" + pre.group(1) + "&next=%2Fconsole&token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base(gw) + "/console/sign-in"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Cookie", Console.PRE_SIGN_IN_COOKIE + "=" + pre.group(1))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        for (String set : r.headers().allValues("Set-Cookie")) {
            if (set.startsWith(ConsoleAuth.COOKIE + "=")) {
                assertThat(set).contains("HttpOnly").contains("SameSite=Strict");
                return set.substring(ConsoleAuth.COOKIE.length() + 1, set.indexOf(';'));
            }
        }
        throw new AssertionError("no sign-in cookie: " + r.headers().map());
    }

    private static HttpResponse<String> page(GatewayHarness gw, String path, String cookie) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base(gw) + path))
                .header("Cookie", ConsoleAuth.COOKIE + "=" + cookie).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(GatewayHarness gw, String path, String cookie, String field, String value)
            throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base(gw) + path))
                .header("Cookie", ConsoleAuth.COOKIE + "=" + cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(field + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String csrf(GatewayHarness gw, String cookie) throws Exception {
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page(gw, "/console", cookie).body());
        assertThat(m.find()).as("the page's sign-out form").isTrue();
        return m.group(1);
    }

    private static void assertSignedOut(GatewayHarness gw, String cookie) throws Exception {
        HttpResponse<String> r = page(gw, "/console", cookie);
        assertThat(r.statusCode()).isEqualTo(303);
        assertThat(r.headers().firstValue("Location").orElseThrow()).startsWith("/console/sign-in");
    }

    private static String base(GatewayHarness gw) {
        return "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
    }

    /** The console records in the shared store, as action/outcome/subject, all under one session id. */
    private List<String> consoleActions() throws Exception {
        List<String> out = new ArrayList<>();
        java.util.Set<String> sessions = new java.util.HashSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + auditPort
                + "/phigate_audit", "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select detail::json->>'action', outcome, subject, session_id"
                     + " from audit_event where kind = 'console_action' order by time, seq")) {
            while (rs.next()) {
                out.add(rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getString(3));
                sessions.add(rs.getString(4));
            }
        }
        assertThat(sessions).hasSize(1).allSatisfy(id -> assertThat(id).startsWith(SignOuts.PREFIX));
        return out;
    }
}
