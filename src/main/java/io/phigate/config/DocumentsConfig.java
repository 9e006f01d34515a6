package io.phigate.config;

import io.phigate.mask.DocumentCatalog;
import java.util.Map;

/**
 * The document stores behind the {@code listen.mongo} listener, by name in the file's order. The front door forwards
 * every session to {@code defaultUpstream}; the names are what the records call the store (the record's database),
 * and room for choosing a store per agent when the session pipeline can (issue 21). {@code catalogs}: per store, the
 * PHI its collections declare (decision 0051).
 */
public record DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream,
                              Map<String, DocumentCatalog> catalogs) {
    public DocumentsConfig {
        upstreams = Map.copyOf(upstreams);
        catalogs = Map.copyOf(catalogs);
        if (!upstreams.containsKey(defaultUpstream)) {
            throw new IllegalArgumentException("no document store named " + defaultUpstream);
        }
    }

    /** Stores without declared PHI. */
    public DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream) {
        this(upstreams, defaultUpstream, Map.of());
    }

    /** The PHI declared for the default store ({@code collections}); empty when none is. */
    public DocumentCatalog defaultCatalog() {
        return catalogs.getOrDefault(defaultUpstream, DocumentCatalog.EMPTY);
    }

    public HostPort defaultAddress() {
        return upstreams.get(defaultUpstream);
    }
}
