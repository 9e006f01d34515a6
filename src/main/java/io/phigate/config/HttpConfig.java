package io.phigate.config;

import io.phigate.policy.Match;
import java.nio.file.Path;
import java.util.List;

/**
 * How the HTTP listener decides who and what it answers ({@code http:} in the gateway config; decision 0027).
 *
 * @param allowedHosts   Host header names answered besides loopback names and the listen address (lower case,
 *                       no port): what a browser or proxy uses to reach the gateway; any other Host is refused,
 *                       which closes DNS rebinding
 * @param adminTokenFile where the gateway writes, at each start, a random admin token readable by its owner only
 *                       (the CLI on the same host reads it); null when off
 * @param admins         identities whose verified bearer tokens may use the admin API (audit search and replay,
 *                       sessions list and kill); each names its issuer
 */
public record HttpConfig(List<String> allowedHosts, Path adminTokenFile, List<Match> admins) {
    public static final String DEFAULT_ADMIN_TOKEN_FILE = "admin.token";

    public HttpConfig {
        allowedHosts = List.copyOf(allowedHosts);
        admins = List.copyOf(admins);
    }

    /** No extra hosts, no bearer admins, the admin token file beside the config ({@code baseDir}). */
    public static HttpConfig defaults(Path baseDir) {
        return new HttpConfig(List.of(), baseDir == null ? null : baseDir.resolve(DEFAULT_ADMIN_TOKEN_FILE), List.of());
    }
}
