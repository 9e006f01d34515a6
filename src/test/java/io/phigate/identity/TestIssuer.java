package io.phigate.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/** A token issuer under the test's control: a key pair, and helpers to sign whatever claims a test needs. */
final class TestIssuer {
    final String issuer;
    final JWK key;

    private TestIssuer(String issuer, JWK key) {
        this.issuer = issuer;
        this.key = key;
    }

    static TestIssuer ec(String issuer, String kid) {
        try {
            return new TestIssuer(issuer, new ECKeyGenerator(Curve.P_256).keyID(kid).generate());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static TestIssuer rsa(String issuer, String kid) {
        try {
            return new TestIssuer(issuer, new RSAKeyGenerator(2048).keyID(kid).generate());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    JWSAlgorithm algorithm() {
        return key instanceof RSAKey ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
    }

    String publicJwks() {
        return new JWKSet(key.toPublicJWK()).toString();
    }

    Path writeJwks(Path dir) throws IOException {
        Path file = dir.resolve(key.getKeyID() + "-jwks.json");
        Files.writeString(file, publicJwks());
        return file;
    }

    IssuerConfig fileConfig(Path jwks, String... audiences) {
        return new IssuerConfig(issuer, List.of(audiences), jwks, null, false, IssuerConfig.DEFAULT_ALGORITHMS);
    }

    IssuerConfig urlConfig(URI jwks, String... audiences) {
        return new IssuerConfig(issuer, List.of(audiences), null, jwks, false, IssuerConfig.DEFAULT_ALGORITHMS);
    }

    /** Claims for a token valid from now for {@code seconds}, which tests then adjust. */
    JWTClaimsSet.Builder claims(String subject, String audience, long seconds) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(subject)
                .audience(audience)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(seconds)));
    }

    String sign(JWTClaimsSet claims) {
        return sign(new JWSHeader.Builder(algorithm()).keyID(key.getKeyID()).build(), claims);
    }

    String sign(JWSHeader header, JWTClaimsSet claims) {
        try {
            JWSSigner signer = key instanceof RSAKey rsa ? new RSASSASigner(rsa) : new ECDSASigner((ECKey) key);
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
