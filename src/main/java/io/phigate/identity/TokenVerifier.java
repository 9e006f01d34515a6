package io.phigate.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an agent's bearer token into an {@link Identity}, or refuses it with a message that is safe to send
 * to the client. Only signed JWTs from configured issuers, signed with one of that issuer's pinned asymmetric
 * algorithms, are accepted.
 *
 * <p>Built once at startup and called concurrently from session threads; it holds no mutable state of its
 * own (remote key sets cache and refresh inside Nimbus).
 */
public final class TokenVerifier {
    private static final Logger log = LoggerFactory.getLogger(TokenVerifier.class);

    // A real token is a few KiB at most; refusing larger input early bounds the parsing work a client can
    // cause before authenticating.
    static final int MAX_TOKEN_CHARS = 16 * 1024;
    private static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);

    private final Map<String, TrustedIssuer> issuers;
    private final Duration maxLifetime;
    private final Duration skew;
    private final Clock clock;

    /**
     * @throws IllegalArgumentException if an issuer is misconfigured (no audience, HMAC or unknown algorithm,
     *         not exactly one key source, unreadable JWKS file, remote keys over plain HTTP to a non-loopback host)
     */
    public TokenVerifier(IdentityConfig config) {
        this(config, Clock.systemUTC());
    }

    TokenVerifier(IdentityConfig config, Clock clock) {
        Duration skew = config.clockSkew() == null ? DEFAULT_CLOCK_SKEW : config.clockSkew();
        if (skew.isNegative()) {
            throw new IllegalArgumentException("identity clock skew must not be negative");
        }
        Map<String, TrustedIssuer> byName = new HashMap<>();
        for (IssuerConfig issuer : config.issuers() == null ? List.<IssuerConfig>of() : config.issuers()) {
            if (byName.put(issuer.issuer(), new TrustedIssuer(issuer, skew)) != null) {
                throw new IllegalArgumentException("issuer " + issuer.issuer() + " is configured twice");
            }
        }
        this.issuers = Map.copyOf(byName);
        this.maxLifetime = config.maxTokenLifetime() == null ? IdentityConfig.DEFAULT_MAX_TOKEN_LIFETIME
                : config.maxTokenLifetime();
        this.skew = skew;
        this.clock = clock;
    }

    /**
     * Verifies signature, issuer, audience, validity window and lifetime, and that no identity string carries a
     * control character.
     *
     * @throws TokenRejectedException with a short message that never contains the token
     */
    public Identity verify(String token) throws TokenRejectedException {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            throw new TokenRejectedException("malformed token");
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException e) {
            throw new TokenRejectedException("malformed token");
        }
        if (jwt instanceof PlainJWT) {
            throw new TokenRejectedException("token must be signed");
        }
        if (jwt instanceof EncryptedJWT || !(jwt instanceof SignedJWT signed)) {
            throw new TokenRejectedException("encrypted tokens are not accepted");
        }

        // The issuer is read before the signature is checked only to choose which keys to check it with;
        // nothing else is trusted until the processor has verified the signature and the claims.
        String claimedIssuer;
        try {
            claimedIssuer = signed.getJWTClaimsSet().getIssuer();
        } catch (ParseException e) {
            throw new TokenRejectedException("malformed token");
        }
        TrustedIssuer issuer = claimedIssuer == null ? null : issuers.get(claimedIssuer);
        if (issuer == null) {
            throw new TokenRejectedException("token issuer is not trusted");
        }
        if (!issuer.accepts(signed.getHeader().getAlgorithm())) {
            throw new TokenRejectedException("token algorithm not accepted");
        }

        JWTClaimsSet claims = process(issuer, signed);
        String subject = claims.getSubject();
        if (subject == null || subject.isBlank()) {
            throw new TokenRejectedException("token has no subject");
        }
        Instant expires = claims.getExpirationTime().toInstant();
        checkLifetime(claims.getIssueTime() == null ? null : claims.getIssueTime().toInstant(), expires);
        IdentityClaims.requirePrintable("sub", subject);
        Map<String, String> attributes = IdentityClaims.attributes(claims);
        for (Map.Entry<String, String> a : attributes.entrySet()) {
            IdentityClaims.requirePrintable(a.getKey(), a.getValue());
        }
        return new Identity(issuer.issuer, subject, expires, IdentityClaims.digest(signed), attributes);
    }

    /**
     * Refuses a token that lives longer than {@code identity.max_token_lifetime}: by its own account
     * ({@code exp - iat}), and in any case from now on ({@code exp - now}, with the clock skew), so an {@code iat}
     * set in the future does not stretch it.
     */
    private void checkLifetime(Instant issuedAt, Instant expires) throws TokenRejectedException {
        if (issuedAt != null && Duration.between(issuedAt, expires).compareTo(maxLifetime) > 0) {
            throw new TokenRejectedException("token lifetime (exp - iat) of " + describe(Duration.between(issuedAt,
                    expires)) + " exceeds identity.max_token_lifetime (" + describe(maxLifetime) + ")");
        }
        Duration left = Duration.between(clock.instant(), expires);
        if (left.compareTo(maxLifetime.plus(skew)) > 0) {
            throw new TokenRejectedException("token expires in " + describe(left)
                    + ", beyond identity.max_token_lifetime (" + describe(maxLifetime) + ")");
        }
    }

    /**
     * Exact to the second, in the units the config takes ({@code 24h}, {@code 24h59m59s}, {@code 109500d}), so a
     * lifetime just over the limit never reads as equal to it.
     */
    static String describe(Duration d) {
        long seconds = Math.max(0, d.toSeconds());
        StringBuilder b = new StringBuilder();
        if (seconds >= 2 * 86_400) {
            b.append(seconds / 86_400).append('d');
            seconds %= 86_400;
        }
        long[] amounts = {seconds / 3600, seconds / 60 % 60, seconds % 60};
        String[] units = {"h", "m", "s"};
        for (int i = 0; i < amounts.length; i++) {
            if (amounts[i] > 0) {
                b.append(amounts[i]).append(units[i]);
            }
        }
        return b.isEmpty() ? "0s" : b.toString();
    }

    /** The {@code kid} header of a token, unverified (call after {@link #verify}); null when absent or unparsable. */
    public static String keyId(String token) {
        try {
            return JWTParser.parse(token) instanceof SignedJWT signed ? signed.getHeader().getKeyID() : null;
        } catch (ParseException e) {
            return null;
        }
    }

    /**
     * Maps Nimbus's exceptions to the client-facing messages in one place. Nimbus reports claim failures as
     * one exception type with different messages, so those are told apart by message; an unrecognised message
     * still rejects, just less specifically.
     */
    private static JWTClaimsSet process(TrustedIssuer issuer, SignedJWT jwt) throws TokenRejectedException {
        try {
            return issuer.process(jwt);
        } catch (ExpiredJWTException e) {
            throw new TokenRejectedException("token expired");
        } catch (BadJWTException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("before use time")) {
                throw new TokenRejectedException("token not yet valid");
            } else if (m.contains(" aud ")) {
                throw new TokenRejectedException("token audience not accepted");
            } else if (m.contains("missing required claims")) {
                throw new TokenRejectedException("token is missing required claims");
            } else if (m.contains("iss claim")) {
                throw new TokenRejectedException("token issuer is not trusted");
            }
            throw new TokenRejectedException("token claims rejected");
        } catch (BadJWSException e) {
            throw new TokenRejectedException("token signature invalid");
        } catch (BadJOSEException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("no matching key")) {
                throw new TokenRejectedException("token signing key not recognized");
            } else if (m.contains("typ")) {
                throw new TokenRejectedException("token type not accepted");
            }
            throw new TokenRejectedException("token rejected");
        } catch (RateLimitReachedException e) {
            // An unknown kid while we may not refetch yet: to the client this is just an unknown key.
            throw new TokenRejectedException("token signing key not recognized");
        } catch (KeySourceException e) {
            // Our problem, not the client's: say so without detail, and log the detail for the operator.
            log.warn("issuer {}: signing keys unavailable: {}", issuer.issuer, e.getMessage());
            throw new TokenRejectedException("token issuer keys unavailable");
        } catch (JOSEException e) {
            throw new TokenRejectedException("token signature invalid");
        }
    }
}
