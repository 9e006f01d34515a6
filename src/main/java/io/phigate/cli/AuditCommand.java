package io.phigate.cli;

import io.phigate.audit.AuditVerifier;
import io.phigate.audit.CheckpointKeys;
import io.phigate.audit.InclusionProofs;
import io.phigate.audit.InclusionProofs.ProofException;
import io.phigate.audit.AuditConfig;
import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate audit ...}: evidence tools that work on the audit store, online or on a copy. */
@Command(name = "audit", description = "Verify, search, export and prove the audit log.",
        subcommands = {AuditCommand.Verify.class, AuditCommand.Keygen.class, AuditCommand.Datakey.class, AuditCommand.Prove.class,
                AuditCommand.CheckProof.class, AuditArchiveCommand.class, AuditSearchCommand.class, AuditSessionCommand.class,
                AuditExportCommand.class, AuditReportCommand.class})
final class AuditCommand {

    @Command(name = "datakey", description = "Create an audit encryption key (32 random bytes, base64) for"
            + " audit.encryption; written owner-only.")
    static final class Datakey implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to write the key.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (java.nio.file.Files.exists(out)) {
                System.err.println("phigate audit datakey: " + out + " exists; refusing to overwrite a key");
                return 2;
            }
            java.nio.file.Path dir = out.toAbsolutePath().getParent();
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.createFile(out, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            java.nio.file.Files.writeString(out, io.phigate.audit.PayloadCipher.newKey() + "\n");
            System.out.println(out);
            return 0;
        }
    }

    @Command(name = "keygen", description = "Create an Ed25519 checkpoint signing key (FILE) and its public half (FILE.pub).")
    static final class Keygen implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to write the private key.")
        Path out;

        @Override
        public Integer call() throws Exception {
            io.phigate.audit.CheckpointKeys.generate(out);
            System.out.println(out);
            System.out.println(io.phigate.audit.CheckpointKeys.publicFile(out));
            return 0;
        }
    }

    @Command(name = "verify", description = {"Recompute every hash chain and checkpoint, and re-read every archive"
            + " file; exit 0 only when the log is intact.",
            "Exit 0 intact, 1 tampered (the first bad record is named), 2 the store or configuration cannot be read,"
                    + " 3 intact as far as checked but archive files were skipped."})
    static final class Verify implements Callable<Integer> {
        @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        AuditStoreOption store;

        @Option(names = "--public-key", paramLabel = "FILE", description = "The checkpoint public key (default: the configured key_file.pub).")
        Path publicKey;

        @Option(names = "--checkpoints", paramLabel = "FILE", description = "A shipped checkpoint file (default: the configured one).")
        Path checkpoints;

        @Option(names = "--skip-archive-files", description = "Do not re-read the archive files the store names (they"
                + " are kept elsewhere). Reported as a warning, exit 3: the archived records are then not verified.")
        boolean skipArchiveFiles;

        @Override
        public Integer call() throws Exception {
            Path file = null;
            AuditConfig audit = null;
            try {
                if (store.store != null) {
                    file = store.store;
                } else {
                    audit = ConfigLoader.load(store.config).audit();
                }
                publicKey = store.publicKeyOr(publicKey);
                checkpoints = store.checkpointFileOr(checkpoints);
            } catch (ConfigException e) {
                System.err.println(e.getMessage());
                return 2;
            }
            var key = publicKey == null ? null : io.phigate.audit.CheckpointKeys.readPublic(publicKey);
            AuditVerifier.Report report = audit == null
                    ? AuditVerifier.verifySqlite(file, key, checkpoints, !skipArchiveFiles)
                    : AuditVerifier.verify(audit, key, checkpoints, !skipArchiveFiles);
            // The store as configured (for PostgreSQL user@host:port/db, never a password).
            System.out.println("audit store " + (audit == null ? file : audit.postgres() == null
                    ? audit.sqlitePath() : audit.store()) + ": " + report.records() + " chained records in "
                    + report.recordsPerReplica().size() + " replica chain(s)"
                    + (report.unchained() > 0 ? ", " + report.unchained() + " older unchained records" : ""));
            report.recordsPerReplica().forEach((replica, n) -> System.out.println("  replica " + replica + ": " + n));
            report.archivedUpTo().forEach((replica, n) -> System.out.println("  replica " + replica
                    + ": records 1 to " + n + " archived (the chain continues from the archive's last hash)"));
            if (!report.archivedUpTo().isEmpty() && !skipArchiveFiles) {
                System.out.println("  " + report.archiveFilesChecked() + " archive file(s) re-read: SHA-256, hash chain"
                        + " and Merkle frontier checked");
            }
            report.warnings().forEach(w -> System.out.println("WARNING: " + w));
            if (publicKey == null) {
                System.out.println("  checkpoints not checked: no public key (give --public-key)");
            } else {
                System.out.println("  " + report.checkpointsVerified() + " signed checkpoint(s) verified; last covers "
                        + report.lastCheckpointSize());
            }
            if (report.fullyVerified()) {
                System.out.println("INTACT: every record matches its hash and follows the one before it");
                return 0;
            }
            if (report.intact()) {
                System.out.println("NOT FULLY VERIFIED: the records checked are intact, but " + report.warnings().size()
                        + " archive file(s) were not re-read");
                return 3;
            }
            for (AuditVerifier.Problem p : report.problems()) {
                System.out.println("TAMPERED: " + p);
            }
            return 1;
        }
    }

    @Command(name = "prove", description = {
            "Write a self-contained proof that record N of a replica's chain is in the audit log: the record, its"
                    + " RFC 9162 inclusion path and the latest signed checkpoint that covers it. An auditor checks it"
                    + " offline with `phigate audit check-proof`.",
            "The proof holds the record as stored, statement text and bound parameters included: it is PHI."
                    + " With --out it is written owner-only (0600); handle and ship it as PHI."})
    static final class Prove implements Callable<Integer> {
        @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        AuditStoreOption store;

        @Option(names = "--replica", paramLabel = "R", description = "Whose chain (default: the only replica in the store).")
        String replica;

        @Option(names = "--seq", required = true, paramLabel = "N", description = "The record's number in the replica's chain.")
        long seq;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the proof here, mode 0600 (default: standard output).")
        Path out;

        @Override
        public Integer call() throws Exception {
            AuditConfig audit = null;
            try {
                if (store.store == null) {
                    audit = ConfigLoader.load(store.config).audit();
                }
            } catch (ConfigException e) {
                System.err.println(e.getMessage());
                return 2;
            }
            String where = audit == null ? store.store.toString()
                    : audit.postgres() == null ? audit.sqlitePath().toString() : audit.store();
            InclusionProofs.Proof proof;
            try {
                proof = audit == null ? InclusionProofs.prove(store.store, replica, seq)
                        : InclusionProofs.prove(audit, replica, seq);
            } catch (ProofException e) {
                System.err.println("phigate audit prove: " + e.getMessage());
                return 1;
            } catch (java.sql.SQLException | IOException e) {
                System.err.println("phigate audit prove: cannot read the audit store " + where + ": " + e.getMessage());
                return 2;
            }
            if (out == null) {
                System.out.print(proof.toJson());
            } else {
                InclusionProofs.write(proof, out);
                System.err.println("wrote the proof of record " + seq + " (checkpoint size " + proof.treeSize()
                        + ") to " + out + "; it contains PHI");
            }
            return 0;
        }
    }

    @Command(name = "check-proof", description = {
            "Check a proof written by `phigate audit prove`, offline, with only the checkpoint public key: the"
                    + " checkpoint's signature, the record's hash and its inclusion path to the checkpoint's root.",
            "Exit 0 when the proof holds, 1 when it does not (the reason is printed), 2 when the files cannot be"
                    + " read."})
    static final class CheckProof implements Callable<Integer> {
        @Option(names = "--proof", required = true, paramLabel = "FILE", description = "The proof file (JSON; contains PHI).")
        Path proofFile;

        @Option(names = "--public-key", required = true, paramLabel = "FILE.pub", description = "The checkpoint public key (FILE.pub).")
        Path publicKey;

        @Override
        public Integer call() {
            java.security.PublicKey key;
            InclusionProofs.Proof proof;
            try {
                key = CheckpointKeys.readPublic(publicKey);
            } catch (IOException | GeneralSecurityException e) {
                System.err.println("phigate audit check-proof: cannot read the public key: " + describe(e));
                return 2;
            }
            try {
                proof = InclusionProofs.read(proofFile);
            } catch (IOException e) {
                System.err.println("phigate audit check-proof: cannot read the proof: " + describe(e));
                return 2;
            } catch (ProofException e) {
                System.out.println("NOT PROVEN: " + e.getMessage());
                return 1;
            }
            try {
                InclusionProofs.Proven p = InclusionProofs.check(proof, key);
                System.out.println("PROVEN: record " + p.seq() + " of replica " + p.replica() + " is in the audit log");
                System.out.println("  record:     " + p.kind() + " at " + p.time()
                        + (p.sessionId() == null ? "" : ", session " + p.sessionId()) + ", hash " + p.recordHash());
                System.out.println("  checkpoint: " + p.checkpointSize() + " records, signed at " + p.checkpointTime()
                        + " by key " + p.keyId() + ", root " + p.rootHex());
                return 0;
            } catch (ProofException e) {
                System.out.println("NOT PROVEN: " + e.getMessage());
                return 1;
            }
        }

        private static String describe(Exception e) {
            return e instanceof NoSuchFileException ? "no such file " + e.getMessage() : e.getMessage();
        }
    }
}
