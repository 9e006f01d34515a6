package io.phigate.http;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditQueries;
import io.phigate.config.HostPort;
import io.phigate.config.HttpConfig;
import io.phigate.console.Console;
import io.phigate.credentials.CredentialExchange;
import io.phigate.identity.TokenVerifier;
import io.phigate.session.SessionRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The gateway's HTTP listener: liveness at {@code /livez} (and its older name {@code /healthz}), readiness at
 * {@code /readyz} ({@link Readiness}; both unauthenticated, for orchestrators, and free of PHI), Prometheus
 * metrics at {@code /metrics} (counts and states only, never statement text, parameters or row values), and the
 * APIs, each authenticated on every address in every configuration (decision 0027):
 * <ul>
 *   <li>the admin API, audit ({@link AuditApi}) and sessions ({@link AccessApi}), by {@link AdminAccess};</li>
 *   <li>the credential exchange, by the agent's own token;</li>
 *   <li>the approvals API ({@link ApprovalsApi}), by the approver's own token;</li>
 *   <li>the web console, when configured, by its sign-in.</li>
 * </ul>
 * Before any of them, {@link BrowserGuard} refuses a foreign Host header and a state-changing API request with a
 * content type a cross-site form could send.
 */
public final class HttpServer implements AutoCloseable {
    private final Javalin app;
    private final String host;
    private final AdminToken adminToken;

    /** Any of {@code audit}, {@code verifier}, {@code exchange}, {@code sessions}, {@code approvals} and
     * {@code console} may be null: the routes that need it are then not served. */
    public HttpServer(HostPort address, HttpConfig http, PrometheusMeterRegistry registry, AuditQueries audit,
                      TokenVerifier verifier, CredentialExchange exchange, SessionRegistry sessions,
                      Approvals approvals, Console console, Readiness readiness) {
        this.host = address.host();
        this.adminToken = http.adminTokenFile() == null ? null : new AdminToken(http.adminTokenFile());
        AdminAccess admin = new AdminAccess(adminToken, verifier, http.admins(), console);
        BrowserGuard guard = new BrowserGuard(address, http.allowedHosts());
        AccessApi access = new AccessApi(verifier, exchange, sessions);
        AuditApi api = audit == null ? null : new AuditApi(audit);
        ApprovalsApi decide = verifier != null && approvals != null ? new ApprovalsApi(verifier, approvals) : null;
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = address.host();
            config.jetty.port = address.port();
            config.routes.before(guard::check);
            config.routes.get("/healthz", ctx -> ctx.result("ok"));
            config.routes.get("/livez", ctx -> ctx.result("ok"));
            config.routes.get("/readyz", ctx -> {
                Readiness.Verdict v = readiness.verdict();
                AuditApi.json(ctx, v.ready() ? 200 : 503, Map.of("status", v.status(), "checks", v.checks()));
            });
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(registry.scrape()));
            if (api != null) {
                config.routes.get("/api/v1/audit/statements", admin.forReaders(api::statements));
                config.routes.get("/api/v1/audit/sessions/{id}", admin.forReaders(api::session));
            }
            if (verifier != null && exchange != null) {
                config.routes.post("/api/v1/credentials", access::issueCredential);
            }
            if (decide != null) {
                config.routes.get("/api/v1/approvals", decide::list);
                config.routes.get("/api/v1/approvals/{id}", decide::show);
                config.routes.post("/api/v1/approvals/{id}/approve", decide::approve);
                config.routes.post("/api/v1/approvals/{id}/deny", decide::deny);
            }
            if (sessions != null) {
                config.routes.get("/api/v1/sessions", admin.forReaders(access::listSessions));
                config.routes.post("/api/v1/sessions/kill", admin.forAdmins(access::killBySubject));
                config.routes.post("/api/v1/sessions/{id}/kill", admin.forAdmins(access::killSession));
            }
            if (console != null) {
                console.routes(config.routes);
            }
        });
    }

    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /** Writes the admin token file, then listens: the CLI can use the API as soon as it answers. */
    public HttpServer start() throws IOException {
        if (adminToken != null) {
            try {
                adminToken.publish();
            } catch (IOException e) {
                throw new IOException("cannot write the admin token file " + adminToken.file() + ": " + e
                        + "; set http.admin_token_file to a writable path, or to off to use bearer admins"
                        + " (http.admins) only", e);
            }
        }
        app.start();
        return this;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(host, app.port());
    }

    @Override
    public void close() {
        app.stop();
        if (adminToken != null) {
            adminToken.close();
        }
    }
}
