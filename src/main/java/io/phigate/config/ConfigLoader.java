package io.phigate.config;

import java.nio.file.Path;

/** Placeholder until implemented. */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    public static GatewayConfig load(Path file) throws ConfigException {
        throw new ConfigException("not implemented");
    }
}
