package io.phigate.http;

import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.phigate.console.Console;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.policy.Match;
import java.util.List;

/**
 * Who may use the admin API (audit search and replay, sessions list and kill), in every configuration
 * (decision 0027). A request is let through with {@code Authorization: Bearer} holding either the local admin
 * token ({@link AdminToken}) or a token from a configured issuer whose identity is listed in {@code http.admins};
 * with a web console, also a console user's token (any role reads, {@code admin} ends sessions) or, for reads, the
 * console's own sign-in. Anything else gets 401 (no or refused credentials) or 403 (an identity without the right).
 *
 * <p>Runs on Javalin's request threads; holds no per-request state.
 */
final class AdminAccess {
    /** The request attribute naming who was let in, for the log line of what they did. */
    static final String WHO = "phigate.admin";
    private final AdminToken localToken;
    private final TokenVerifier verifier;
    private final List<Match> admins;
    private final Console console;

    /** Any of {@code localToken}, {@code verifier} and {@code console} may be null; then that way in is closed. */
    AdminAccess(AdminToken localToken, TokenVerifier verifier, List<Match> admins, Console console) {
        this.localToken = localToken;
        this.verifier = verifier;
        this.admins = List.copyOf(admins);
        this.console = console;
    }

    /** {@code handler} for reading: audit search and replay, the list of sessions. */
    Handler forReaders(Handler handler) {
        return guard(false, handler);
    }

    /** {@code handler} for changing state: ending sessions. */
    Handler forAdmins(Handler handler) {
        return guard(true, handler);
    }

    private Handler guard(boolean adminOnly, Handler handler) {
        return ctx -> {
            String bearer = bearer(ctx);
            if (bearer == null) {
                if (console != null && console.signedInMayRead(ctx) && !adminOnly) {
                    handler.handle(ctx);
                    return;
                }
                ctx.header("WWW-Authenticate", "Bearer");
                AuditApi.error(ctx, 401, "send Authorization: Bearer <token>: the local admin token"
                        + (localToken == null ? " (off: http.admin_token_file)" : " (phigate writes it to "
                        + localToken.file() + " at start)") + " or the token of an identity in http.admins"
                        + (console == null ? "" : " or of a console user"));
                return;
            }
            if (localToken != null && localToken.matches(bearer)) {
                ctx.attribute(WHO, "the local admin token");
                handler.handle(ctx);
                return;
            }
            if (bearer.startsWith(AdminToken.PREFIX) || verifier == null) {
                ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
                AuditApi.error(ctx, 401, "token refused: not this gateway's admin token (a restart replaces it;"
                        + " read it again)");
                return;
            }
            Identity identity;
            try {
                identity = verifier.verify(bearer);
            } catch (TokenRejectedException e) {
                ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
                AuditApi.error(ctx, 401, "token refused: " + e.getMessage());
                return;
            }
            ctx.attribute(WHO, identity.subject());
            if (admins.stream().anyMatch(m -> m.matches(identity))) {
                handler.handle(ctx);
                return;
            }
            String refusal = console == null ? "this identity is not an admin of the HTTP API (http.admins)"
                    : console.apiRefusal(identity, adminOnly);
            if (refusal != null) {
                AuditApi.error(ctx, 403, refusal);
                return;
            }
            handler.handle(ctx);
        };
    }

    /** The bearer token of the request, or null when it has none. */
    static String bearer(Context ctx) {
        String authorization = ctx.header("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = authorization.substring(7).strip();
        return token.isEmpty() ? null : token;
    }
}
