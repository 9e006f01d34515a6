package io.phigate.cli;

import io.phigate.audit.AccessReport;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.CheckpointKeys;
import io.phigate.config.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate audit report}: the access report an auditor reads, as one self-contained HTML file. */
@Command(name = "report", description = {
        "Write an access report for a period as one self-contained HTML file (owner-only, 0600): per identity its"
                + " sessions, statements by outcome, refusals, errors, rows returned and upstreams; failed"
                + " connection attempts; and the verification of the whole log. Counts and identities only: no"
                + " statement text or parameter values.",
        "Exit 0 when written from an intact log, 1 when written but the log does not verify (the report says"
                + " so), 2 when it cannot be written."})
final class AuditReportCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    AuditStoreOption store;

    @Option(names = "--since", paramLabel = "TIME", required = true, description = "From this time (inclusive): now,"
            + " 2025-03-04T05:06:07Z, 2025-03-04 or an age such as 10m, 24h or 30d (ago).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", defaultValue = "now", description = "Up to this time (exclusive),"
            + " same forms as --since (default: ${DEFAULT-VALUE}).")
    String until;

    @Option(names = "--out", required = true, paramLabel = "FILE.html", description = "Where to write the report (mode 0600, replaced when complete).")
    Path out;

    @Option(names = "--public-key", paramLabel = "FILE.pub", description = "The checkpoint public key (default with --config: the configured key_file.pub).")
    Path publicKey;

    @Option(names = "--checkpoints", paramLabel = "FILE", description = "A shipped checkpoint file (default with --config: the configured one).")
    Path checkpoints;

    @Override
    public Integer call() {
        Instant from;
        Instant to;
        try {
            Clock clock = Clock.systemUTC();
            from = AuditQueries.parseTime(since, clock);
            to = AuditQueries.parseTime(until, clock);
            if (!from.isBefore(to)) {
                throw new IllegalArgumentException("--since must be before --until");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("phigate audit report: " + e.getMessage());
            return 2;
        }
        AccessReport.Model model;
        try {
            Path file = store.file();
            Path keyFile = store.publicKeyOr(publicKey);
            Path checkpointFile = store.checkpointFileOr(checkpoints);
            PublicKey key = keyFile == null ? null : CheckpointKeys.readPublic(keyFile);
            model = AccessReport.build(file, from, to, key, checkpointFile, Instant.now());
            AccessReport.writeFile(model, out);
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        } catch (SQLException | IOException | GeneralSecurityException e) {
            System.err.println("phigate audit report: " + e.getMessage());
            return 2;
        }
        System.err.println("wrote the access report for " + model.identities().size() + " identities to " + out
                + (model.verification().intact() ? "; the log is INTACT" : "; the log is TAMPERED"));
        return model.verification().intact() ? 0 : 1;
    }
}
