package io.phigate.cli;

import io.phigate.audit.AuditExport;
import io.phigate.audit.AuditQueries;
import io.phigate.config.ConfigException;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate audit export}: the log in a format other tools read. The output holds PHI. */
@Command(name = "export", description = "Write audit records as jsonl, csv (RFC 4180) or ocsf (class 6005) (holds PHI).")
final class AuditExportCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    AuditStoreOption store;

    @Option(names = "--format", paramLabel = "FORMAT", required = true, description = "jsonl, csv or ocsf.")
    AuditExport.Format format;

    @Option(names = "--since", paramLabel = "TIME", description = "From this time (inclusive): now, 2025-03-04T05:06:07Z, 2025-03-04 or an age such"
            + " as 10m, 24h or 7d (ago).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "Up to this time (exclusive), same forms as --since (default: now).")
    String until;

    @Option(names = "--out", paramLabel = "FILE", description = "Write to this file (owner-only, replaced when complete) instead of standard output.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Instant from;
        Instant to;
        try {
            from = since == null ? null : AuditQueries.parseTime(since, Clock.systemUTC());
            to = until == null ? null : AuditQueries.parseTime(until, Clock.systemUTC());
            if (from != null && to != null && !from.isBefore(to)) {
                throw new IllegalArgumentException("--since must be before --until");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("phigate audit export: " + e.getMessage());
            return 2;
        }
        try {
            AuditQueries queries = store.queries();
            if (out == null) {
                // Not closed: closing would close System.out.
                var stdout = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
                AuditExport.write(queries, format, from, to, stdout);
            } else {
                long n = AuditExport.writeFile(queries, format, from, to, out);
                System.err.println("wrote " + n + " " + (format == AuditExport.Format.OCSF ? "events" : "records")
                        + " to " + out);
            }
            return 0;
        } catch (ConfigException | SQLException e) {
            System.err.println("phigate audit export: " + e.getMessage());
            return 2;
        }
    }
}
