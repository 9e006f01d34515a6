package io.phigate.cli;

import io.phigate.audit.AuditConfig;
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
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", required = true, description = "The gateway configuration (names the audit store).")
    Path config;

    @Option(names = "--store", paramLabel = "FILE", required = true, description = "An SQLite audit file (a copy will do).")
    Path store;

    /** The SQLite file to read; commands that read only SQLite say so for a PostgreSQL store. */
    Path file() throws ConfigException {
        if (store != null) {
            return store;
        }
        Path file = ConfigLoader.load(config).audit().sqlitePath();
        if (file == null) {
            throw new ConfigException("this command reads SQLite audit stores only so far; " + config
                    + " names a PostgreSQL store");
        }
        return file;
    }

    /**
     * Queries over the chosen store (the SQLite file given, or whichever store the config names). With a config
     * whose audit encryption key is readable, sealed parameters are opened: whoever can read the key is an
     * authorised caller.
     */
    io.phigate.audit.AuditQueries queries() throws ConfigException, java.io.IOException {
        if (store != null) {
            return io.phigate.audit.AuditQueries.sqlite(store);
        }
        AuditConfig audit = ConfigLoader.load(config).audit();
        io.phigate.audit.AuditQueries q = io.phigate.audit.AuditQueries.of(audit);
        return audit.encryption() == null ? q : q.withCipher(io.phigate.audit.PayloadCipher.from(audit.encryption()));
    }

    /** {@code given}, else the configured checkpoint public key ({@code key_file.pub}), else null. */
    Path publicKeyOr(Path given) throws ConfigException {
        AuditConfig.CheckpointConfig c = checkpoints();
        return given != null || c == null ? given : io.phigate.audit.CheckpointKeys.publicFile(c.keyFile());
    }

    /** {@code given}, else the configured shipped checkpoint file, else null. */
    Path checkpointFileOr(Path given) throws ConfigException {
        AuditConfig.CheckpointConfig c = checkpoints();
        return given != null || c == null ? given : c.file();
    }

    private AuditConfig.CheckpointConfig checkpoints() throws ConfigException {
        return config == null ? null : ConfigLoader.load(config).audit().checkpoints();
    }
}
