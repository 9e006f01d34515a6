package io.phigate.config;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.SecretRef;
import java.util.Map;

/**
 * The document stores behind the {@code listen.mongo} listener, by name in the file's order. The front door forwards
 * every session to {@code defaultUpstream}; the names are what the records call the store (the record's database),
 * and room for choosing a store per agent when the session pipeline can (issue 21). {@code catalogs}: per store, the
 * PHI its collections declare (decision 0051). {@code tls}: per store, TLS toward it (absent: none, as for a
 * PostgreSQL upstream; decision 0052). {@code credentials}: per store, the gateway's own login to it (absent: the
 * connection is not authenticated; decision 0052).
 */
public record DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream,
                              Map<String, DocumentCatalog> catalogs, Map<String, UpstreamTlsConfig> tls,
                              Map<String, Credentials> credentials) {
    /** The source of a user with no {@code source} of its own, as in MongoDB's connection strings. */
    public static final String DEFAULT_SOURCE = "admin";

    /**
     * The gateway's static login to a store, by SCRAM-SHA-256: {@code source} is the database the user is defined in
     * (MongoDB's authSource). The password is read at each connection, as a PostgreSQL upstream's is.
     */
    public record Credentials(String user, SecretRef password, String source) {
    }

    public DocumentsConfig {
        upstreams = Map.copyOf(upstreams);
        catalogs = Map.copyOf(catalogs);
        tls = Map.copyOf(tls);
        credentials = Map.copyOf(credentials);
        if (!upstreams.containsKey(defaultUpstream)) {
            throw new IllegalArgumentException("no document store named " + defaultUpstream);
        }
    }

    /** Stores the gateway does not log in to. */
    public DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream,
                           Map<String, DocumentCatalog> catalogs, Map<String, UpstreamTlsConfig> tls) {
        this(upstreams, defaultUpstream, catalogs, tls, Map.of());
    }

    /** Stores reached without TLS. */
    public DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream,
                           Map<String, DocumentCatalog> catalogs) {
        this(upstreams, defaultUpstream, catalogs, Map.of());
    }

    /** Stores without declared PHI. */
    public DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream) {
        this(upstreams, defaultUpstream, Map.of());
    }

    /** The PHI declared for the default store ({@code collections}); empty when none is. */
    public DocumentCatalog defaultCatalog() {
        return catalogs.getOrDefault(defaultUpstream, DocumentCatalog.EMPTY);
    }

    /** TLS toward the default store. */
    public UpstreamTlsConfig defaultTls() {
        return tls.getOrDefault(defaultUpstream, UpstreamTlsConfig.DISABLED);
    }

    /** The gateway's login to the default store; null when it has none. */
    public Credentials defaultCredentials() {
        return credentials.get(defaultUpstream);
    }

    public HostPort defaultAddress() {
        return upstreams.get(defaultUpstream);
    }
}
