package io.phigate.config;

import io.phigate.identity.IdentityConfig;
import io.phigate.identity.IssuerConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The {@code identity} section: the token issuers the gateway trusts, their keys and algorithms, revocations. */
final class IdentityLoader {
    private static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
    private static final Duration DEFAULT_SESSION_GRACE = Duration.ZERO;

    // Only asymmetric algorithms: with HS* the verification key is a shared secret, so anyone who can verify
    // can also mint tokens, and "none" is no signature at all.
    private static final Set<String> ALLOWED_ALGORITHMS = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES256K", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448");

    static final List<String> IDENTITY_KEYS = List.of("issuers", "clock_skew", "session_grace", "revoked",
            "credential_ttl", "max_token_lifetime");
    private static final List<String> REVOKED_KEYS = List.of("subjects", "key_ids");
    private static final List<String> ISSUER_KEYS = List.of("issuer", "audience", "jwks_file", "jwks_url", "discovery", "algorithms");

    private final Problems problems;
    private final Path baseDir;

    IdentityLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    IdentityConfig identity(Section s) {
        if (s == null) {
            return null;
        }
        List<IssuerConfig> issuers = issuers(s);
        Duration clockSkew = s.duration("clock_skew", DEFAULT_CLOCK_SKEW, false);
        Duration grace = s.duration("session_grace", DEFAULT_SESSION_GRACE, false);
        IdentityConfig.Revoked revoked = IdentityConfig.Revoked.NONE;
        Section r = s.section("revoked", false, REVOKED_KEYS);
        if (r != null) {
            List<String> subjects = r.strings("subjects", false);
            List<String> keyIds = r.strings("key_ids", false);
            revoked = new IdentityConfig.Revoked(subjects == null ? java.util.Set.of() : java.util.Set.copyOf(subjects),
                    keyIds == null ? java.util.Set.of() : java.util.Set.copyOf(keyIds));
        }
        Duration ttl = s.duration("credential_ttl", IdentityConfig.DEFAULT_CREDENTIAL_TTL, true);
        Duration lifetime = s.duration("max_token_lifetime", IdentityConfig.DEFAULT_MAX_TOKEN_LIFETIME, true);
        return new IdentityConfig(issuers, clockSkew, grace, revoked, ttl, lifetime);
    }

    private List<IssuerConfig> issuers(Section identity) {
        YamlNode node = identity.node("issuers");
        if (node == null) {
            identity.missing("issuers");
            return null;
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            identity.problem("issuers", "expected a list of issuers, got " + YamlNode.describe(node));
            return null;
        }
        if (seq.items().isEmpty()) {
            identity.problem("issuers", "at least one issuer is required");
            return null;
        }
        List<IssuerConfig> issuers = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section s = Section.open(item, "identity.issuers[" + i + "]", item.line(), problems, baseDir, ISSUER_KEYS);
            if (s == null) {
                continue;
            }
            IssuerConfig issuer = issuer(s);
            if (issuer.issuer() != null) {
                Integer first = seen.putIfAbsent(issuer.issuer(), s.lineOf("issuer"));
                if (first != null) {
                    s.problem("issuer", "duplicate issuer " + YamlNode.quote(issuer.issuer()) + " (first on line " + first + ")");
                }
            }
            issuers.add(issuer);
        }
        return List.copyOf(issuers);
    }

    private IssuerConfig issuer(Section s) {
        String issuer = s.string("issuer", true, null);
        List<String> audiences = s.strings("audience", true);
        Path jwksFile = s.existingFile("jwks_file");
        URI jwksUrl = s.scalar("jwks_url", false, null, "a URL", Units::httpUrl);
        Boolean discovery = s.bool("discovery", false);
        int sources = (s.has("jwks_file") ? 1 : 0) + (s.has("jwks_url") ? 1 : 0) + (Boolean.TRUE.equals(discovery) ? 1 : 0);
        if (sources == 0) {
            problems.add(s.line, s.path, "one of jwks_file, jwks_url or discovery: true is required (where the issuer's public keys come from)");
        } else if (sources > 1) {
            problems.add(s.line, s.path, "set only one of jwks_file, jwks_url or discovery: true");
        }
        if (Boolean.TRUE.equals(discovery) && issuer != null) {
            // Discovery fetches <issuer>/.well-known/openid-configuration, so the issuer must be a URL.
            try {
                Units.httpUrl(issuer);
            } catch (IllegalArgumentException e) {
                s.problem("discovery", "discovery needs the issuer to be an http(s) URL, got " + YamlNode.quote(issuer));
            }
        }
        List<String> algorithms = algorithms(s);
        return new IssuerConfig(issuer, audiences, jwksFile, jwksUrl, Boolean.TRUE.equals(discovery), algorithms);
    }

    private List<String> algorithms(Section s) {
        if (!s.has("algorithms")) {
            return IssuerConfig.DEFAULT_ALGORITHMS;
        }
        List<String> names = s.strings("algorithms", false);
        if (names == null) {
            return null;
        }
        List<String> kept = new ArrayList<>();
        for (String name : names) {
            if (name.equalsIgnoreCase("none")) {
                s.problem("algorithms", "\"none\" is refused: an unsigned token proves nothing");
            } else if (name.toUpperCase(Locale.ROOT).startsWith("HS")) {
                s.problem("algorithms", YamlNode.quote(name) + " is refused: HMAC keys are shared secrets, so whoever can verify a token can also forge one");
            } else if (!ALLOWED_ALGORITHMS.contains(name)) {
                String hint = Suggest.nearest(name, ALLOWED_ALGORITHMS.stream().sorted().toList());
                s.problem("algorithms", "unknown algorithm " + YamlNode.quote(name)
                        + (hint == null ? "; expected one of " + String.join(", ", ALLOWED_ALGORITHMS.stream().sorted().toList()) : "; did you mean \"" + hint + "\"?"));
            } else if (!kept.contains(name)) {
                kept.add(name);
            }
        }
        return List.copyOf(kept);
    }
}
