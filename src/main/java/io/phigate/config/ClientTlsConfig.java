package io.phigate.config;

import java.nio.file.Path;

/**
 * TLS toward clients. Agents send their token as a cleartext password, so the default refuses cleartext
 * connections except from loopback addresses.
 */
public record ClientTlsConfig(Mode mode, Path certFile, Path keyFile, boolean allowLoopbackCleartext) {
    public enum Mode { DISABLE, ALLOW, REQUIRE }

    public boolean hasCertificate() {
        return certFile != null && keyFile != null;
    }
}
