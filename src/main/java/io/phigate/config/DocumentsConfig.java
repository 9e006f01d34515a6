package io.phigate.config;

import java.util.Map;

/**
 * The document stores behind the {@code listen.mongo} listener, by name in the file's order. The front door forwards
 * every session to {@code defaultUpstream}; the names are what the records call the store (the record's database),
 * and room for choosing a store per agent when the session pipeline can (issue 21).
 */
public record DocumentsConfig(Map<String, HostPort> upstreams, String defaultUpstream) {
    public DocumentsConfig {
        upstreams = Map.copyOf(upstreams);
        if (!upstreams.containsKey(defaultUpstream)) {
            throw new IllegalArgumentException("no document store named " + defaultUpstream);
        }
    }

    public HostPort defaultAddress() {
        return upstreams.get(defaultUpstream);
    }
}
