package io.phigate.config;

/**
 * One database the gateway fronts. {@code name} is what a client puts in its startup {@code database};
 * {@code database} is the real name upstream.
 */
public record UpstreamConfig(String name, HostPort address, String database, CredentialsConfig credentials, UpstreamTlsConfig tls) {
}
