package io.phigate.console;

import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import io.phigate.approval.Approvals;
import io.phigate.config.ConsoleConfig;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is signed in to the console and with which roles. A sign-in is a random id in an HttpOnly, SameSite=Strict
 * cookie mapped to a {@link ConsoleUser} held in memory (a restart signs everyone out); forms carry the user's CSRF
 * token as well. The same roles apply to the admin API
 * when it is called with a console user's bearer token instead ({@link Console#apiRefusal}).
 *
 * <p>Roles come from {@code console.roles}; members of a policy approver group are approvers too. Workload
 * identities (Kubernetes service accounts) never get a console role: the console is for people.
 */
final class ConsoleAuth {
    static final String COOKIE = "phigate_console";
    /** Bounds the memory sign-ins can take; past it, expired ones go first, then arbitrary ones (they sign in again). */
    static final int MAX_SIGN_INS = 10_000;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ConsoleConfig config;
    private final Policy policy;
    private final TokenVerifier verifier;
    private final Clock clock;
    private final Map<String, ConsoleUser> signedIn = new ConcurrentHashMap<>();

    ConsoleAuth(ConsoleConfig config, Policy policy, TokenVerifier verifier, Clock clock) {
        this.config = config;
        this.policy = policy;
        this.verifier = verifier;
        this.clock = clock;
    }

    /** The console roles of {@code identity}; empty when it may not use the console. */
    Set<ConsoleRole> rolesOf(Identity identity) {
        Set<ConsoleRole> roles = EnumSet.noneOf(ConsoleRole.class);
        if (!Approvals.isHuman(identity)) {
            return roles;
        }
        for (Map.Entry<String, List<Match>> e : config.roles().entrySet()) {
            for (Match m : e.getValue()) {
                if (m.matches(identity)) {
                    roles.add(ConsoleRole.of(e.getKey()));
                }
            }
        }
        for (Policy.ApproverGroup group : policy.approvers().values()) {
            if (group.match().matches(identity)) {
                roles.add(ConsoleRole.APPROVER);
            }
        }
        return roles;
    }

    /** Verifies a pasted token (local sign-in); throws with a message safe to show. */
    Identity verify(String token) throws TokenRejectedException {
        return verifier.verify(token == null ? null : token.strip());
    }

    /**
     * Signs {@code identity} in and sets the cookie; null when it holds no console role (the caller says so and
     * audits it).
     */
    ConsoleUser signIn(Context ctx, Identity identity, String method) {
        Set<ConsoleRole> roles = rolesOf(identity);
        if (roles.isEmpty()) {
            return null;
        }
        Instant now = clock.instant();
        Instant until = now.plus(config.sessionTtl());
        if (identity.expiresAt() != null && identity.expiresAt().isBefore(until)) {
            until = identity.expiresAt();
        }
        prune(now);
        String id = random(32);
        ConsoleUser user = new ConsoleUser(identity, Set.copyOf(roles), random(24), until, method);
        signedIn.put(id, user);
        setCookie(ctx, COOKIE, id, "/", SameSite.STRICT,
                (int) Math.max(1, java.time.Duration.between(now, until).toSeconds()));
        return user;
    }

    void signOut(Context ctx) {
        String id = ctx.cookie(COOKIE);
        if (id != null) {
            signedIn.remove(id);
        }
        ctx.removeCookie(COOKIE, "/");
    }

    /** The user behind the request's cookie, or null (none, unknown, expired). */
    ConsoleUser user(Context ctx) {
        String id = ctx.cookie(COOKIE);
        if (id == null) {
            return null;
        }
        ConsoleUser user = signedIn.get(id);
        if (user == null) {
            return null;
        }
        if (!clock.instant().isBefore(user.expiresAt())) {
            signedIn.remove(id);
            return null;
        }
        return user;
    }

    /** Whether a form's CSRF field belongs to the user (constant-time). */
    static boolean csrfMatches(ConsoleUser user, String presented) {
        return user.csrf() != null && presented != null
                && MessageDigest.isEqual(user.csrf().getBytes(), presented.getBytes());
    }

    int signedInCount() {
        return signedIn.size();
    }

    private void prune(Instant now) {
        signedIn.values().removeIf(u -> !now.isBefore(u.expiresAt()));
        if (signedIn.size() >= MAX_SIGN_INS) {
            Iterator<String> it = signedIn.keySet().iterator();
            while (signedIn.size() >= MAX_SIGN_INS && it.hasNext()) {
                it.next();
                it.remove();
            }
        }
    }

    /** Sets an HttpOnly cookie, Secure when the request came over TLS. */
    static void setCookie(Context ctx, String name, String value, String path, SameSite sameSite, int maxAgeSeconds) {
        Cookie cookie = new Cookie(name, value);
        cookie.setPath(path);
        cookie.setHttpOnly(true);
        cookie.setSameSite(sameSite);
        cookie.setSecure(secure(ctx));
        cookie.setMaxAge(maxAgeSeconds);
        ctx.cookie(cookie);
    }

    static boolean secure(Context ctx) {
        return "https".equalsIgnoreCase(ctx.scheme())
                || "https".equalsIgnoreCase(ctx.header("X-Forwarded-Proto"));
    }

    static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
