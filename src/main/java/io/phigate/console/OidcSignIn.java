package io.phigate.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTParser;
import io.phigate.config.ConsoleConfig;
import io.phigate.identity.IdentityConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.identity.TrustedIssuer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Sign-in with the configured OIDC provider: the authorization code flow with PKCE (RFC 7636, S256), a state
 * bound to the attempt and a nonce bound to the ID token. The ID token is verified like any token (signature by
 * the issuer's discovered keys, issuer, audience = our client id, expiry) and then checked for the nonce.
 *
 * <p>The provider's endpoints come from its discovery document, fetched on first use (the gateway starts while
 * the provider is down) and kept. An attempt in flight (state, PKCE verifier, nonce, start) is sealed into a cookie
 * of its own with the console's {@link CookieSeal}, valid ten minutes, so the provider's redirect back may land on
 * any replica sharing the cookie keys, and the callback is bound to the browser that started it: a callback URL
 * carried to another browser finds no attempt (decision 0047).
 */
final class OidcSignIn {
    static final Duration ATTEMPT_TTL = Duration.ofMinutes(10);
    /** The attempt's cookie, sent back only to the callback. */
    static final String ATTEMPT_COOKIE = "phigate_console_oidc";
    static final String ATTEMPT_PATH = "/console/oidc";
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_RESPONSE_BYTES = 256 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One sign-in attempt between the redirect to the provider and its callback, as sealed in its cookie. */
    record Attempt(String state, String verifier, String nonce, long startedAt) {
        @Override
        public String toString() {
            return "Attempt[started " + startedAt + "]";
        }
    }

    /** Where to send the browser, and the sealed attempt to set as {@link #ATTEMPT_COOKIE}. */
    record Started(URI redirect, String attemptCookie) {
    }

    /** The two endpoints the flow needs, from the discovery document. */
    private record Endpoints(URI authorization, URI token) {
    }

    private final ConsoleConfig.Oidc config;
    private final TokenVerifier idTokens;
    private final HttpClient http;
    private final Clock clock;
    private final CookieSeal seal;
    private volatile Endpoints endpoints;

    OidcSignIn(ConsoleConfig.Oidc config, Duration clockSkew, Clock clock, CookieSeal seal) {
        this.config = config;
        this.clock = clock;
        this.seal = seal;
        this.idTokens = new TokenVerifier(new IdentityConfig(List.of(new IssuerConfig(config.issuer(),
                List.of(config.clientId()), null, null, true, IssuerConfig.DEFAULT_ALGORITHMS)), clockSkew,
                Duration.ZERO));
        this.http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Starts an attempt: where to send the browser, and the attempt's sealed cookie. */
    Started start() throws IOException {
        Endpoints e = endpoints();
        String state = ConsoleAuth.random(24);
        String verifier = ConsoleAuth.random(48);
        String nonce = ConsoleAuth.random(24);
        String attempt = seal.seal(JSON.writeValueAsBytes(new Attempt(state, verifier, nonce,
                clock.instant().toEpochMilli())));
        Map<String, String> q = new LinkedHashMap<>();
        q.put("response_type", "code");
        q.put("client_id", config.clientId());
        q.put("redirect_uri", config.redirectUri().toString());
        q.put("scope", String.join(" ", config.scopes()));
        q.put("state", state);
        q.put("nonce", nonce);
        q.put("code_challenge", challenge(verifier));
        q.put("code_challenge_method", "S256");
        String sep = e.authorization.getRawQuery() == null ? "?" : "&";
        return new Started(URI.create(e.authorization + sep + form(q)), attempt);
    }

    /** The attempt sealed in {@code cookie} if it is the one {@code state} names and not expired, else null. */
    private Attempt attempt(String cookie, String state) {
        byte[] plain = seal.open(cookie);
        if (plain == null || state == null) {
            return null;
        }
        Attempt a;
        try {
            a = JSON.readValue(plain, Attempt.class);
        } catch (IOException e) {
            return null;
        }
        boolean same = a.state() != null && MessageDigest.isEqual(a.state().getBytes(StandardCharsets.UTF_8),
                state.getBytes(StandardCharsets.UTF_8));
        boolean live = clock.instant().isBefore(Instant.ofEpochMilli(a.startedAt()).plus(ATTEMPT_TTL));
        return same && live ? a : null;
    }

    /**
     * Finishes the attempt sealed in {@code attemptCookie} from the callback's {@code state} and {@code code}:
     * exchanges the code (with the PKCE verifier) for tokens and verifies the ID token. Throws with a message safe
     * to show. The caller drops the cookie whatever the outcome; the provider accepts a code once.
     */
    Identity finish(String attemptCookie, String state, String code) throws TokenRejectedException, IOException {
        Attempt a = attempt(attemptCookie, state);
        if (a == null) {
            throw new TokenRejectedException("this sign-in attempt is unknown or has expired; start again");
        }
        if (code == null || code.isEmpty()) {
            throw new TokenRejectedException("the identity provider returned no authorization code");
        }
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "authorization_code");
        form.put("code", code);
        form.put("redirect_uri", config.redirectUri().toString());
        form.put("client_id", config.clientId());
        form.put("code_verifier", a.verifier);
        HttpRequest.Builder req = HttpRequest.newBuilder(endpoints().token).timeout(HTTP_TIMEOUT)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(form(form)));
        if (config.clientSecret() != null) {
            String basic = URLEncoder.encode(config.clientId(), StandardCharsets.UTF_8) + ":"
                    + URLEncoder.encode(config.clientSecret().read(), StandardCharsets.UTF_8);
            req.header("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
        }
        JsonNode body = fetchJson(req.build(), "token endpoint");
        JsonNode idToken = body.get("id_token");
        if (idToken == null || !idToken.isTextual()) {
            throw new TokenRejectedException("the identity provider returned no ID token");
        }
        Identity identity = idTokens.verify(idToken.asText());
        String nonce;
        try {
            nonce = JWTParser.parse(idToken.asText()).getJWTClaimsSet().getStringClaim("nonce");
        } catch (java.text.ParseException e) {
            throw new TokenRejectedException("malformed ID token");
        }
        if (nonce == null || !MessageDigest.isEqual(nonce.getBytes(StandardCharsets.UTF_8),
                a.nonce.getBytes(StandardCharsets.UTF_8))) {
            throw new TokenRejectedException("the ID token does not belong to this sign-in (nonce mismatch)");
        }
        return identity;
    }

    String issuer() {
        return config.issuer();
    }

    private Endpoints endpoints() throws IOException {
        Endpoints e = endpoints;
        if (e != null) {
            return e;
        }
        String base = config.issuer().endsWith("/") ? config.issuer().substring(0, config.issuer().length() - 1)
                : config.issuer();
        JsonNode doc = fetchJson(HttpRequest.newBuilder(URI.create(base + "/.well-known/openid-configuration"))
                .timeout(HTTP_TIMEOUT).header("Accept", "application/json").GET().build(), "discovery document");
        if (!config.issuer().equals(doc.path("issuer").asText(null))) {
            throw new IOException("the discovery document names issuer " + doc.path("issuer").asText(null)
                    + ", not " + config.issuer());
        }
        e = new Endpoints(endpoint(doc, "authorization_endpoint"), endpoint(doc, "token_endpoint"));
        endpoints = e;
        return e;
    }

    private static URI endpoint(JsonNode doc, String field) throws IOException {
        String text = doc.path(field).asText(null);
        if (text == null) {
            throw new IOException("the discovery document has no " + field);
        }
        URI uri = URI.create(text);
        try {
            TrustedIssuer.requireSafeUrl(uri, field); // the same rule as the issuer's key URLs
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        return uri;
    }

    private JsonNode fetchJson(HttpRequest request, String what) throws IOException {
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while calling the identity provider's " + what);
        }
        if (response.body().length > MAX_RESPONSE_BYTES) {
            throw new IOException("the identity provider's " + what + " answered with too large a body");
        }
        if (response.statusCode() != 200) {
            // The body of a token error may echo the code; only the status is kept.
            throw new IOException("the identity provider's " + what + " answered HTTP " + response.statusCode());
        }
        JsonNode json = JSON.readTree(response.body());
        if (json == null || !json.isObject()) {
            throw new IOException("the identity provider's " + what + " is not a JSON object");
        }
        return json;
    }

    static String challenge(String verifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String form(Map<String, String> fields) {
        StringJoiner j = new StringJoiner("&");
        fields.forEach((k, v) -> j.add(URLEncoder.encode(k, StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return j.toString();
    }
}
