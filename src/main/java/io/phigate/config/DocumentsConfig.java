package io.phigate.config;

import io.phigate.mask.DocumentCatalog;
import java.util.Map;

/**
 * The document stores behind the {@code listen.mongo} listener, by name in the file's order. The front door forwards
 * every session to {@code defaultUpstream}; the names are what the records call the store (the record's database),
 * and room for choosing a store per agent when the session pipeline can (issue 21). {@code catalogs}: per store, the
 * PHI its collections declare (decision 0051). {@code tls}: per store, TLS toward it (absent: none, as for a
 * PostgreSQL upstream; decision 0052).
 */
public record DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream,
                              Map<String, DocumentCatalog> catalogs, Map<String, UpstreamTlsConfig> tls) {
    public DocumentsConfig {
        upstreams = Map.copyOf(upstreams);
        catalogs = Map.copyOf(catalogs);
        tls = Map.copyOf(tls);
        if (!upstreams.containsKey(defaultUpstream)) {
            throw new IllegalArgumentException("no document store named " + defaultUpstream);
        }
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

    public HostPort defaultAddress() {
        return upstreams.get(defaultUpstream);
    }
}
