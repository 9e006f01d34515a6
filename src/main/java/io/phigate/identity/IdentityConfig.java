package io.phigate.identity;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Token verification. {@code sessionGrace} is how long a session may outlive its token's expiry.
 *
 * @param revoked       subjects and key ids refused at connect and at the credential exchange
 * @param credentialTtl how long a one-time credential from {@code POST /api/v1/credentials} may wait to be used
 * @param maxTokenLifetime the longest lifetime a token may have ({@code exp - iat}, or {@code exp - now} without
 *                      {@code iat}): a stolen token stays useful no longer than this, whatever its issuer wrote
 */
public record IdentityConfig(List<IssuerConfig> issuers, Duration clockSkew, Duration sessionGrace, Revoked revoked,
                             Duration credentialTtl, Duration maxTokenLifetime) {
    public static final Duration DEFAULT_CREDENTIAL_TTL = Duration.ofMinutes(5);
    public static final Duration DEFAULT_MAX_TOKEN_LIFETIME = Duration.ofHours(24);

    public IdentityConfig(List<IssuerConfig> issuers, Duration clockSkew, Duration sessionGrace) {
        this(issuers, clockSkew, sessionGrace, Revoked.NONE, DEFAULT_CREDENTIAL_TTL);
    }

    public IdentityConfig(List<IssuerConfig> issuers, Duration clockSkew, Duration sessionGrace, Revoked revoked,
                          Duration credentialTtl) {
        this(issuers, clockSkew, sessionGrace, revoked, credentialTtl, DEFAULT_MAX_TOKEN_LIFETIME);
    }

    /** Identities refused although their tokens verify: by exact subject, or by the {@code kid} that signed them. */
    public record Revoked(Set<String> subjects, Set<String> keyIds) {
        public static final Revoked NONE = new Revoked(Set.of(), Set.of());

        /** Why {@code subject} or {@code keyId} is refused, or null when neither is revoked. */
        public String reason(String subject, String keyId) {
            if (subject != null && subjects.contains(subject)) {
                return "identity revoked: subject \"" + subject + "\" is listed in identity.revoked.subjects";
            }
            if (keyId != null && keyIds.contains(keyId)) {
                return "token revoked: signing key \"" + keyId + "\" is listed in identity.revoked.key_ids";
            }
            return null;
        }
    }
}
