package io.phigate.cli;

import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import io.phigate.config.GatewayConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --config FILE | --store FILE}: which audit store an {@code audit} subcommand reads. Declared in each
 * command as {@code @ArgGroup(exclusive = true, multiplicity = "1")}, so picocli reports both or neither as a
 * usage error.
 */
final class AuditStoreOption {
    @Option(names = {"-c", "--config"}, required = true, description = "The gateway configuration (names the audit store).")
    Path config;

    @Option(names = "--store", required = true, description = "An SQLite audit file (a copy will do).")
    Path store;

    /** The SQLite file to read. */
    Path file() throws ConfigException {
        return store != null ? store : ConfigLoader.load(config).audit().sqlitePath();
    }

    /** The loaded configuration, or null when the store was named directly. */
    GatewayConfig configuration() throws ConfigException {
        return config == null ? null : ConfigLoader.load(config);
    }
}
