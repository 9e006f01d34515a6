package io.phigate.credentials;


import io.phigate.identity.Identity;
import io.phigate.policy.Admission;
import io.phigate.policy.Justifications;
import io.phigate.policy.Policy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One-session credentials for agents that cannot send a JWT as their password. An agent presents its token to
 * {@code POST /api/v1/credentials} and gets a user name and password that open exactly one session within the
 * TTL, as that token's identity and role, with the justification it stated; the session still ends at the token's
 * expiry. Only a SHA-256 of each password is kept, compared in constant time; nothing here is persisted, so a
 * restart voids every unused credential.
 *
 * <p>Called concurrently from HTTP handler threads and connection threads.
 */
public final class CredentialExchange {
    /** Every exchanged user name starts with this, so the handshake knows not to treat the password as a JWT. */
    public static final String USER_PREFIX = "phigate-otc-";
    /** Outstanding credentials at most; issuing beyond it is refused until some are used or expire. */
    static final int MAX_PENDING = 10_000;

    private final Policy policy;
    private final Revocations revoked;
    private final Duration ttl;
    private final Set<String> upstreams;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    /**
     * @param revoked   the configuration's revoked subjects and signing keys, checked again at issue
     * @param ttl       how long an issued credential stays usable (never past the token's own expiry)
     * @param upstreams the upstream names this gateway serves
     */
    public CredentialExchange(Policy policy, Revocations revoked, Duration ttl, Set<String> upstreams, Clock clock) {
        this.policy = policy;
        this.revoked = revoked;
        this.ttl = ttl;
        this.upstreams = Set.copyOf(upstreams);
        this.clock = clock;
    }

    /** Why a subject or signing key is refused, or null when neither is ({@code identity.revoked}). */
    @FunctionalInterface
    public interface Revocations {
        String reason(String subject, String keyId);
    }

    private record Pending(byte[] passwordHash, Identity identity, String keyId, String upstream, String justification,
                           Instant expiresAt) {
    }

    /** What the agent gets back. The password is never printed. */
    public record Issued(String username, String password, Instant expiresAt, String upstream, String role) {
        @Override
        public String toString() {
            return "Issued[username=" + username + ", expiresAt=" + expiresAt + "]";
        }
    }

    /** A credential that was just used: the identity and justification it was bound to. */
    public record Redeemed(Identity identity, String keyId, String justification) {
    }

    /** A refusal with the HTTP status to answer and a message safe to send to the caller. */
    public static final class Refused extends Exception {
        private final int status;

        public Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    public static boolean isExchangeUser(String user) {
        return user != null && user.startsWith(USER_PREFIX);
    }

    /**
     * Issues a credential for a verified token's identity.
     *
     * @param upstream null: any upstream the role may reach (checked again at connect)
     */
    public Issued issue(Identity who, String keyId, String upstream, String justification) throws Refused {
        String revocation = revoked.reason(who.subject(), keyId);
        if (revocation != null) {
            throw new Refused(403, revocation);
        }
        if (upstream != null && !upstreams.contains(upstream)) {
            throw new Refused(400, "upstream \"" + upstream + "\" is not served by this gateway");
        }
        if (justification != null) {
            String problem = Justifications.problem(justification);
            if (problem != null) {
                throw new Refused(400, problem);
            }
            justification = justification.strip();
        }
        Instant now = clock.instant();
        Admission admission = upstream == null ? Admission.decide(policy, who, "*", now)
                : Admission.decide(policy, who, upstream, now);
        if (!admission.admitted() && (upstream != null || Admission.NO_ROLE.equals(admission.sqlState()))) {
            throw new Refused(403, admission.reason());
        }
        purgeExpired(now);
        if (pending.size() >= MAX_PENDING) {
            throw new Refused(429, "too many unused credentials are outstanding; try again later");
        }
        Instant expires = now.plus(ttl);
        if (who.expiresAt() != null && who.expiresAt().isBefore(expires)) {
            expires = who.expiresAt();
        }
        byte[] name = new byte[12];
        random.nextBytes(name);
        String username = USER_PREFIX + HexFormat.of().formatHex(name);
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        pending.put(username, new Pending(sha256(password), who, keyId, upstream, justification, expires));
        return new Issued(username, password, expires, upstream,
                admission.role() == null ? null : admission.role().name());
    }

    /**
     * Uses a credential: succeeds once, for its upstream (if bound), before its expiry. A wrong password leaves
     * the credential usable, so a guess by someone who saw only the user name does not burn it.
     */
    public Redeemed redeem(String username, String password, String upstream) throws Refused {
        Pending p = pending.get(username);
        Instant now = clock.instant();
        if (p == null) {
            throw new Refused(401, "one-time credential rejected: unknown or already used");
        }
        if (!now.isBefore(p.expiresAt)) {
            pending.remove(username, p);
            throw new Refused(401, "one-time credential rejected: it expired at " + p.expiresAt);
        }
        if (!MessageDigest.isEqual(p.passwordHash, sha256(password))) {
            throw new Refused(401, "one-time credential rejected: wrong password");
        }
        if (p.upstream != null && !p.upstream.equals(upstream)) {
            throw new Refused(403, "one-time credential rejected: it was issued for upstream \"" + p.upstream + "\"");
        }
        if (!pending.remove(username, p)) {
            throw new Refused(401, "one-time credential rejected: unknown or already used");
        }
        return new Redeemed(p.identity, p.keyId, p.justification);
    }

    /** Credentials issued and not yet used or expired. */
    public int outstanding() {
        purgeExpired(clock.instant());
        return pending.size();
    }

    private void purgeExpired(Instant now) {
        pending.values().removeIf(p -> !now.isBefore(p.expiresAt));
    }

    public Duration ttl() {
        return ttl;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
