package io.phigate.config;

import java.nio.file.Path;

/** TLS toward the database. {@code caFile} is required for VERIFY_FULL and optional otherwise. */
public record UpstreamTlsConfig(Mode mode, Path caFile) {
    public enum Mode { DISABLE, REQUIRE, VERIFY_FULL }

    public static final UpstreamTlsConfig DISABLED = new UpstreamTlsConfig(Mode.DISABLE, null);
}
