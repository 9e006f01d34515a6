package io.phigate.config;

import io.phigate.mask.SecretRef;
import io.phigate.policy.Match;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The web console ({@code console:} in the gateway config; absent means no console). People sign in either with
 * the configured OIDC issuer (authorization code flow with PKCE) or, when {@code localSignIn}, by pasting a token
 * from one of {@code identity.issuers} (for air-gapped and test setups: {@code phigate token mint}). What they may
 * do is decided by {@code roles}: each console role lists the identities it applies to.
 *
 * @param sessionTtl how long a console sign-in lasts at most (never beyond the token's own expiry)
 * @param cookieKeys the keys that seal sign-in cookies, the first sealing new ones and every one opening (rotation);
 *                   replicas sharing them share sign-ins, which also survive a restart; empty: a key of the process
 *                   alone (decision 0047)
 */
public record ConsoleConfig(boolean localSignIn, Oidc oidc, Map<String, List<Match>> roles, Duration sessionTtl,
                            List<CookieKey> cookieKeys) {

    public static final Duration DEFAULT_SESSION_TTL = Duration.ofHours(8);
    /** The console roles, weakest first. */
    public static final List<String> ROLE_NAMES = List.of("auditor", "approver", "admin");

    public ConsoleConfig {
        cookieKeys = List.copyOf(cookieKeys);
    }

    /** With a key of the process alone: sign-ins end with the process (single-replica and test setups). */
    public ConsoleConfig(boolean localSignIn, Oidc oidc, Map<String, List<Match>> roles, Duration sessionTtl) {
        this(localSignIn, oidc, roles, sessionTtl, List.of());
    }

    /** One cookie key: {@code id} goes into every cookie it seals (never the key), {@code secret} where it is read. */
    public record CookieKey(String id, SecretRef secret) {
    }

    /**
     * Sign-in with an OIDC provider. {@code clientSecret} is null for a public client (PKCE alone);
     * {@code redirectUri} must be the console's {@code /console/oidc/callback} as the browser reaches it.
     */
    public record Oidc(String issuer, String clientId, SecretRef clientSecret, URI redirectUri, List<String> scopes) {
    }
}
