package io.phigate.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenVerifierTest {
    private static final String AUDIENCE = "phigate";
    private static final Duration SKEW = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private TestIssuer idp;
    private TokenVerifier verifier;

    @BeforeEach
    void setUp() throws Exception {
        idp = TestIssuer.ec("https://idp.example", "key-1");
        verifier = new TokenVerifier(config(idp.fileConfig(idp.writeJwks(dir), AUDIENCE, "other-audience")));
    }

    private static IdentityConfig config(IssuerConfig... issuers) {
        return new IdentityConfig(List.of(issuers), SKEW, Duration.ofMinutes(5));
    }

    private static String rejection(TokenVerifier verifier, String token) {
        var e = catchThrowableOfType(TokenRejectedException.class, () -> verifier.verify(token));
        assertThat(e).as("token should have been rejected").isNotNull();
        return e.getMessage();
    }

    @Test
    void validTokenYieldsIdentityWithSubjectExpiryAndDigestOfThePayload() throws Exception {
        Instant exp = Instant.now().plusSeconds(600).truncatedTo(ChronoUnit.SECONDS);
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).expirationTime(Date.from(exp))
                .claim("azp", "billing-agent").claim("groups", List.of("readers", "oncall")).build());

        Identity identity = verifier.verify(token);

        assertThat(identity.issuer()).isEqualTo("https://idp.example");
        assertThat(identity.subject()).isEqualTo("agent-7");
        assertThat(identity.expiresAt()).isEqualTo(exp);
        byte[] payload = Base64.getUrlDecoder().decode(token.split("\\.")[1]);
        assertThat(identity.claimsDigest())
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)));
        assertThat(identity.attributes())
                .containsEntry("azp", "billing-agent")
                .containsEntry("groups", "readers,oncall");
        assertThat(identity.toString()).doesNotContain(token);
    }

    @Test
    void audienceNeedOnlyIntersectTheConfiguredAudiences() throws Exception {
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).audience(List.of("unrelated", "other-audience")).build());

        assertThat(verifier.verify(token).subject()).isEqualTo("agent-7");
    }

    @Test
    void kubernetesProjectedServiceAccountClaimsBecomeAttributes() throws Exception {
        TestIssuer apiServer = TestIssuer.rsa("https://kubernetes.default.svc.cluster.local", "k8s-key");
        var k8sVerifier = new TokenVerifier(config(apiServer.fileConfig(apiServer.writeJwks(dir), "phigate")));
        String subject = "system:serviceaccount:analytics:report-agent";
        // The shape the API server issues for a projected volume token (TokenRequest bound to a pod).
        String token = apiServer.sign(apiServer.claims(subject, "phigate", 3600).claim("kubernetes.io", Map.of(
                "namespace", "analytics",
                "pod", Map.of("name", "report-agent-6d9f", "uid", "0b1c-pod"),
                "serviceaccount", Map.of("name", "report-agent", "uid", "9f8e-sa"))).build());

        Identity identity = k8sVerifier.verify(token);

        assertThat(identity.subject()).isEqualTo(subject);
        assertThat(identity.attributes()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "kubernetes.namespace", "analytics",
                "kubernetes.serviceaccount", "report-agent",
                "kubernetes.serviceaccount_uid", "9f8e-sa",
                "kubernetes.pod", "report-agent-6d9f",
                "kubernetes.pod_uid", "0b1c-pod"));
    }

    @Test
    void groupNamesContainingACommaAreLeftOutRatherThanSplitIntoTwoGroups() throws Exception {
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).claim("groups", List.of("readers", "x,admins")).build());

        assertThat(verifier.verify(token).attributes()).containsEntry("groups", "readers");
    }

    @Test
    void expiredTokenIsRejected() {
        Instant past = Instant.now().minusSeconds(600);
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 0)
                .notBeforeTime(Date.from(past.minusSeconds(600))).expirationTime(Date.from(past)).build());

        assertThat(rejection(verifier, token)).isEqualTo("token expired");
    }

    @Test
    void tokenNotYetValidIsRejected() {
        Instant future = Instant.now().plusSeconds(600);
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 1200).notBeforeTime(Date.from(future)).build());

        assertThat(rejection(verifier, token)).isEqualTo("token not yet valid");
    }

    @Test
    void clockSkewWithinToleranceIsAcceptedAndBeyondItIsNot() throws Exception {
        Instant now = Instant.now();
        String justExpired = idp.sign(idp.claims("agent-7", AUDIENCE, 0)
                .expirationTime(Date.from(now.minusSeconds(30))).notBeforeTime(Date.from(now.minusSeconds(600))).build());
        String nearlyValid = idp.sign(idp.claims("agent-7", AUDIENCE, 600)
                .notBeforeTime(Date.from(now.plusSeconds(30))).build());
        String longExpired = idp.sign(idp.claims("agent-7", AUDIENCE, 0)
                .expirationTime(Date.from(now.minusSeconds(120))).notBeforeTime(Date.from(now.minusSeconds(600))).build());

        assertThat(verifier.verify(justExpired).subject()).isEqualTo("agent-7");
        assertThat(verifier.verify(nearlyValid).subject()).isEqualTo("agent-7");
        assertThat(rejection(verifier, longExpired)).isEqualTo("token expired");
    }

    @Test
    void tokenWithoutExpiryIsRejected() {
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).expirationTime(null).build());

        assertThat(rejection(verifier, token)).isEqualTo("token is missing required claims");
    }

    @Test
    void tokenWithoutSubjectIsRejected() {
        String token = idp.sign(idp.claims(null, AUDIENCE, 600).build());

        assertThat(rejection(verifier, token)).isEqualTo("token is missing required claims");
    }

    @Test
    void tokenForAnotherAudienceIsRejected() {
        String token = idp.sign(idp.claims("agent-7", "some-other-service", 600).build());

        assertThat(rejection(verifier, token)).isEqualTo("token audience not accepted");
    }

    @Test
    void tokenWithoutAudienceIsRejected() {
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).audience((String) null).build());

        assertThat(rejection(verifier, token)).isEqualTo("token audience not accepted");
    }

    @Test
    void tokenFromUnknownIssuerIsRejected() {
        TestIssuer stranger = TestIssuer.ec("https://evil.example", "key-1");

        assertThat(rejection(verifier, stranger.sign(stranger.claims("agent-7", AUDIENCE, 600).build())))
                .isEqualTo("token issuer is not trusted");
        assertThat(rejection(verifier, idp.sign(idp.claims("agent-7", AUDIENCE, 600).issuer(null).build())))
                .isEqualTo("token issuer is not trusted");
    }

    @Test
    void tokenSignedByAnotherKeyUnderTheTrustedKidIsRejected() {
        TestIssuer impostor = TestIssuer.ec(idp.issuer, "key-1");

        assertThat(rejection(verifier, impostor.sign(impostor.claims("agent-7", AUDIENCE, 600).build())))
                .isEqualTo("token signature invalid");
    }

    @Test
    void tokenSignedByAnotherKeyWithAnUnknownKidIsRejected() {
        TestIssuer impostor = TestIssuer.ec(idp.issuer, "key-unknown");

        assertThat(rejection(verifier, impostor.sign(impostor.claims("agent-7", AUDIENCE, 600).build())))
                .isEqualTo("token signing key not recognized");
    }

    @Test
    void tamperedPayloadIsRejected() {
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).build());
        String[] parts = token.split("\\.");
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                        .replace("agent-7", "admin-1").getBytes(StandardCharsets.UTF_8));

        assertThat(rejection(verifier, parts[0] + "." + forged + "." + parts[2])).isEqualTo("token signature invalid");
    }

    @Test
    void unsignedAlgNoneTokenIsRejected() {
        String token = new PlainJWT(idp.claims("agent-7", AUDIENCE, 600).build()).serialize();
        // Also the hand-made variant that keeps a signature part, and a case variant of "none".
        String header = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"None\"}".getBytes(StandardCharsets.UTF_8));
        String caseVariant = header + "." + token.split("\\.")[1] + ".";

        assertThat(rejection(verifier, token)).isEqualTo("token must be signed");
        assertThat(rejection(verifier, token + "c2ln")).isEqualTo("malformed token");
        assertThat(rejection(verifier, caseVariant)).isIn("malformed token", "token algorithm not accepted");
    }

    @Test
    void hs256TokenKeyedWithTheIssuersPublicKeyIsRejected() throws JOSEException {
        // Algorithm confusion: a verifier that lets the token choose HMAC would check this "signature" with
        // the public key as the shared secret, and accept it.
        byte[] publicKeyBytes = ((ECKey) idp.key).toECPublicKey().getEncoded();
        byte[] jwksBytes = idp.publicJwks().getBytes(StandardCharsets.UTF_8);
        List<String> forged = new ArrayList<>();
        for (byte[] secret : List.of(publicKeyBytes, jwksBytes)) {
            var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("key-1").build(),
                    idp.claims("agent-7", AUDIENCE, 600).build());
            jwt.sign(new MACSigner(secret));
            forged.add(jwt.serialize());
        }

        for (String token : forged) {
            assertThat(rejection(verifier, token)).isEqualTo("token algorithm not accepted");
        }
    }

    @Test
    void algorithmOutsideTheIssuersPinnedListIsRejected() throws Exception {
        TestIssuer rsaIdp = TestIssuer.rsa("https://rsa.example", "rsa-1");
        var esOnly = new TokenVerifier(config(new IssuerConfig(rsaIdp.issuer, List.of(AUDIENCE),
                rsaIdp.writeJwks(dir), null, false, List.of("ES256"))));

        assertThat(rejection(esOnly, rsaIdp.sign(rsaIdp.claims("agent-7", AUDIENCE, 600).build())))
                .isEqualTo("token algorithm not accepted");
    }

    @Test
    void hmacAlgorithmsCannotBeConfigured() throws Exception {
        Path jwks = idp.writeJwks(dir);

        assertThatThrownBy(() -> new TokenVerifier(config(new IssuerConfig(idp.issuer, List.of(AUDIENCE), jwks, null,
                false, List.of("ES256", "HS256")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HS256");
        assertThatThrownBy(() -> new TokenVerifier(config(new IssuerConfig(idp.issuer, List.of(AUDIENCE), jwks, null,
                false, List.of("none")))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encryptedAndGarbageTokensAreRejectedAsMalformedOrUnsupported() {
        String jwe = "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a2V5.aXY.Y2lwaGVy.dGFn";

        assertThat(rejection(verifier, jwe)).isIn("encrypted tokens are not accepted", "malformed token");
        assertThat(rejection(verifier, "hunter2")).isEqualTo("malformed token");
        assertThat(rejection(verifier, "")).isEqualTo("malformed token");
        assertThat(rejection(verifier, "a".repeat(TokenVerifier.MAX_TOKEN_CHARS + 1))).isEqualTo("malformed token");
    }

    @Test
    void unreadableJwksFileFailsAtStartupNamingTheFile() {
        Path missing = dir.resolve("no-such-jwks.json");

        assertThatThrownBy(() -> new TokenVerifier(config(idp.fileConfig(missing, AUDIENCE))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void issuerWithoutAudienceOrWithTwoKeySourcesIsRefusedAtStartup() throws Exception {
        Path jwks = idp.writeJwks(dir);

        assertThatThrownBy(() -> new TokenVerifier(config(new IssuerConfig(idp.issuer, List.of(), jwks, null, false, null))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("audience");
        assertThatThrownBy(() -> new TokenVerifier(config(new IssuerConfig(idp.issuer, List.of(AUDIENCE), jwks,
                URI.create("https://idp.example/jwks"), false, null))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
    }

    @Test
    void remoteKeysOverPlainHttpAreRefusedExceptOnLoopback() {
        assertThatThrownBy(() -> new TokenVerifier(config(idp.urlConfig(URI.create("http://idp.example/jwks"), AUDIENCE))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("https");
        assertThatThrownBy(() -> new TokenVerifier(config(new IssuerConfig("http://idp.example", List.of(AUDIENCE),
                null, null, true, null))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("https");
    }

    @Test
    void rejectionMessagesNeverContainTheToken() throws Exception {
        Instant past = Instant.now().minusSeconds(600);
        TestIssuer impostor = TestIssuer.ec(idp.issuer, "key-1");
        TestIssuer stranger = TestIssuer.ec("https://evil.example", "key-1");
        List<String> tokens = List.of(
                idp.sign(idp.claims("agent-7", AUDIENCE, 0).expirationTime(Date.from(past)).notBeforeTime(Date.from(past.minusSeconds(60))).build()),
                idp.sign(idp.claims("agent-7", AUDIENCE, 600).notBeforeTime(Date.from(Instant.now().plusSeconds(600))).build()),
                idp.sign(idp.claims("agent-7", "elsewhere", 600).build()),
                impostor.sign(impostor.claims("agent-7", AUDIENCE, 600).build()),
                stranger.sign(stranger.claims("agent-7", AUDIENCE, 600).build()),
                new PlainJWT(idp.claims("agent-7", AUDIENCE, 600).build()).serialize(),
                "not-a-token-but-a-secret-password");

        for (String token : tokens) {
            var e = catchThrowableOfType(TokenRejectedException.class, () -> verifier.verify(token));
            assertThat(e).isNotNull();
            for (String part : token.split("\\.")) {
                if (part.length() >= 8) {
                    assertThat(e.getMessage()).doesNotContain(part);
                }
            }
            assertThat(e.getCause()).isNull();
            assertThat(e.toString()).doesNotContain(token);
        }
    }

    @Test
    void unknownKidRefetchesTheJwksUrlSoARotatedKeyIsAccepted() throws Exception {
        TestIssuer oldKey = TestIssuer.ec("https://rotating.example", "2026-01");
        TestIssuer newKey = TestIssuer.ec("https://rotating.example", "2026-02");
        try (var server = new JwksServer()) {
            server.serve("/jwks", oldKey.publicJwks());
            var remote = new TokenVerifier(config(oldKey.urlConfig(URI.create(server.base() + "/jwks"), AUDIENCE)));

            assertThat(remote.verify(oldKey.sign(oldKey.claims("agent-7", AUDIENCE, 600).build())).subject()).isEqualTo("agent-7");
            assertThat(remote.verify(oldKey.sign(oldKey.claims("agent-8", AUDIENCE, 600).build())).subject()).isEqualTo("agent-8");
            assertThat(server.hits("/jwks")).as("cached after the first fetch").isEqualTo(1);

            server.serve("/jwks", "{\"keys\":[" + oldKey.key.toPublicJWK().toJSONString() + ","
                    + newKey.key.toPublicJWK().toJSONString() + "]}");
            assertThat(remote.verify(newKey.sign(newKey.claims("agent-9", AUDIENCE, 600).build())).subject()).isEqualTo("agent-9");
            assertThat(server.hits("/jwks")).isEqualTo(2);
        }
    }

    @Test
    void kidThatNeverAppearsIsRejectedAndRefetchesAreRateLimited() throws Exception {
        TestIssuer published = TestIssuer.ec("https://rotating.example", "published");
        TestIssuer unpublished = TestIssuer.ec("https://rotating.example", "unpublished");
        try (var server = new JwksServer()) {
            server.serve("/jwks", published.publicJwks());
            var remote = new TokenVerifier(config(published.urlConfig(URI.create(server.base() + "/jwks"), AUDIENCE)));
            String token = unpublished.sign(unpublished.claims("agent-7", AUDIENCE, 600).build());

            for (int i = 0; i < 5; i++) {
                assertThat(rejection(remote, token)).isEqualTo("token signing key not recognized");
            }
            assertThat(server.hits("/jwks")).isLessThanOrEqualTo(2);
            assertThat(remote.verify(published.sign(published.claims("agent-7", AUDIENCE, 600).build())).subject())
                    .isEqualTo("agent-7");
        }
    }

    @Test
    void unreachableJwksUrlRejectsWithoutDetailForTheClient() throws Exception {
        TestIssuer idp2 = TestIssuer.ec("https://down.example", "k");
        String url;
        try (var server = new JwksServer()) {
            url = server.base() + "/jwks";
        }
        var remote = new TokenVerifier(config(idp2.urlConfig(URI.create(url), AUDIENCE)));

        assertThat(rejection(remote, idp2.sign(idp2.claims("agent-7", AUDIENCE, 600).build())))
                .isEqualTo("token issuer keys unavailable");
    }

    @Test
    void discoveryDocumentLeadsToTheIssuersKeysOnFirstUse() throws Exception {
        try (var server = new JwksServer()) {
            TestIssuer oidc = TestIssuer.rsa(server.base(), "oidc-1");
            server.serve("/.well-known/openid-configuration",
                    "{\"issuer\":\"" + server.base() + "\",\"jwks_uri\":\"" + server.base() + "/keys\"}");
            server.serve("/keys", oidc.publicJwks());
            var discovering = new TokenVerifier(config(new IssuerConfig(oidc.issuer, List.of(AUDIENCE), null, null, true, null)));
            assertThat(server.hits("/.well-known/openid-configuration")).as("lazy").isZero();

            // Many sessions arriving at once still fetch the discovery document once.
            String token = oidc.sign(oidc.claims("agent-7", AUDIENCE, 600).build());
            List<Callable<Identity>> calls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                calls.add(() -> discovering.verify(token));
            }
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (var f : pool.invokeAll(calls)) {
                    assertThat(f.get().subject()).isEqualTo("agent-7");
                }
            }
            assertThat(server.hits("/.well-known/openid-configuration")).isEqualTo(1);
        }
    }

    @Test
    void discoveryDocumentNamingAnotherIssuerIsNotTrusted() throws Exception {
        try (var server = new JwksServer()) {
            TestIssuer oidc = TestIssuer.ec(server.base(), "oidc-1");
            server.serve("/.well-known/openid-configuration",
                    "{\"issuer\":\"https://someone-else.example\",\"jwks_uri\":\"" + server.base() + "/keys\"}");
            server.serve("/keys", oidc.publicJwks());
            var discovering = new TokenVerifier(config(new IssuerConfig(oidc.issuer, List.of(AUDIENCE), null, null, true, null)));

            assertThat(rejection(discovering, oidc.sign(oidc.claims("agent-7", AUDIENCE, 600).build())))
                    .isEqualTo("token issuer keys unavailable");
            assertThat(server.hits("/keys")).isZero();
        }
    }

    @Test
    void tokenOfAnotherTypeIsRejected() {
        String token = idp.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("key-1")
                .type(new JOSEObjectType("secevent+jwt")).build(),
                idp.claims("agent-7", AUDIENCE, 600).build());

        assertThat(rejection(verifier, token)).isEqualTo("token type not accepted");
    }

    @Test
    void accessTokenTypedAtJwtIsAccepted() throws Exception {
        String token = idp.sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("key-1")
                .type(new JOSEObjectType("at+jwt")).build(),
                idp.claims("agent-7", AUDIENCE, 600).build());

        assertThat(verifier.verify(token).subject()).isEqualTo("agent-7");
    }

    @Test
    void tokenWhoseExpiryIsCenturiesAwayIsRefusedNamingTheLimit() {
        Instant now = Instant.now();
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600)
                .expirationTime(Date.from(now.plus(Duration.ofDays(365L * 300)))).build());

        assertThat(rejection(verifier, token)).startsWith("token lifetime (exp - iat) of ")
                .endsWith("exceeds identity.max_token_lifetime (24h)");
    }

    @Test
    void withoutIatTheTimeLeftUntilExpiryIsWhatIsLimited() throws Exception {
        String far = idp.sign(idp.claims("agent-7", AUDIENCE, 25 * 3600).issueTime(null).build());
        String near = idp.sign(idp.claims("agent-7", AUDIENCE, 23 * 3600).issueTime(null).build());

        // exp is whole seconds: a moment later, a little under 25h remain.
        assertThat(rejection(verifier, far)).matches(
                "token expires in 24h59m5\\ds, beyond identity.max_token_lifetime \\(24h\\)");
        assertThat(verifier.verify(near).subject()).isEqualTo("agent-7");
    }

    @Test
    void anIatSetInTheFutureDoesNotStretchTheLifetime() {
        Instant now = Instant.now();
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 600).issueTime(Date.from(now.plus(Duration.ofDays(30))))
                .expirationTime(Date.from(now.plus(Duration.ofDays(30)).plusSeconds(600))).build());

        assertThat(rejection(verifier, token)).startsWith("token expires in 30d")
                .endsWith("beyond identity.max_token_lifetime (24h)");
    }

    @Test
    void lifetimeWithinTheConfiguredLimitIsAcceptedAndALowerLimitRefusesIt() throws Exception {
        String token = idp.sign(idp.claims("agent-7", AUDIENCE, 23 * 3600).build());
        assertThat(verifier.verify(token).subject()).isEqualTo("agent-7");

        var strict = new TokenVerifier(new IdentityConfig(List.of(idp.fileConfig(idp.writeJwks(dir), AUDIENCE)), SKEW,
                Duration.ZERO, IdentityConfig.Revoked.NONE, IdentityConfig.DEFAULT_CREDENTIAL_TTL, Duration.ofHours(1)));
        assertThat(rejection(strict, token)).isEqualTo(
                "token lifetime (exp - iat) of 23h exceeds identity.max_token_lifetime (1h)");
        assertThat(strict.verify(idp.sign(idp.claims("agent-7", AUDIENCE, 3600).build())).subject()).isEqualTo("agent-7");
    }

    @Test
    void subjectWithALineBreakOrUnicodeSeparatorIsRefused() throws Exception {
        for (String subject : List.of("agent-7\nforged line", "agent-7\r", "agent\u2028seven", "agent\u2029",
                "agent\u0085", "agent\u007f", "agent\u0000")) {
            String token = idp.sign(idp.claims(subject, AUDIENCE, 600).build());
            assertThat(rejection(verifier, token)).as(subject.codePoints().boxed().toList().toString())
                    .startsWith("token claim sub contains a control character (U+");
        }
        assertThat(rejection(verifier, idp.sign(idp.claims("agent\u2028seven", AUDIENCE, 600).build())))
                .isEqualTo("token claim sub contains a control character (U+2028)");
        assertThat(verifier.verify(idp.sign(idp.claims("agent-7 (Zoë, ünïcode)", AUDIENCE, 600).build())).subject())
                .isEqualTo("agent-7 (Zoë, ünïcode)");
    }

    @Test
    void mappedClaimsWithControlCharactersAreRefusedToo() {
        String namespace = idp.sign(idp.claims("system:serviceaccount:a:b", AUDIENCE, 600).claim("kubernetes.io",
                Map.of("namespace", "clinical\nadmin", "serviceaccount", Map.of("name", "b"))).build());
        String account = idp.sign(idp.claims("system:serviceaccount:a:b", AUDIENCE, 600).claim("kubernetes.io",
                Map.of("namespace", "a", "serviceaccount", Map.of("name", "b\u2029"))).build());
        String group = idp.sign(idp.claims("agent-7", AUDIENCE, 600).claim("groups", List.of("readers", "x\u0085y"))
                .build());

        assertThat(rejection(verifier, namespace)).isEqualTo(
                "token claim kubernetes.namespace contains a control character (U+000A)");
        assertThat(rejection(verifier, account)).isEqualTo(
                "token claim kubernetes.serviceaccount contains a control character (U+2029)");
        assertThat(rejection(verifier, group)).isEqualTo("token claim groups contains a control character (U+0085)");
    }

}
