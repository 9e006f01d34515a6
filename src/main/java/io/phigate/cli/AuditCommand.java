package io.phigate.cli;

import io.phigate.audit.AuditVerifier;
import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import io.phigate.config.GatewayConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate audit ...}: evidence tools that work on the audit store, online or on a copy. */
@Command(name = "audit", description = "Verify the audit log.",
        subcommands = {AuditCommand.Verify.class, AuditCommand.Keygen.class, AuditSearchCommand.class, AuditSessionCommand.class, AuditExportCommand.class})
final class AuditCommand {

    @Command(name = "keygen", description = "Create an Ed25519 checkpoint signing key (FILE) and its public half (FILE.pub).")
    static final class Keygen implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "Where to write the private key.")
        Path out;

        @Override
        public Integer call() throws Exception {
            io.phigate.audit.CheckpointKeys.generate(out);
            System.out.println(out);
            System.out.println(io.phigate.audit.CheckpointKeys.publicFile(out));
            return 0;
        }
    }

    @Command(name = "verify", description = "Recompute every hash chain; exit 0 only when the log is intact.")
    static final class Verify implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, description = "The gateway configuration (names the audit store).")
        Path config;

        @Option(names = "--store", description = "An SQLite audit file to verify instead of the configured one.")
        Path store;

        @Option(names = "--public-key", description = "The checkpoint public key (default: the configured key_file.pub).")
        Path publicKey;

        @Option(names = "--checkpoints", description = "A shipped checkpoint file (default: the configured one).")
        Path checkpoints;

        @Override
        public Integer call() throws Exception {
            Path file = store;
            if (file == null) {
                if (config == null) {
                    System.err.println("phigate audit verify: give --config FILE or --store FILE");
                    return 2;
                }
                try {
                    GatewayConfig cfg = ConfigLoader.load(config);
                    file = cfg.audit().sqlitePath();
                    if (cfg.audit().checkpoints() != null) {
                        if (publicKey == null) {
                            publicKey = io.phigate.audit.CheckpointKeys.publicFile(cfg.audit().checkpoints().keyFile());
                        }
                        if (checkpoints == null) {
                            checkpoints = cfg.audit().checkpoints().file();
                        }
                    }
                } catch (ConfigException e) {
                    System.err.println(e.getMessage());
                    return 2;
                }
            }
            AuditVerifier.Report report = AuditVerifier.verifySqlite(file,
                    publicKey == null ? null : io.phigate.audit.CheckpointKeys.readPublic(publicKey), checkpoints);
            System.out.println("audit store " + file + ": " + report.records() + " chained records in "
                    + report.recordsPerReplica().size() + " replica chain(s)"
                    + (report.unchained() > 0 ? ", " + report.unchained() + " older unchained records" : ""));
            report.recordsPerReplica().forEach((replica, n) -> System.out.println("  replica " + replica + ": " + n));
            if (publicKey == null) {
                System.out.println("  checkpoints not checked: no public key (give --public-key)");
            } else {
                System.out.println("  " + report.checkpointsVerified() + " signed checkpoint(s) verified; last covers "
                        + report.lastCheckpointSize());
            }
            if (report.intact()) {
                System.out.println("INTACT: every record matches its hash and follows the one before it");
                return 0;
            }
            for (AuditVerifier.Problem p : report.problems()) {
                System.out.println("TAMPERED: " + p);
            }
            return 1;
        }
    }
}
