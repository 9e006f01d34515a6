package io.phigate.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One trusted issuer: its pinned algorithms, its key source, and the Nimbus processor that checks a token
 * against both. Built once at startup and shared by every session thread; Nimbus processors and JWK sources
 * are thread-safe once configured.
 */
public final class TrustedIssuer {
    private static final Logger log = LoggerFactory.getLogger(TrustedIssuer.class);

    // Remote key sets: keep keys for five minutes, but refetch at once when a token names a kid we have not
    // seen (key rotation). The rate limit stops a stream of made-up kids from turning us into a flood
    // against the issuer.
    private static final Duration JWKS_CACHE_TTL = Duration.ofMinutes(5);
    private static final Duration JWKS_REFRESH_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration JWKS_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);

    // RFC 9068 access tokens carry typ "at+jwt"; Kubernetes tokens carry none. JOSEObjectType compares
    // case-insensitively, as RFC 7515 asks for media types.
    private static final Set<JOSEObjectType> ACCEPTED_TYPES =
            Set.of(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"));

    final String issuer;
    private final Set<JWSAlgorithm> algorithms;
    private final DefaultJWTProcessor<SecurityContext> processor;

    TrustedIssuer(IssuerConfig config, Duration clockSkew) {
        if (config.issuer() == null || config.issuer().isBlank()) {
            throw new IllegalArgumentException("identity issuer must have a non-empty issuer");
        }
        this.issuer = config.issuer();
        if (config.audiences() == null || config.audiences().isEmpty()) {
            // Without an audience check, a token minted for any other service by the same issuer would
            // open the database.
            throw new IllegalArgumentException("issuer " + issuer + ": at least one audience is required");
        }
        this.algorithms = pinnedAlgorithms(issuer, config.algorithms());

        var claimsVerifier = new DefaultJWTClaimsVerifier<SecurityContext>(
                Set.copyOf(config.audiences()),
                new JWTClaimsSet.Builder().issuer(issuer).build(),
                Set.of("iss", "sub", "exp"),
                null);
        claimsVerifier.setMaxClockSkew(Math.toIntExact(clockSkew.toSeconds()));

        processor = new DefaultJWTProcessor<>();
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(ACCEPTED_TYPES.toArray(JOSEObjectType[]::new)) {
            @Override
            public void verify(JOSEObjectType type, SecurityContext context) throws BadJOSEException {
                if (type != null) {
                    super.verify(type, context);
                }
            }
        });
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, keySource(config)));
        processor.setJWTClaimsSetVerifier(claimsVerifier);
    }

    boolean accepts(JWSAlgorithm algorithm) {
        return algorithms.contains(algorithm);
    }

    JWTClaimsSet process(SignedJWT jwt) throws BadJOSEException, JOSEException {
        return processor.process(jwt, null);
    }

    /**
     * Only asymmetric signature algorithms are ever accepted. An HMAC algorithm would let anyone holding the
     * issuer's public key (everyone) mint tokens, which is the classic algorithm-confusion attack.
     */
    static Set<JWSAlgorithm> pinnedAlgorithms(String issuer, List<String> configured) {
        List<String> names = configured == null || configured.isEmpty() ? IssuerConfig.DEFAULT_ALGORITHMS : configured;
        Set<JWSAlgorithm> result = new LinkedHashSet<>();
        for (String name : names) {
            JWSAlgorithm alg = JWSAlgorithm.parse(name);
            if (!JWSAlgorithm.Family.SIGNATURE.contains(alg)) {
                throw new IllegalArgumentException("issuer " + issuer + ": algorithm " + name
                        + " is not accepted; only asymmetric signature algorithms (RS*, PS*, ES*, EdDSA) are");
            }
            if (JWSAlgorithm.Family.ED.contains(alg) && !ed25519Available()) {
                // Nimbus verifies EdDSA through Google Tink, which phigate does not ship. Dropping it here is
                // clearer than a NoClassDefFoundError on the first EdDSA token.
                // Warn only when an operator chose it; the default list names it for builds that can verify it.
                if (configured != null && !configured.equals(IssuerConfig.DEFAULT_ALGORITHMS)) {
                    log.warn("issuer {}: {} cannot be verified in this build and is ignored", issuer, name);
                }
                continue;
            }
            result.add(alg);
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException("issuer " + issuer + ": no usable signature algorithm configured");
        }
        return Set.copyOf(result);
    }

    private static boolean ed25519Available() {
        try {
            Class.forName("com.google.crypto.tink.subtle.Ed25519Verify", false, TrustedIssuer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private JWKSource<SecurityContext> keySource(IssuerConfig config) {
        int sources = (config.jwksFile() != null ? 1 : 0) + (config.jwksUrl() != null ? 1 : 0) + (config.discovery() ? 1 : 0);
        if (sources != 1) {
            throw new IllegalArgumentException("issuer " + issuer + ": set exactly one of jwks_file, jwks_url, discovery");
        }
        if (config.jwksFile() != null) {
            return new ImmutableJWKSet<>(loadFile(config.jwksFile()));
        }
        if (config.jwksUrl() != null) {
            return remote(requireSafeUrl(config.jwksUrl(), "issuer " + issuer + ": jwks_url"));
        }
        requireSafeUrl(URI.create(issuer), "issuer " + issuer + ": discovery");
        return new DiscoveredJwkSource(issuer);
    }

    private JWKSet loadFile(Path file) {
        JWKSet set;
        try {
            set = JWKSet.load(file.toFile());
        } catch (IOException | ParseException e) {
            throw new IllegalArgumentException("issuer " + issuer + ": cannot read JWKS file " + file + ": " + e.getMessage(), e);
        }
        // Keep only public parts: a JWKS file that mistakenly holds private or symmetric keys must not make
        // those usable for verification (a symmetric key would re-open HMAC).
        JWKSet publicSet = set.toPublicJWKSet();
        if (publicSet.isEmpty()) {
            throw new IllegalArgumentException("issuer " + issuer + ": JWKS file " + file + " holds no public keys");
        }
        return publicSet;
    }

    static JWKSource<SecurityContext> remote(URL url) {
        return JWKSourceBuilder.<SecurityContext>create(url)
                .cache(JWKS_CACHE_TTL.toMillis(), JWKS_REFRESH_TIMEOUT.toMillis())
                .rateLimited(JWKS_MIN_REFRESH_INTERVAL.toMillis())
                .build();
    }

    /**
     * Keys fetched over plain HTTP can be swapped by anyone on the path, so remote key material must come over
     * HTTPS; plain HTTP is allowed only to loopback (local development, tests, a sidecar).
     */
    public static URL requireSafeUrl(URI uri, String what) {
        String scheme = uri.getScheme();
        boolean ok = "https".equalsIgnoreCase(scheme) || ("http".equalsIgnoreCase(scheme) && isLoopback(uri.getHost()));
        if (!ok) {
            throw new IllegalArgumentException(what + " must use https (plain http only to loopback): " + uri);
        }
        try {
            return uri.toURL();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not a valid URL: " + uri, e);
        }
    }

    private static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        return host.equalsIgnoreCase("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1");
    }
}
