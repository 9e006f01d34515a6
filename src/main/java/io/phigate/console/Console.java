package io.phigate.console;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.SameSite;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditStore;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditConfig;
import io.phigate.config.ConsoleConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.policy.Policy;
import io.phigate.session.SessionRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console: server-rendered pages under {@code /console} for security and compliance staff (approvals,
 * live sessions, session replay, audit search and export, evidence status, an overview). Every page but sign-in
 * and the two static assets needs a signed-in user ({@link ConsoleAuth}); what a user may change is checked here,
 * on the server, whatever the page showed. Pages hold PHI (statements, parameters, recorded rows), so responses are
 * never cached and carry a strict content security policy (no third-party origin, no inline script).
 *
 * <p>Runs on Javalin's request threads (virtual threads); holds no per-request state.
 */
public final class Console {
    private static final Logger log = LoggerFactory.getLogger(Console.class);
    static final String PRE_SIGN_IN_COOKIE = "phigate_console_pre";
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
            + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /** A page handler that runs only for a signed-in user holding the route's role. */
    @FunctionalInterface
    interface Page {
        void handle(Context ctx, ConsoleUser user) throws Exception;
    }

    /** What the console reads and acts on; any of the optional parts may be null (the page says it is off). */
    public record Parts(GatewayConfig gateway, Policy policy, TokenVerifier verifier, AuditQueries queries,
                        AuditSink audit, Supplier<AuditStore.Stats> auditStats, SessionRegistry sessions,
                        Approvals approvals, Clock clock) {
        ConsoleConfig config() {
            return gateway.console();
        }

        AuditConfig auditConfig() {
            return gateway.audit();
        }

        Duration clockSkew() {
            return gateway.identity().clockSkew() == null ? Duration.ofSeconds(60) : gateway.identity().clockSkew();
        }
    }

    private final Parts parts;
    private final ConsoleAuth auth;
    private final OidcSignIn oidc;
    private final ApprovalPages approvalPages;
    private final SessionPages sessionPages;
    private final SearchPage searchPage;
    private final EvidencePage evidencePage;
    private final OverviewPage overviewPage;

    /** Throws when a configured cookie key cannot be read or is too short (the gateway does not start). */
    public Console(Parts parts) throws IOException {
        this.parts = parts;
        CookieSeal seal;
        if (parts.config().cookieKeys().isEmpty()) {
            log.info("console sign-ins last as long as this process: no console.cookie_keys are configured");
            seal = CookieSeal.ephemeral();
        } else {
            seal = CookieSeal.of(parts.config().cookieKeys());
        }
        this.auth = new ConsoleAuth(parts.config(), parts.policy(), parts.verifier(), parts.clock(), seal,
                new SignOuts(parts.queries(), parts.clock()));
        this.oidc = parts.config().oidc() == null ? null
                : new OidcSignIn(parts.config().oidc(), parts.clockSkew(), parts.clock(), seal);
        this.approvalPages = new ApprovalPages(parts.approvals());
        this.sessionPages = new SessionPages(this, parts.sessions(), parts.queries(), parts.auditConfig());
        this.searchPage = new SearchPage(this, parts.queries(), parts.clock());
        this.evidencePage = new EvidencePage(this, parts.auditConfig(), parts.auditStats(), parts.clock(), parts.queries());
        this.overviewPage = new OverviewPage(parts.queries(), parts.sessions(), parts.approvals(), parts.clock());
    }

    /** Adds the console's routes. */
    public void routes(RoutesConfig routes) {
        routes.get("/console/assets/console.css", ctx -> asset(ctx, "console.css", "text/css; charset=utf-8"));
        routes.get("/console/assets/console.js", ctx -> asset(ctx, "console.js", "text/javascript; charset=utf-8"));
        routes.get("/console/sign-in", this::signInPage);
        routes.post("/console/sign-in", this::signInWithToken);
        routes.get("/console/oidc/start", this::oidcStart);
        routes.get("/console/oidc/callback", this::oidcCallback);
        routes.post("/console/sign-out", page(null, this::signOut));
        routes.get("/console", page(null, overviewPage::render));
        routes.get("/console/approvals", page(null, approvalPages::list));
        routes.get("/console/approvals/pending.html", page(null, approvalPages::pendingFragment));
        routes.get("/console/approvals/{id}", page(null, approvalPages::show));
        // The held statement's NOTICE names ID/approve after the console's base: in a browser, that is the page
        // where the request is reviewed and decided (deciding takes the page's form, never a GET).
        routes.get("/console/approvals/{id}/approve", page(null, (ctx, user) -> ctx.redirect("/console/approvals/"
                + java.net.URLEncoder.encode(ctx.pathParam("id"), java.nio.charset.StandardCharsets.UTF_8),
                io.javalin.http.HttpStatus.SEE_OTHER)));
        routes.post("/console/approvals/{id}/decide", page(ConsoleRole.APPROVER, approvalPages::decide));
        routes.get("/console/sessions", page(null, sessionPages::live));
        routes.get("/console/sessions/live.html", page(null, sessionPages::liveFragment));
        routes.post("/console/sessions/{id}/kill", page(ConsoleRole.ADMIN, sessionPages::kill));
        routes.get("/console/sessions/{id}", page(null, sessionPages::replay));
        routes.get("/console/records/{seq}/rows", page(null, sessionPages::rows));
        routes.get("/console/records/{seq}/proof", page(null, sessionPages::proof));
        routes.get("/console/audit", page(null, searchPage::render));
        routes.get("/console/audit/export", page(null, searchPage::export));
        routes.get("/console/evidence", page(null, evidencePage::render));
        routes.get("/console/evidence/verify", page(null, evidencePage::progress));
        routes.post("/console/evidence/verify", page(null, evidencePage::start));
        routes.get("/console/config", page(ConsoleRole.ADMIN, this::configPage));
    }

    /** Wraps a page: security headers, sign-in, the role, and the CSRF token of every POST. */
    Handler page(ConsoleRole needed, Page page) {
        return ctx -> {
            headers(ctx);
            ConsoleUser user = auth.user(ctx);
            if (user == null) {
                if ("GET".equals(ctx.method().name())) {
                    ctx.redirect("/console/sign-in?next=" + java.net.URLEncoder.encode(ctx.path()
                            + (ctx.queryString() == null ? "" : "?" + ctx.queryString()),
                            java.nio.charset.StandardCharsets.UTF_8), io.javalin.http.HttpStatus.SEE_OTHER);
                } else {
                    ctx.status(401).html(Html.page("Sign in", null, null,
                            Html.notice("error", "Your console sign-in has ended. Sign in again.")
                                    + "<p><a href=\"/console/sign-in\">Sign in</a></p>"));
                }
                return;
            }
            if ("POST".equals(ctx.method().name()) && !ConsoleAuth.csrfMatches(user, ctx.formParam("csrf"))) {
                ctx.status(403).html(Html.page("Not allowed", user, null, Html.notice("error",
                        "This form was not issued to your sign-in (missing or stale CSRF token). Reload the page.")));
                return;
            }
            if (needed != null && !user.has(needed)) {
                ctx.status(403).html(Html.page("Not allowed", user, null, Html.notice("error",
                        "This needs the console role \"" + needed.configName() + "\"; you hold: "
                                + user.roleNames() + ".")));
                return;
            }
            page.handle(ctx, user);
        };
    }

    /**
     * Why {@code identity} may not use the admin API by its console roles, or null when it may: any console role
     * reads; ending sessions ({@code adminOnly}) needs {@code admin}. Checked here, on the server, so an auditor
     * cannot end sessions through the API any more than through the page.
     */
    public String apiRefusal(Identity identity, boolean adminOnly) {
        ConsoleUser user = new ConsoleUser(identity, auth.rolesOf(identity), null, identity.expiresAt(), "bearer",
                null);
        if (user.roles().isEmpty()) {
            return "this identity holds no console role";
        }
        if (adminOnly && !user.has(ConsoleRole.ADMIN)) {
            return "this needs the console role admin; the token holds: " + user.roleNames();
        }
        return null;
    }

    /**
     * Whether the request's console sign-in (its cookie) may read the admin API. Reads only: a cookie rides along
     * with any cross-site request, so only a bearer token proves intent for a write.
     */
    public boolean signedInMayRead(Context ctx) {
        return "GET".equals(ctx.method().name()) && auth.user(ctx) != null;
    }

    static void headers(Context ctx) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("Cache-Control", "no-store");
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("X-Frame-Options", "DENY");
    }

    private void asset(Context ctx, String name, String type) throws IOException {
        try (InputStream in = Console.class.getResourceAsStream("/console/" + name)) {
            if (in == null) {
                ctx.status(404);
                return;
            }
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.header("Cache-Control", "max-age=300");
            ctx.contentType(type).result(in.readAllBytes());
        }
    }

    private void signInPage(Context ctx) {
        headers(ctx);
        if (auth.user(ctx) != null) {
            ctx.redirect(next(ctx.queryParam("next")), io.javalin.http.HttpStatus.SEE_OTHER);
            return;
        }
        ctx.html(signInHtml(ctx, null));
    }

    private String signInHtml(Context ctx, String problem) {
        String pre = ConsoleAuth.random(24);
        ConsoleAuth.setCookie(ctx, PRE_SIGN_IN_COOKIE, pre, "/console", SameSite.STRICT, 1800);
        String next = next(ctx.queryParam("next") != null ? ctx.queryParam("next") : ctx.formParam("next"));
        StringBuilder b = new StringBuilder();
        if (problem != null) {
            b.append(Html.notice("error", problem));
        }
        b.append("<p>The console shows audit records, which hold protected health information. Sign in with your"
                + " own identity; what you may do depends on your console role (auditor, approver, admin).</p>");
        if (oidc != null) {
            b.append("<p><a class=\"button\" id=\"oidc-sign-in\" href=\"/console/oidc/start?next=")
                    .append(Html.esc(java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8)))
                    .append("\">Sign in with ").append(Html.esc(oidc.issuer())).append("</a></p>");
        }
        if (parts.config().localSignIn()) {
            b.append("<form method=\"post\" action=\"/console/sign-in\" class=\"stack\">")
                    .append("<input type=\"hidden\" name=\"pre\" value=\"").append(pre).append("\">")
                    .append("<input type=\"hidden\" name=\"next\" value=\"").append(Html.esc(next)).append("\">")
                    .append("<label for=\"token\">Token (local sign-in: <code>bin/phigate token mint</code>)</label>")
                    .append("<textarea id=\"token\" name=\"token\" rows=\"4\" required autocomplete=\"off\"")
                    .append(" spellcheck=\"false\"></textarea>")
                    .append("<button type=\"submit\" id=\"sign-in\">Sign in</button></form>");
        }
        return Html.page("Sign in", null, null, b.toString());
    }

    private void signInWithToken(Context ctx) {
        headers(ctx);
        if (!parts.config().localSignIn()) {
            ctx.status(404).html(signInHtml(ctx, "Local sign-in is off; use the identity provider."));
            return;
        }
        String pre = ctx.cookie(PRE_SIGN_IN_COOKIE);
        if (pre == null || !pre.equals(ctx.formParam("pre"))) {
            ctx.status(403).html(signInHtml(ctx, "The sign-in form expired; try again."));
            return;
        }
        Identity identity;
        try {
            identity = auth.verify(ctx.formParam("token"));
        } catch (TokenRejectedException e) {
            record(ctx, null, "sign_in", "refused", "local: " + e.getMessage());
            ctx.status(401).html(signInHtml(ctx, "Token refused: " + e.getMessage()));
            return;
        }
        finishSignIn(ctx, identity, "local", ctx.formParam("next"));
    }

    private void oidcStart(Context ctx) {
        headers(ctx);
        if (oidc == null) {
            ctx.status(404).html(signInHtml(ctx, "No identity provider is configured (console.oidc)."));
            return;
        }
        try {
            OidcSignIn.Started started = oidc.start();
            // Lax: they must survive the provider's top-level redirect back.
            ConsoleAuth.setCookie(ctx, "phigate_console_next", next(ctx.queryParam("next")), "/console", SameSite.LAX,
                    (int) OidcSignIn.ATTEMPT_TTL.toSeconds());
            ConsoleAuth.setCookie(ctx, OidcSignIn.ATTEMPT_COOKIE, started.attemptCookie(), OidcSignIn.ATTEMPT_PATH,
                    SameSite.LAX, (int) OidcSignIn.ATTEMPT_TTL.toSeconds());
            ctx.redirect(started.redirect().toString(), io.javalin.http.HttpStatus.FOUND);
        } catch (IOException e) {
            log.warn("console sign-in: identity provider unavailable: {}", e.getMessage());
            ctx.status(502).html(signInHtml(ctx, "The identity provider cannot be reached: " + e.getMessage()));
        }
    }

    private void oidcCallback(Context ctx) {
        headers(ctx);
        if (oidc == null) {
            ctx.status(404).html(signInHtml(ctx, "No identity provider is configured (console.oidc)."));
            return;
        }
        if (ctx.queryParam("error") != null) {
            record(ctx, null, "sign_in", "refused", "oidc: provider error " + ctx.queryParam("error"));
            ctx.status(401).html(signInHtml(ctx, "The identity provider refused the sign-in: "
                    + ctx.queryParam("error")));
            return;
        }
        Identity identity;
        try {
            String attempt = ctx.cookie(OidcSignIn.ATTEMPT_COOKIE);
            ctx.removeCookie(OidcSignIn.ATTEMPT_COOKIE, OidcSignIn.ATTEMPT_PATH); // one callback per attempt
            identity = oidc.finish(attempt, ctx.queryParam("state"), ctx.queryParam("code"));
        } catch (TokenRejectedException | IOException e) {
            record(ctx, null, "sign_in", "refused", "oidc: " + e.getMessage());
            ctx.status(401).html(signInHtml(ctx, "Sign-in failed: " + e.getMessage()));
            return;
        }
        finishSignIn(ctx, identity, "oidc", ctx.cookie("phigate_console_next"));
    }

    /**
     * Ends the sign-in here at once, then for every replica by a durable record. When the store cannot take it,
     * the person is told that other replicas still accept the cookie until it expires.
     */
    private void signOut(Context ctx, ConsoleUser user) {
        auth.signOut(ctx, user);
        try {
            record(ctx, user.identity(), "sign_out", "ok", ConsoleAuth.auditId(user), null, true);
        } catch (AuditUnavailableException e) {
            log.warn("console sign-out by {} not recorded: {}", user.identity().subject(), e.getMessage());
            ctx.status(503).html(Html.page("Signed out here only", null, null, Html.notice("error",
                    "You are signed out of this gateway, but the audit store could not record it, so other replicas"
                            + " accept this sign-in until " + user.expiresAt() + ". Close the browser to end it.")));
            return;
        }
        ctx.redirect("/console/sign-in", io.javalin.http.HttpStatus.SEE_OTHER);
    }

    private void finishSignIn(Context ctx, Identity identity, String method, String next) {
        ConsoleUser user;
        try {
            user = auth.signIn(ctx, identity, method);
        } catch (IllegalArgumentException e) {
            record(ctx, identity, "sign_in", "refused", method + ": " + e.getMessage());
            ctx.status(400).html(signInHtml(ctx, "Sign-in refused: " + e.getMessage()));
            return;
        }
        if (user == null) {
            record(ctx, identity, "sign_in", "refused", method + ": no console role");
            ctx.status(403).html(signInHtml(ctx, "Signed in as " + identity.subject()
                    + ", but that identity holds no console role (console.roles)"
                    + (Approvals.isHuman(identity) ? "." : "; workload identities never do.")));
            return;
        }
        try {
            // Under the sign-in's id, as its sign-out will be: the two read as one console session.
            record(ctx, identity, "sign_in", "ok", ConsoleAuth.auditId(user), method + ": " + user.roleNames(), false);
        } catch (AuditUnavailableException e) {
            log.warn("console action not recorded: {}", e.getMessage());
        }
        log.info("console sign-in by {} ({}, roles {})", identity.subject(), method, user.roleNames());
        ctx.removeCookie(PRE_SIGN_IN_COOKIE, "/console");
        ctx.redirect(next(next), io.javalin.http.HttpStatus.SEE_OTHER);
    }

    /** Only a path inside the console: never an open redirect to another site. */
    static String next(String next) {
        if (next == null || !next.startsWith("/console") || next.startsWith("//") || next.contains("\\")
                || next.startsWith("/console/sign-in") || next.startsWith("/console/oidc")) {
            return "/console";
        }
        return next;
    }

    /**
     * Writes a console action to the audit store. With {@code durable}, waits until it is durable and throws when
     * the store cannot take it (the action must then not happen); otherwise queues it and moves on.
     */
    void record(Context ctx, Identity who, String action, String outcome, String sessionId, String target,
                boolean durable) throws AuditUnavailableException {
        AuditEvent e = new AuditEvent.ConsoleAction(parts.clock().instant(), ctx.ip(),
                who == null ? null : who.issuer(), who == null ? null : who.subject(), action, outcome, sessionId,
                target);
        if (durable) {
            parts.audit().appendDurably(List.of(e));
        } else {
            parts.audit().append(List.of(e));
        }
    }

    private void record(Context ctx, Identity who, String action, String outcome, String target) {
        try {
            record(ctx, who, action, outcome, null, target, false);
        } catch (AuditUnavailableException e) {
            log.warn("console action not recorded: {}", e.getMessage());
        }
    }

    private void configPage(Context ctx, ConsoleUser user) {
        ctx.html(Html.page("Configuration", user, "/console/config", ConfigView.render(parts)));
    }

    ConsoleAuth auth() {
        return auth;
    }
}
