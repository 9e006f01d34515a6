package io.phigate.cli;

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

    /** Queries over the chosen store: the SQLite file given, or whichever store the config names. */
    io.phigate.audit.AuditQueries queries() throws ConfigException {
        return store != null ? io.phigate.audit.AuditQueries.sqlite(store)
                : io.phigate.audit.AuditQueries.of(ConfigLoader.load(config).audit());
    }
}
