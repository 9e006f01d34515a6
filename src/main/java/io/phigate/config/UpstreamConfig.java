package io.phigate.config;

import java.util.Set;

/**
 * One database the gateway fronts. {@code name} is what a client puts in its startup {@code database};
 * {@code database} is the real name upstream. {@code startupParameters} are settings, beyond the ones real drivers
 * send, that a session whose statements phigate analyses may give the server at startup (lower case, {@code -}
 * read as {@code _}, as PostgreSQL reads setting names).
 */
public record UpstreamConfig(String name, HostPort address, String database, CredentialsConfig credentials,
                             UpstreamTlsConfig tls, Set<String> startupParameters) {

    public UpstreamConfig {
        startupParameters = startupParameters == null ? Set.of() : Set.copyOf(startupParameters);
    }

    public UpstreamConfig(String name, HostPort address, String database, CredentialsConfig credentials,
                          UpstreamTlsConfig tls) {
        this(name, address, database, credentials, tls, Set.of());
    }

    /** True when each session logs in as a session user of its own, made and dropped by the gateway. */
    public boolean ephemeralCredentials() {
        return credentials != null && credentials.mode() == CredentialsConfig.Mode.EPHEMERAL;
    }
}
