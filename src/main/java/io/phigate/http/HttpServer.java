package io.phigate.http;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditQueries;
import io.phigate.config.HostPort;
import io.phigate.console.Console;
import io.phigate.credentials.CredentialExchange;
import io.phigate.identity.TokenVerifier;
import io.phigate.session.SessionRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP listener: liveness at {@code /healthz}, Prometheus metrics at {@code /metrics} and, on a
 * loopback listener only, the audit API ({@link AuditApi}). Metrics carry counts and states only, never statement
 * text, parameters or row values. The approvals API ({@link ApprovalsApi}) is here too; the web console arrives
 * in its own issue.
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

    private final Javalin app;
    private final String host;
    private final boolean auditApi;

    public HttpServer(HostPort address, PrometheusMeterRegistry registry) {
        this(address, registry, null);
    }

    /**
     * {@code audit} may be null. The audit API returns PHI and has no authentication until issue 7, so it is
     * served only when every address the configured host resolves to is loopback: then only local users reach it.
     */
    public HttpServer(HostPort address, PrometheusMeterRegistry registry, AuditQueries audit) {
        this(address, registry, audit, null, null, null);
    }

    /**
     * With the access API as well: the credential exchange (any address: it authenticates by the agent's token),
     * and the sessions API (loopback only: it has no authentication of its own yet). Any of the three may be null.
     */
    public HttpServer(HostPort address, PrometheusMeterRegistry registry, AuditQueries audit, TokenVerifier verifier,
                      CredentialExchange exchange, SessionRegistry sessions) {
        this(address, registry, audit, verifier, exchange, sessions, null);
    }

    /**
     * With the approvals API as well (any address: every call is authenticated by the approver's own token and
     * shows only the requests of its groups). {@code approvals} may be null.
     */
    public HttpServer(HostPort address, PrometheusMeterRegistry registry, AuditQueries audit, TokenVerifier verifier,
                      CredentialExchange exchange, SessionRegistry sessions, Approvals approvals) {
        this(address, registry, audit, verifier, exchange, sessions, approvals, null);
    }

    /**
     * With the web console as well ({@code console} may be null). With a console, the audit and sessions APIs
     * need a console user's bearer token (sessions kill: an admin's), and so are served on any address; without
     * one they stay unauthenticated and loopback-only as before.
     */
    public HttpServer(HostPort address, PrometheusMeterRegistry registry, AuditQueries audit, TokenVerifier verifier,
                      CredentialExchange exchange, SessionRegistry sessions, Approvals approvals, Console console) {
        this.host = address.host();
        boolean loopback = isLoopback(address.host());
        boolean guarded = console != null;
        this.auditApi = audit != null && (loopback || guarded);
        AccessApi access = new AccessApi(verifier, exchange, sessions);
        if (audit != null && !auditApi) {
            log.info("audit API not served on {}: it is served on loopback only until the HTTP API has"
                    + " authentication", address);
        }
        AuditApi api = auditApi ? new AuditApi(audit) : null;
        ApprovalsApi decide = verifier != null && approvals != null ? new ApprovalsApi(verifier, approvals) : null;
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = address.host();
            config.jetty.port = address.port();
            config.routes.get("/healthz", ctx -> ctx.result("ok"));
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(registry.scrape()));
            if (api != null) {
                config.routes.get("/api/v1/audit/statements", guarded ? console.forReaders(api::statements)
                        : api::statements);
                config.routes.get("/api/v1/audit/sessions/{id}", guarded ? console.forReaders(api::session)
                        : api::session);
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
            if (sessions != null && guarded) {
                config.routes.get("/api/v1/sessions", console.forReaders(access::listSessions));
                config.routes.post("/api/v1/sessions/kill", console.forAdmins(access::killBySubject));
                config.routes.post("/api/v1/sessions/{id}/kill", console.forAdmins(access::killSession));
            } else if (sessions != null && loopback) {
                config.routes.get("/api/v1/sessions", access::listSessions);
                config.routes.post("/api/v1/sessions/kill", access::killBySubject);
                config.routes.post("/api/v1/sessions/{id}/kill", access::killSession);
            }
            if (console != null) {
                console.routes(config.routes);
            }
        });
    }

    /**
     * True only when the host names loopback addresses and nothing else. An empty host or a wildcard address
     * means every interface; a name that does not resolve is not trusted either.
     */
    static boolean isLoopback(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            if (all.length == 0) {
                return false;
            }
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    public HttpServer start() {
        app.start();
        return this;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(host, app.port());
    }

    /** Whether {@code /api/v1/audit/...} is served. */
    public boolean servesAuditApi() {
        return auditApi;
    }

    @Override
    public void close() {
        app.stop();
    }
}
