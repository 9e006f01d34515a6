package io.phigate.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import io.phigate.audit.merkle.CompactRange;
import io.phigate.audit.merkle.MerkleHash;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.TreeMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recomputes every replica's hash chain from the store alone and names the first record that does not hold:
 * an edited field (its hash no longer matches), a deleted record (a gap in the sequence), a reordered or inserted
 * record (it does not follow its predecessor). Reads the store through its own read-only connection, so it can
 * run beside a live gateway or offline on a copy.
 */
public final class AuditVerifier {

    /** One thing wrong, at the first record where it shows. */
    public record Problem(String replica, long chainSeq, String what) {
        @Override
        public String toString() {
            return "replica " + replica + ", record " + chainSeq + ": " + what;
        }
    }

    /**
     * What the verification found. {@code unchained} counts records written before the store had chains;
     * {@code checkpointsVerified} the signed checkpoints whose signature and root both held (for a checkpoint
     * within an archived prefix, its signature only: its records are in the archive file).
     * {@code archivedUpTo} says, per replica, up to which record the chain was archived and removed;
     * {@code archiveFilesChecked} how many archive files were re-read and held; {@code warnings} what was not checked
     * (archive files skipped), which leaves the log intact as far as checked but not fully verified.
     */
    public record Report(Map<String, Long> recordsPerReplica, long unchained, List<Problem> problems,
                         int checkpointsVerified, Map<String, Long> lastCheckpointSize, Map<String, Long> archivedUpTo,
                         int archiveFilesChecked, List<String> warnings) {
        public boolean intact() {
            return problems.isEmpty();
        }

        /** Intact, and nothing was left unchecked. */
        public boolean fullyVerified() {
            return intact() && warnings.isEmpty();
        }

        public long records() {
            return recordsPerReplica.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private AuditVerifier() {
    }

    public static Report verifySqlite(Path file) throws SQLException {
        return verifySqlite(file, null, null);
    }

    /**
     * Verifies the chains and, when {@code key} is given, every signed checkpoint found in the store and in
     * {@code checkpointFile} (the copy shipped elsewhere; may be null): its signature, the Merkle root of the
     * records it covers, and that no record it covers is gone.
     */
    public static Report verifySqlite(Path file, PublicKey key, Path checkpointFile) throws SQLException {
        return verifySqlite(file, key, checkpointFile, true);
    }

    /** As {@link #verifySqlite(Path, PublicKey, Path)}; {@code readArchives} false skips re-reading archive files. */
    public static Report verifySqlite(Path file, PublicKey key, Path checkpointFile, boolean readArchives)
            throws SQLException {
        if (!Files.isRegularFile(file)) {
            throw new SQLException("no audit store at " + file);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + file.toAbsolutePath() + "?mode=ro")) {
            return verify(c, key, checkpointFile, readArchives);
        }
    }

    /**
     * Verifies the store {@code config} names (SQLite or PostgreSQL), as {@link #verify(Connection, PublicKey, Path)}.
     */
    public static Report verify(AuditConfig config, PublicKey key, Path checkpointFile)
            throws SQLException, java.io.IOException {
        return verify(config, key, checkpointFile, true);
    }

    /** As {@link #verify(AuditConfig, PublicKey, Path)}; see {@link #verify(Connection, PublicKey, Path, boolean)}. */
    public static Report verify(AuditConfig config, PublicKey key, Path checkpointFile,
                                boolean readArchives) throws SQLException, java.io.IOException {
        return verify(config, key, checkpointFile, readArchives, null);
    }

    /** As above, telling {@code progress} (may be null) how many chained records were checked, now and then. */
    public static Report verify(AuditConfig config, PublicKey key, Path checkpointFile,
                                boolean readArchives, java.util.function.LongConsumer progress)
            throws SQLException, java.io.IOException {
        if (config.postgres() == null) {
            if (!Files.isRegularFile(config.sqlitePath())) {
                throw new SQLException("no audit store at " + config.sqlitePath());
            }
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:"
                    + config.sqlitePath().toAbsolutePath() + "?mode=ro")) {
                return verify(c, key, checkpointFile, readArchives, progress);
            }
        }
        try (Connection c = PostgresSchema.connect(config.postgres())) {
            c.setReadOnly(true);
            return verify(c, key, checkpointFile, readArchives, progress);
        }
    }

    /**
     * Verifies the store behind {@code c} (any JDBC store with the audit tables), as
     * {@link #verifySqlite(Path, PublicKey, Path)}. Only reads; the caller closes the connection.
     */
    public static Report verify(Connection c, PublicKey key, Path checkpointFile) throws SQLException {
        return verify(c, key, checkpointFile, true);
    }

    /**
     * As {@link #verify(Connection, PublicKey, Path)}. Where records were archived, each archive file (at the path
     * the store recorded) is re-read and checked against its cut ({@link AuditArchive#checkFile}): a missing or
     * altered file is a problem. {@code readArchives} false (the files are kept elsewhere) skips them, which is
     * reported as a warning: those records are then vouched for only by the cut row and the checkpoint signatures.
     */
    public static Report verify(Connection c, PublicKey key, Path checkpointFile, boolean readArchives)
            throws SQLException {
        return verify(c, key, checkpointFile, readArchives, null);
    }

    private static Report verify(Connection c, PublicKey key, Path checkpointFile, boolean readArchives,
                                 java.util.function.LongConsumer progress) throws SQLException {
        long checked = 0;
        List<String> warnings = new ArrayList<>();
        int archiveFiles = 0;
        Map<String, Long> perReplica = new LinkedHashMap<>();
        List<Problem> problems = new ArrayList<>();
        long unchained = 0;
        int[] verifiedCheckpoints = {0};
        Map<String, Long> lastCheckpoint = new LinkedHashMap<>();
        Map<String, Long> archivedUpTo = new LinkedHashMap<>();
        try (Statement s = c.createStatement()) {
            Map<String, TreeMap<Long, List<Checkpoint>>> checkpoints = key == null ? Map.of()
                    : checkpoints(s, checkpointFile, key, problems);
            Map<String, CompactRange> trees = new HashMap<>();
            Map<String, AuditArchive.Cut> cuts = AuditArchive.cuts(c);
            for (var cut : cuts.entrySet()) {
                long upTo = cut.getValue().upToSeq();
                archivedUpTo.put(cut.getKey(), upTo);
                trees.put(cut.getKey(), cut.getValue().tree());
                // Checkpoints within the archived prefix: their signatures held; their roots were checked when
                // the prefix was archived, and the frontier carries them on to the checkpoints checked below.
                for (var covered : checkpoints.getOrDefault(cut.getKey(), new TreeMap<>()).headMap(upTo, true)
                        .entrySet()) {
                    verifiedCheckpoints[0] += covered.getValue().size();
                    lastCheckpoint.merge(cut.getKey(), covered.getKey(), Math::max);
                }
            }
            for (var files : AuditArchive.cutFiles(c).entrySet()) {
                AuditArchive.CutFile previous = null;
                for (AuditArchive.CutFile cut : files.getValue()) {
                    long from = previous == null ? 1 : previous.upToSeq() + 1;
                    if (!readArchives) {
                        warnings.add("replica " + cut.replica() + ", records " + from + " to " + cut.upToSeq()
                                + ": archive file " + cut.file() + " not re-read (--skip-archive-files)");
                    } else {
                        AuditArchive.FileProblem bad;
                        try {
                            bad = AuditArchive.checkFile(cut, previous,
                                    checkpoints.getOrDefault(cut.replica(), new TreeMap<>()));
                        } catch (java.io.IOException e) {
                            bad = new AuditArchive.FileProblem(from, "archive file " + cut.file()
                                    + " cannot be read: " + e.getMessage());
                        }
                        if (bad != null) {
                            problems.add(new Problem(cut.replica(), bad.seq(), bad.what()));
                        } else {
                            archiveFiles++;
                        }
                    }
                    previous = cut;
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_event WHERE replica IS NULL")) {
                unchained = rs.next() ? rs.getLong(1) : 0;
            }
            try (ResultSet rs = s.executeQuery("SELECT " + RecordHash.SELECT_LIST + ", hash FROM audit_event WHERE replica IS NOT NULL"
                    + " ORDER BY replica, chain_seq, seq")) {
                String replica = null;
                long expected = 0;
                String prev = null;
                boolean broken = false;
                while (rs.next()) {
                    String[] values = RecordHash.valuesFrom(rs, 1);
                    String stored = rs.getString(values.length + 1);
                    if (!values[0].equals(replica)) {
                        replica = values[0];
                        AuditArchive.Cut cut = cuts.get(replica);
                        expected = cut == null ? 1 : cut.upToSeq() + 1;
                        prev = cut == null ? RecordHash.GENESIS : cut.lastHash();
                        broken = false;
                    }
                    perReplica.merge(replica, 1L, Long::sum);
                    if (progress != null && ++checked % 10_000 == 0) {
                        progress.accept(checked);
                    }
                    if (broken) {
                        continue; // the first bad record is named; what follows it cannot be trusted either
                    }
                    long seq = Long.parseLong(values[1]);
                    String problem = null;
                    if (seq > expected) {
                        problem = expected == seq - 1 ? "record " + expected + " is missing (deleted)"
                                : "records " + expected + " to " + (seq - 1) + " are missing (deleted)";
                    } else if (seq < expected) {
                        problem = "a second record claims this place in the chain (inserted)";
                    } else if (!RecordHash.hex(RecordHash.of(values)).equals(stored)) {
                        problem = "its contents do not match its hash (edited)";
                    } else if (!values[2].equals(prev)) {
                        problem = "it does not follow the record before it (reordered, inserted, or its predecessor"
                                + " was replaced)";
                    }
                    if (problem != null) {
                        problems.add(new Problem(replica, Math.min(seq, expected), problem));
                        broken = true;
                        continue;
                    }
                    prev = stored;
                    expected = seq + 1;
                    TreeMap<Long, List<Checkpoint>> mine = checkpoints.get(replica);
                    if (mine != null) {
                        CompactRange tree = trees.computeIfAbsent(replica, r -> new CompactRange());
                        tree.append(MerkleHash.leafHash(HexFormat.of().parseHex(stored)));
                        for (Checkpoint cp : mine.getOrDefault(tree.size(), List.of())) {
                            if (java.util.Arrays.equals(cp.root(), tree.root())) {
                                verifiedCheckpoints[0]++;
                                lastCheckpoint.merge(replica, cp.treeSize(), Math::max);
                            } else {
                                problems.add(new Problem(replica, seq, "records 1 to " + seq + " do not match the"
                                        + " checkpoint signed at " + cp.time() + " (the log was rewritten)"));
                                broken = true;
                            }
                        }
                    }
                }
            }
            // A checkpoint beyond the records that remain: the tail was cut off.
            for (var e : checkpoints.entrySet()) {
                long have = trees.containsKey(e.getKey()) ? trees.get(e.getKey()).size() : 0;
                Long largest = e.getValue().isEmpty() ? null : e.getValue().lastKey();
                boolean chainBroken = problems.stream().anyMatch(p -> p.replica().equals(e.getKey()));
                if (largest != null && largest > have && !chainBroken) {
                    problems.add(new Problem(e.getKey(), have + 1, "missing: a checkpoint signed at "
                            + e.getValue().lastEntry().getValue().getFirst().time() + " covers " + largest
                            + " records but only " + have + " remain (truncated)"));
                }
            }
        }
        return new Report(perReplica, unchained, List.copyOf(problems), verifiedCheckpoints[0], lastCheckpoint,
                archivedUpTo, archiveFiles, List.copyOf(warnings));
    }

    /** Checkpoints from the store and the shipped file, each signature checked; forged ones become problems. */
    private static Map<String, TreeMap<Long, List<Checkpoint>>> checkpoints(Statement s, Path file, PublicKey key,
                                                                       List<Problem> problems) throws SQLException {
        List<Checkpoint> all = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT note FROM audit_checkpoint ORDER BY id")) {
            while (rs.next()) {
                all.add(Checkpoint.parse(rs.getString(1)));
            }
        } catch (SQLException e) {
            // a store from before checkpoints: nothing to read
        }
        if (file != null && Files.isRegularFile(file)) {
            try {
                for (String note : Files.readString(file).split("\n(?=" + Checkpoint.ORIGIN_PREFIX + ")")) {
                    if (!note.isBlank()) {
                        all.add(Checkpoint.parse(note.strip() + "\n"));
                    }
                }
            } catch (java.io.IOException | IllegalArgumentException e) {
                problems.add(new Problem("-", 0, "checkpoint file " + file + " cannot be read: " + e.getMessage()));
            }
        }
        Map<String, TreeMap<Long, List<Checkpoint>>> byReplica = new HashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Checkpoint cp : all) {
            if (!seen.add(cp.replica() + "/" + cp.treeSize() + "/" + cp.rootHex() + "/" + cp.time())) {
                continue;
            }
            if (!CheckpointKeys.verify(key, cp.body(), cp.signature())) {
                problems.add(new Problem(cp.replica(), cp.treeSize(), "the checkpoint signed at " + cp.time()
                        + " has a signature the key does not verify (forged)"));
                continue;
            }
            byReplica.computeIfAbsent(cp.replica(), r -> new TreeMap<>())
                    .computeIfAbsent(cp.treeSize(), n -> new ArrayList<>()).add(cp);
        }
        return byReplica;
    }
}
