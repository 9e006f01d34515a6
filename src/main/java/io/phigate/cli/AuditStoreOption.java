package io.phigate.cli;

import io.phigate.config.AuditConfig;
import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
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

    /**
     * Queries over the store; when the configuration has an audit encryption key, sealed parameters are opened:
     * whoever can read the key file is an authorised caller.
     */
    io.phigate.audit.AuditQueries queries() throws ConfigException, java.io.IOException {
        io.phigate.audit.AuditQueries q = io.phigate.audit.AuditQueries.sqlite(file());
        if (config != null) {
            io.phigate.config.AuditConfig.Encryption e = ConfigLoader.load(config).audit().encryption();
            if (e != null) {
                q = q.withCipher(io.phigate.audit.PayloadCipher.from(e));
            }
        }
        return q;
    }

    /** The configured checkpoints, or null with {@code --store} or when the configuration signs none. */
    AuditConfig.CheckpointConfig checkpoints() throws ConfigException {
        return config == null ? null : ConfigLoader.load(config).audit().checkpoints();
    }
}
