package io.phigate.config;

import java.nio.file.Path;

/**
 * TLS toward the database. REQUIRE encrypts; with a {@code caFile} it also checks the certificate chain (libpq's
 * verify-ca), without one it checks nothing. VERIFY_FULL checks the chain against {@code caFile} (the loader
 * requires one; built in code without one, the JDK's CAs) and the host name.
 */
public record UpstreamTlsConfig(Mode mode, Path caFile) {
    public enum Mode { DISABLE, REQUIRE, VERIFY_FULL }

    public static final UpstreamTlsConfig DISABLED = new UpstreamTlsConfig(Mode.DISABLE, null);
}
