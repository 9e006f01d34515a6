package io.phigate.config;

import io.phigate.audit.AuditConfig;
import io.phigate.identity.IdentityConfig;
import java.nio.file.Path;
import java.util.Map;

/**
 * The whole gateway configuration, immutable and validated. {@code upstreams} keeps the file's order.
 * {@code policy} is the policy file (roles, PHI catalog, rules) that later components read; may be null.
 * {@code http} says who may use the HTTP API and which Host names it answers. {@code documents} is null unless
 * the document-store listener ({@code listen.mongo}) is configured, and then never null.
 */
public record GatewayConfig(Listen listen, Map<String, UpstreamConfig> upstreams, IdentityConfig identity,
                            AuditConfig audit, LimitsConfig limits, ClientTlsConfig tls, Path policy, Path baseDir,
                            ConsoleConfig console, HttpConfig http, DocumentsConfig documents) {

    public GatewayConfig {
        http = http == null ? HttpConfig.defaults(baseDir) : http;
        if (listen != null && (listen.mongo() != null) != (documents != null)) {
            throw new IllegalArgumentException("listen.mongo and documents come together");
        }
    }

    /** Without a document store. */
    public GatewayConfig(Listen listen, Map<String, UpstreamConfig> upstreams, IdentityConfig identity,
                         AuditConfig audit, LimitsConfig limits, ClientTlsConfig tls, Path policy, Path baseDir,
                         ConsoleConfig console, HttpConfig http) {
        this(listen, upstreams, identity, audit, limits, tls, policy, baseDir, console, http, null);
    }

    /** With the HTTP listener's defaults ({@link HttpConfig#defaults}). */
    public GatewayConfig(Listen listen, Map<String, UpstreamConfig> upstreams, IdentityConfig identity,
                         AuditConfig audit, LimitsConfig limits, ClientTlsConfig tls, Path policy, Path baseDir,
                         ConsoleConfig console) {
        this(listen, upstreams, identity, audit, limits, tls, policy, baseDir, console, HttpConfig.defaults(baseDir));
    }

    /** Without a web console. */
    public GatewayConfig(Listen listen, Map<String, UpstreamConfig> upstreams, IdentityConfig identity,
                         AuditConfig audit, LimitsConfig limits, ClientTlsConfig tls, Path policy, Path baseDir) {
        this(listen, upstreams, identity, audit, limits, tls, policy, baseDir, null);
    }

    /**
     * Where the gateway listens; {@code http} is null when the HTTP listener is disabled, {@code mongo} when there
     * is no document-store listener.
     */
    public record Listen(HostPort postgres, HostPort http, HostPort mongo) {
        public Listen(HostPort postgres, HostPort http) {
            this(postgres, http, null);
        }
    }
}
