package io.phigate.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyToolTest {
    @TempDir
    Path dir;

    private static TokenVerifier verifierFor(String issuer, Path jwks, String audience) {
        return new TokenVerifier(new IdentityConfig(List.of(new IssuerConfig(issuer, List.of(audience), jwks, null, false,
                IssuerConfig.DEFAULT_ALGORITHMS)), Duration.ofSeconds(30), Duration.ZERO));
    }

    @Test
    void generatedKeyIsOwnerOnlyAndTheJwksHoldsOnlyThePublicHalf() throws Exception {
        Path key = KeyTool.generate(dir.resolve("keys"));

        assertThat(key).isEqualTo(dir.resolve("keys").resolve("signing-key.jwk"));
        JWK privateJwk = JWK.parse(Files.readString(key));
        assertThat(privateJwk.isPrivate()).isTrue();
        assertThat(privateJwk.getKeyID()).isNotBlank();
        assertThat(privateJwk.getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        }
        JWKSet jwks = JWKSet.load(dir.resolve("keys").resolve("jwks.json").toFile());
        assertThat(jwks.getKeys()).singleElement().satisfies(k -> {
            assertThat(k.isPrivate()).isFalse();
            assertThat(k.getKeyID()).isEqualTo(privateJwk.getKeyID());
        });
        assertThat(Files.list(dir.resolve("keys"))).as("no temporary files left").hasSize(2);
    }

    @Test
    void existingKeyIsNotReplacedWithoutForce() throws Exception {
        Path key = KeyTool.generate(dir);
        String original = Files.readString(key);

        assertThatThrownBy(() -> KeyTool.generate(dir)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(key)).isEqualTo(original);

        KeyTool.generate(dir, true);
        assertThat(Files.readString(key)).isNotEqualTo(original);
    }

    @Test
    void mintedEs256TokenVerifiesAgainstTheGeneratedJwks() throws Exception {
        Path key = KeyTool.generate(dir);
        String token = KeyTool.mint(key, "https://dev.phigate", "agent-1", List.of("phigate", "other"),
                Duration.ofMinutes(10), Map.of("azp", "demo-agent", "scope", "read"));

        SignedJWT jwt = SignedJWT.parse(token);
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        assertThat(jwt.getHeader().getKeyID()).isEqualTo(JWK.parse(Files.readString(key)).getKeyID());
        var claims = jwt.getJWTClaimsSet();
        assertThat(claims.getJWTID()).isNotBlank();
        assertThat(claims.getIssueTime()).isNotNull();
        assertThat(claims.getNotBeforeTime()).isNotNull();
        assertThat(claims.getExpirationTime().toInstant()).isBetween(Instant.now().plusSeconds(590), Instant.now().plusSeconds(601));

        Identity identity = verifierFor("https://dev.phigate", dir.resolve("jwks.json"), "phigate").verify(token);
        assertThat(identity.subject()).isEqualTo("agent-1");
        assertThat(identity.attributes()).containsEntry("azp", "demo-agent");
    }

    @Test
    void rsaPrivateKeyMintsRs256() throws Exception {
        var rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        Path key = dir.resolve("rsa.jwk");
        Files.writeString(key, rsa.toJSONString());
        Path jwks = dir.resolve("rsa-jwks.json");
        Files.writeString(jwks, new JWKSet(rsa.toPublicJWK()).toString());

        String token = KeyTool.mint(key, "https://dev.phigate", "agent-2", List.of("phigate"), Duration.ofMinutes(1), Map.of());

        assertThat(SignedJWT.parse(token).getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(verifierFor("https://dev.phigate", jwks, "phigate").verify(token).subject()).isEqualTo("agent-2");
    }

    @Test
    void mintRefusesAPublicKeyAndExtraClaimsThatWouldOverrideRegisteredOnes() throws Exception {
        Path key = KeyTool.generate(dir);

        assertThatThrownBy(() -> KeyTool.mint(dir.resolve("jwks.json"), "i", "s", List.of("a"), Duration.ofMinutes(1), Map.of()))
                .isInstanceOf(java.io.IOException.class);
        Files.writeString(dir.resolve("public.jwk"), JWK.parse(Files.readString(key)).toPublicJWK().toJSONString());
        assertThatThrownBy(() -> KeyTool.mint(dir.resolve("public.jwk"), "i", "s", List.of("a"), Duration.ofMinutes(1), Map.of()))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("private");
        assertThatThrownBy(() -> KeyTool.mint(key, "i", "s", List.of("a"), Duration.ofMinutes(1), Map.of("exp", 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exp");
    }
}
