package io.phigate.console;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is signed in to the console and with which roles. A sign-in lives in its HttpOnly, SameSite=Strict cookie,
 * sealed by {@link CookieSeal} (decision 0047): any replica holding the same {@code console.cookie_keys} opens it,
 * before or after a restart, and no one without them can read or forge one. What the cookie cannot carry is its
 * own end before expiry: a sign-out is a durable {@code console_action} record under the sign-in's id
 * ({@link #auditId}), which every replica looks up in the shared audit store ({@link SignOuts}) before it trusts a
 * cookie. Forms carry the sign-in's CSRF token (sealed in the cookie) as well. The same roles apply to the admin API
 * when it is called with a console user's bearer token instead ({@link Console#apiRefusal}).
 *
 * <p>Roles come from {@code console.roles}, evaluated on every request (a role removed from the config takes
 * effect at the next start, cookies issued before included); members of a policy approver group are approvers too.
 * Workload identities (Kubernetes service accounts) never get a console role: the console is for people.
 */
final class ConsoleAuth {
    private static final Logger log = LoggerFactory.getLogger(ConsoleAuth.class);
    static final String COOKIE = "phigate_console";
    /** Browsers keep a cookie of up to 4096 bytes with its name and attributes; a larger sign-in is refused. */
    static final int MAX_COOKIE_CHARS = 3_800;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the cookie holds. {@code attributes} are the claims roles and approver groups match on. */
    record SignIn(String sid, String issuer, String subject, Long tokenExpires, String claimsDigest,
                          Map<String, String> attributes, String csrf, long until, String method) {
        @Override
        public String toString() {
            return "SignIn[" + sid + "]"; // the claims are the person's; logs get the id only
        }
    }

    private final ConsoleConfig config;
    private final Policy policy;
    private final TokenVerifier verifier;
    private final Clock clock;
    private final CookieSeal seal;
    private final SignOuts signOuts;

    ConsoleAuth(ConsoleConfig config, Policy policy, TokenVerifier verifier, Clock clock, CookieSeal seal,
                SignOuts signOuts) {
        this.config = config;
        this.policy = policy;
        this.verifier = verifier;
        this.clock = clock;
        this.seal = seal;
        this.signOuts = signOuts;
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
     * audits it). Throws {@link IllegalArgumentException}, with a message safe to show, when the token's claims
     * are too large for a cookie.
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
        SignIn s = new SignIn(random(16), identity.issuer(), identity.subject(),
                identity.expiresAt() == null ? null : identity.expiresAt().toEpochMilli(), identity.claimsDigest(),
                identity.attributes(), random(24), until.toEpochMilli(), method);
        String cookie;
        try {
            cookie = seal.seal(JSON.writeValueAsBytes(s));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot encode a sign-in", e);
        }
        if (cookie.length() > MAX_COOKIE_CHARS) {
            throw new IllegalArgumentException("the token carries too many claims to keep in a browser cookie ("
                    + cookie.length() + " characters sealed, at most " + MAX_COOKIE_CHARS + ")");
        }
        int maxAge = (int) Math.max(1, Duration.between(now, until).toSeconds());
        setCookie(ctx, COOKIE, cookie, "/", SameSite.STRICT, maxAge);
        return user(s, roles);
    }

    /**
     * Ends the sign-in in this process at once and drops its cookie; the caller makes it durable for every
     * replica with a {@code sign_out} record under {@link #auditId}.
     */
    void signOut(Context ctx, ConsoleUser user) {
        signOuts.add(user.signInId(), user.expiresAt());
        ctx.removeCookie(COOKIE, "/");
    }

    /**
     * The user behind the request's cookie, or null: none, sealed under no configured key, tampered with, expired,
     * signed out (here or on any replica sharing the audit store), or holding no console role any more. When the
     * store cannot say whether it was signed out, null as well: fail closed.
     */
    ConsoleUser user(Context ctx) {
        byte[] plain = seal.open(ctx.cookie(COOKIE));
        if (plain == null) {
            return null;
        }
        SignIn s;
        try {
            s = JSON.readValue(plain, SignIn.class);
        } catch (java.io.IOException e) {
            return null; // sealed by us, so only an older format: sign in again
        }
        Instant now = clock.instant();
        if (s.sid() == null || !now.isBefore(Instant.ofEpochMilli(s.until()))) {
            return null;
        }
        Identity identity = identity(s);
        Set<ConsoleRole> roles = rolesOf(identity);
        if (roles.isEmpty()) {
            return null;
        }
        try {
            if (signOuts.signedOut(s.sid(), Instant.ofEpochMilli(s.until()))) {
                return null;
            }
        } catch (java.sql.SQLException e) {
            log.warn("console sign-in {} refused: the audit store cannot say whether it was signed out: {}",
                    s.sid(), e.getMessage());
            return null;
        }
        return user(s, roles);
    }

    /** The id a sign-in's records carry as their session id, so a sign-out found by it ends it everywhere. */
    static String auditId(ConsoleUser user) {
        return SignOuts.auditId(user.signInId());
    }

    private static ConsoleUser user(SignIn s, Set<ConsoleRole> roles) {
        return new ConsoleUser(identity(s), Set.copyOf(roles), s.csrf(), Instant.ofEpochMilli(s.until()), s.method(),
                s.sid());
    }

    private static Identity identity(SignIn s) {
        return new Identity(s.issuer(), s.subject(), s.tokenExpires() == null ? null
                : Instant.ofEpochMilli(s.tokenExpires()), s.claimsDigest(),
                s.attributes() == null ? Map.of() : Map.copyOf(s.attributes()));
    }

    /** Whether a form's CSRF field belongs to the user (constant-time). */
    static boolean csrfMatches(ConsoleUser user, String presented) {
        return user.csrf() != null && presented != null
                && MessageDigest.isEqual(user.csrf().getBytes(), presented.getBytes());
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
