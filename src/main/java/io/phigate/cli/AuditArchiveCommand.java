package io.phigate.cli;

import io.phigate.audit.AuditArchive;
import io.phigate.audit.AuditConfig;
import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate audit archive}: moves records past the retention to a compressed file and removes them. */
@Command(name = "archive", description = {
        "Move a replica's oldest records (all before --before, which must be at least audit.retention ago) to a"
                + " gzip'd JSON Lines file with their covering signed checkpoint, and remove them from the store."
                + " The chain and the Merkle tree continue across the cut; `audit verify` still checks them.",
        "The file holds the records as stored: it is PHI, written owner-only (0600). Ship it to write-once storage.",
        "With a PostgreSQL store, run it as the owner of the audit tables (--owner); day partitions it empties are"
                + " dropped."})
final class AuditArchiveCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", required = true, description = "The gateway configuration (names the audit store).")
    Path config;

    @Option(names = "--before", required = true, paramLabel = "YYYY-MM-DD", description = "Archive records older than this day (UTC).")
    String before;

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl.gz", description = "The archive file (must not exist).")
    Path out;

    @Option(names = "--replica", paramLabel = "R", description = "Whose chain (default: the only replica in the store).")
    String replica;

    @Option(names = "--owner", paramLabel = "ROLE", description = "PostgreSQL store: archive as this role, the owner of"
            + " the audit tables (the gateway's role may only INSERT and SELECT, so it cannot remove records).")
    String owner;

    @Option(names = "--owner-password-file", paramLabel = "FILE", description = "The --owner role's password, from a file.")
    Path ownerPasswordFile;

    @Option(names = "--owner-password-env", paramLabel = "VAR", description = "The --owner role's password, from an"
            + " environment variable.")
    String ownerPasswordEnv;

    @Override
    public Integer call() throws Exception {
        LocalDate day;
        AuditConfig audit;
        try {
            day = LocalDate.parse(before);
            audit = ConfigLoader.load(config).audit();
        } catch (DateTimeParseException e) {
            System.err.println("phigate audit archive: --before expects a day like 2019-01-01, got " + before);
            return 2;
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        AuditConfig.Postgres ownerRole = null;
        if (owner != null || ownerPasswordFile != null || ownerPasswordEnv != null) {
            if (audit.postgres() == null || owner == null || (ownerPasswordFile != null && ownerPasswordEnv != null)) {
                System.err.println("phigate audit archive: --owner (with at most one of --owner-password-file and"
                        + " --owner-password-env) is for PostgreSQL stores");
                return 2;
            }
            var p = audit.postgres();
            ownerRole = new AuditConfig.Postgres(p.host(), p.port(), p.database(), owner,
                    ownerPasswordFile == null && ownerPasswordEnv == null ? null
                            : new io.phigate.mask.SecretRef(ownerPasswordEnv, ownerPasswordFile));
        }
        AuditArchive.Result result;
        try {
            result = AuditArchive.archive(audit, day, out, replica, Clock.systemUTC(), ownerRole);
        } catch (AuditArchive.RefusedException e) {
            System.err.println("phigate audit archive: " + e.getMessage());
            return 1;
        }
        if (result == null) {
            System.out.println("nothing to archive: no record before " + day + " that is not archived already");
            return 0;
        }
        System.out.println("archived records " + result.fromSeq() + " to " + result.toSeq() + " of replica "
                + result.replica() + " (" + result.records() + " records, covered by the checkpoint of size "
                + result.checkpointSize() + ") to " + result.file());
        System.out.println("  sha256 " + result.sha256() + "; it contains PHI; ship it to write-once storage");
        if (!result.droppedPartitions().isEmpty()) {
            System.out.println("  dropped the emptied day partitions " + String.join(", ", result.droppedPartitions()));
        }
        return 0;
    }
}
