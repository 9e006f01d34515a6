package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.phigate.GatewayHarness;
import io.phigate.config.ConsoleConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.policy.Match;
import java.io.IOException;
import java.net.CookieManager;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Console sign-in with an OIDC provider by the authorization code flow with PKCE, against a provider started by
 * the test that checks the S256 code verifier the way a real one does: the flow signs a person in, a replayed or
 * forged callback does not, and an ID token for another sign-in (wrong nonce) is refused.
 */
class ConsoleOidcSignInTest {
    static final String CLIENT = "phigate-console";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static HttpServer provider;
    static String issuer;
    static RSAKey key;
    static int consolePort;
    /** code -> the authorization request's parameters. */
    static final Map<String, Map<String, String>> codes = new ConcurrentHashMap<>();
    static volatile boolean wrongNonce;
    static volatile String lastVerifierCheck;

    @BeforeAll
    static void start() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("idp-1").generate();
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + provider.getAddress().getPort();
        provider.createContext("/.well-known/openid-configuration", x -> json(x, 200, """
                {"issuer": "%1$s", "authorization_endpoint": "%1$s/authorize", "token_endpoint": "%1$s/token",
                 "jwks_uri": "%1$s/jwks"}""".formatted(issuer)));
        provider.createContext("/jwks", x -> json(x, 200, new JWKSet(key.toPublicJWK()).toString()));
        provider.createContext("/authorize", ConsoleOidcSignInTest::authorize);
        provider.createContext("/token", ConsoleOidcSignInTest::token);
        provider.start();
        try (ServerSocket s = new ServerSocket(0)) {
            consolePort = s.getLocalPort();
        }
        java.nio.file.Files.writeString(dir.resolve("cookie.key"), "a console cookie key for the OIDC tests, 32+ chars");
        console = new ConsoleConfig(false, new ConsoleConfig.Oidc(issuer, CLIENT, null,
                URI.create("http://127.0.0.1:" + consolePort + "/console/oidc/callback"),
                List.of("openid", "profile", "groups")),
                Map.of("auditor", List.of(new Match(issuer, null, Map.of("groups", "compliance")))),
                Duration.ofHours(1), List.of(new ConsoleConfig.CookieKey("k1",
                        new io.phigate.mask.SecretRef(null, dir.resolve("cookie.key")))));
        gw = consoleOn(dir, consolePort);
    }

    static ConsoleConfig console;

    private static GatewayHarness consoleOn(Path home, int port) throws Exception {
        return GatewayHarness.start(home, c -> GatewayHarness.withConsole(new GatewayConfig(
                new GatewayConfig.Listen(c.listen().postgres(), new HostPort("127.0.0.1", port)),
                c.upstreams(), c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()), console));
    }

    @AfterAll
    static void stop() {
        gw.close();
        provider.stop(0);
    }

    @Test
    void theCodeFlowWithPkceSignsAPersonIn() throws Exception {
        HttpClient browser = browser();
        HttpResponse<String> start = get(browser, "http://127.0.0.1:" + consolePort + "/console/oidc/start?next=/console/audit");
        assertThat(start.statusCode()).isEqualTo(302);
        URI authorize = URI.create(start.headers().firstValue("Location").orElseThrow());
        Map<String, String> q = query(authorize);
        assertThat(authorize.toString()).startsWith(issuer + "/authorize?");
        assertThat(q).containsEntry("response_type", "code").containsEntry("client_id", CLIENT)
                .containsEntry("code_challenge_method", "S256").containsKeys("state", "nonce", "code_challenge");
        assertThat(q.get("scope")).isEqualTo("openid profile groups");

        HttpResponse<String> toCallback = get(browser, authorize.toString());
        assertThat(toCallback.statusCode()).isEqualTo(302);
        String callback = toCallback.headers().firstValue("Location").orElseThrow();
        HttpResponse<String> signedIn = get(browser, callback);
        assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(303);
        assertThat(signedIn.headers().firstValue("Location")).contains("/console/audit");
        assertThat(lastVerifierCheck).isEqualTo("ok");
        HttpResponse<String> page = get(browser, "http://127.0.0.1:" + consolePort + "/console/audit");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("carol@hospital.example (auditor)");

        // The same callback again: its state was used up.
        HttpResponse<String> replay = get(browser(), callback);
        assertThat(replay.statusCode()).isEqualTo(401);
        assertThat(replay.body()).contains("unknown or has expired");
        // Local sign-in is off in this configuration.
        assertThat(page.body()).doesNotContain("name=\"token\"");
    }

    @Test
    void aSignInStartedOnOneReplicaFinishesOnAnotherButNotInAnotherBrowser() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("second"));
        int otherPort;
        try (ServerSocket s = new ServerSocket(0)) {
            otherPort = s.getLocalPort();
        }
        try (GatewayHarness other = consoleOn(dir.resolve("second"), otherPort)) {
            HttpClient browser = browser(); // cookies go to both replicas: same host, and ports do not count
            String authorize = get(browser, "http://127.0.0.1:" + consolePort + "/console/oidc/start")
                    .headers().firstValue("Location").orElseThrow();
            String callback = get(browser, authorize).headers().firstValue("Location").orElseThrow();
            String onOther = callback.replace(":" + consolePort + "/", ":" + otherPort + "/");
            // Carried to another browser (no attempt cookie), the callback finds no attempt, before the code is used.
            HttpResponse<String> elsewhere = get(browser(), onOther);
            assertThat(elsewhere.statusCode()).isEqualTo(401);
            assertThat(elsewhere.body()).contains("unknown or has expired");
            HttpResponse<String> signedIn = get(browser, onOther);
            assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(303);
            assertThat(get(browser, "http://127.0.0.1:" + consolePort + "/console/audit").body())
                    .contains("carol@hospital.example (auditor)");
        }
    }

    @Test
    void aCallbackTheConsoleDidNotStartIsRefused() throws Exception {
        HttpResponse<String> forged = get(browser(), "http://127.0.0.1:" + consolePort
                + "/console/oidc/callback?state=made-up&code=stolen");
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(forged.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("phigate_console="));
    }

    @Test
    void anIdTokenIssuedForAnotherSignInIsRefused() throws Exception {
        wrongNonce = true;
        try {
            HttpClient browser = browser();
            String authorize = get(browser, "http://127.0.0.1:" + consolePort + "/console/oidc/start")
                    .headers().firstValue("Location").orElseThrow();
            String callback = get(browser, authorize).headers().firstValue("Location").orElseThrow();
            HttpResponse<String> r = get(browser, callback);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.body()).contains("nonce");
        } finally {
            wrongNonce = false;
        }
    }

    private static void authorize(HttpExchange x) throws IOException {
        Map<String, String> q = query(x.getRequestURI());
        String code = "code-" + System.nanoTime();
        codes.put(code, q);
        x.getResponseHeaders().add("Location", q.get("redirect_uri") + "?code=" + code + "&state=" + q.get("state"));
        x.sendResponseHeaders(302, -1);
        x.close();
    }

    private static void token(HttpExchange x) throws IOException {
        Map<String, String> form = parse(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        Map<String, String> auth = codes.remove(form.get("code"));
        if (auth == null || !CLIENT.equals(form.get("client_id"))
                || !auth.get("redirect_uri").equals(form.get("redirect_uri"))) {
            json(x, 400, "{\"error\": \"invalid_grant\"}");
            return;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(form.get("code_verifier").getBytes(StandardCharsets.US_ASCII));
            if (!Base64.getUrlEncoder().withoutPadding().encodeToString(digest).equals(auth.get("code_challenge"))) {
                lastVerifierCheck = "mismatch";
                json(x, 400, "{\"error\": \"invalid_grant\", \"error_description\": \"PKCE verification failed\"}");
                return;
            }
            lastVerifierCheck = "ok";
            JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject("carol@hospital.example")
                    .audience(CLIENT).issueTime(new Date()).expirationTime(new Date(System.currentTimeMillis() + 600_000))
                    .claim("nonce", wrongNonce ? "someone-elses" : auth.get("nonce"))
                    .claim("groups", List.of("compliance")).build();
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
            jwt.sign(new RSASSASigner(key));
            json(x, 200, "{\"access_token\": \"opaque\", \"token_type\": \"Bearer\", \"id_token\": \""
                    + jwt.serialize() + "\"}");
        } catch (Exception e) {
            json(x, 500, "{}");
        }
    }

    private static void json(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(status, b.length);
        x.getResponseBody().write(b);
        x.close();
    }

    private static HttpClient browser() {
        return HttpClient.newBuilder().cookieHandler(new CookieManager()).followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, String> query(URI uri) {
        return parse(uri.getRawQuery());
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> out = new HashMap<>();
        if (text == null) {
            return out;
        }
        for (String pair : text.split("&")) {
            int eq = pair.indexOf('=');
            out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }
}
