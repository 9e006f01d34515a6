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
@Command(name = "audit", description = "Verify the audit log.", subcommands = {AuditCommand.Verify.class})
final class AuditCommand {

    @Command(name = "verify", description = "Recompute every hash chain; exit 0 only when the log is intact.")
    static final class Verify implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, description = "The gateway configuration (names the audit store).")
        Path config;

        @Option(names = "--store", description = "An SQLite audit file to verify instead of the configured one.")
        Path store;

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
                } catch (ConfigException e) {
                    System.err.println(e.getMessage());
                    return 2;
                }
            }
            AuditVerifier.Report report = AuditVerifier.verifySqlite(file);
            System.out.println("audit store " + file + ": " + report.records() + " chained records in "
                    + report.recordsPerReplica().size() + " replica chain(s)"
                    + (report.unchained() > 0 ? ", " + report.unchained() + " older unchained records" : ""));
            report.recordsPerReplica().forEach((replica, n) -> System.out.println("  replica " + replica + ": " + n));
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
