package io.phigate.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.phigate.audit.merkle.CompactRange;
import io.phigate.audit.merkle.MerkleHash;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Retention: moves the oldest records of a replica's chain, once older than {@code audit.retention}, to a gzip'd
 * JSON Lines file and removes them from the store, leaving behind one {@code audit_archive} row per cut. That row
 * keeps what the chain and the Merkle tree need to go on without the removed records (the last record's hash and
 * the tree's frontier), so the writer, the checkpointer and the verifier continue across the cut.
 *
 * <p>The file is the evidence for the archived records: its header names the signed checkpoint that covers them,
 * the hash before the first and after the last, and the frontier; its SHA-256 stays in the store. Only a prefix of
 * the chain is ever archived, and only up to a checkpoint, so nothing archived can be changed unnoticed later.
 */
public final class AuditArchive {

    public static final String FORMAT = "phigate-audit-archive-v1";
    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    private static final HexFormat HEX = HexFormat.of();

    /** Why nothing was archived; the message says what to do. */
    public static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    /**
     * One archive written: records {@code fromSeq} to {@code toSeq} of {@code replica}, now only in {@code file};
     * on PostgreSQL, the day partitions that the cut left empty and were dropped.
     */
    public record Result(String replica, long fromSeq, long toSeq, Path file, String sha256, long checkpointSize,
                         List<String> droppedPartitions) {
        public long records() {
            return toSeq - fromSeq + 1;
        }
    }

    /** Where a replica's chain was last cut: the records up to {@code upToSeq} live only in archive files. */
    record Cut(long upToSeq, String lastHash, List<byte[]> frontier) {
        CompactRange tree() {
            return CompactRange.restore(upToSeq, frontier);
        }

        @Override
        public List<byte[]> frontier() {
            return frontier.stream().map(byte[]::clone).toList();
        }
    }

    private AuditArchive() {
    }

    static void createSchema(Statement s) throws SQLException {
        s.execute("""
                CREATE TABLE IF NOT EXISTS audit_archive (
                    replica     TEXT NOT NULL,
                    up_to_seq   INTEGER NOT NULL,
                    last_hash   TEXT NOT NULL,
                    frontier    TEXT NOT NULL,
                    archived_at TEXT NOT NULL,
                    file        TEXT NOT NULL,
                    file_sha256 TEXT NOT NULL
                )""");
    }

    /** The latest cut of each replica; empty for a store without archives (or without the table: an older store). */
    static Map<String, Cut> cuts(Connection c) throws SQLException {
        Map<String, Cut> cuts = new HashMap<>();
        if (!hasTable(c)) {
            return cuts;
        }
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT replica, up_to_seq, last_hash, frontier FROM audit_archive"
                     + " ORDER BY up_to_seq")) {
            while (rs.next()) {
                cuts.put(rs.getString(1), new Cut(rs.getLong(2), rs.getString(3), parseFrontier(rs.getString(4))));
            }
        }
        return cuts;
    }

    /** One row of {@code audit_archive}: a cut, and the file (path and SHA-256 as recorded) holding what it removed. */
    record CutFile(String replica, long upToSeq, String lastHash, List<byte[]> frontier, Path file, String sha256) {
    }

    /** Every cut, per replica in chain order; empty for a store without archives. */
    static Map<String, List<CutFile>> cutFiles(Connection c) throws SQLException {
        Map<String, List<CutFile>> cuts = new java.util.TreeMap<>();
        if (!hasTable(c)) {
            return cuts;
        }
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT replica, up_to_seq, last_hash, frontier, file, file_sha256"
                     + " FROM audit_archive ORDER BY replica, up_to_seq")) {
            while (rs.next()) {
                cuts.computeIfAbsent(rs.getString(1), r -> new ArrayList<>()).add(new CutFile(rs.getString(1),
                        rs.getLong(2), rs.getString(3), parseFrontier(rs.getString(4)), Path.of(rs.getString(5)),
                        rs.getString(6)));
            }
        }
        return cuts;
    }

    /** What is wrong with an archive file, at the first record where it shows (0: the file as a whole). */
    record FileProblem(long seq, String what) {
    }

    /**
     * Re-reads the archive file of {@code cut} (whose records follow {@code previous}, null for the chain's start)
     * and checks it against the store: its SHA-256 is the one recorded at the cut; its header names this cut; every
     * record matches its hash and follows the one before, from the previous cut's last hash to this cut's; the
     * Merkle tree over them ends in the frontier the store kept (which the checkpoints after the cut are checked
     * from); and each signed checkpoint within the archived records, {@code checkpoints} by tree size, has their
     * root. Null when all holds.
     */
    static FileProblem checkFile(CutFile cut, CutFile previous, Map<Long, List<Checkpoint>> checkpoints)
            throws IOException {
        long from = previous == null ? 1 : previous.upToSeq() + 1;
        Path file = cut.file();
        if (!Files.isRegularFile(file)) {
            return new FileProblem(from, "archive file " + file + " (records " + from + " to " + cut.upToSeq()
                    + ") is missing; if it is kept elsewhere, run with --skip-archive-files");
        }
        MessageDigest sha = RecordHash.sha256();
        try (var in = new java.security.DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        String actual = HEX.formatHex(sha.digest());
        if (!actual.equals(cut.sha256())) {
            return new FileProblem(from, "archive file " + file + " was altered or replaced: its SHA-256 is " + actual
                    + " but the store recorded " + cut.sha256() + " when it was written");
        }
        CompactRange tree = previous == null ? new CompactRange()
                : CompactRange.restore(previous.upToSeq(), previous.frontier());
        String prev = previous == null ? RecordHash.GENESIS : previous.lastHash();
        long expected = from;
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(
                new java.util.zip.GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
            com.fasterxml.jackson.databind.JsonNode header = JSON.readTree(r.readLine());
            if (header == null || !FORMAT.equals(header.path("format").asText())
                    || !cut.replica().equals(header.path("replica").asText())
                    || header.path("from_seq").asLong() != from || header.path("to_seq").asLong() != cut.upToSeq()
                    || !prev.equals(header.path("prev_hash_before").asText())
                    || !cut.lastHash().equals(header.path("last_hash").asText())) {
                return new FileProblem(from, "archive file " + file + " does not describe this cut (records " + from
                        + " to " + cut.upToSeq() + " of replica " + cut.replica() + ")");
            }
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                com.fasterxml.jackson.databind.JsonNode record = JSON.readTree(line);
                String[] values = new String[RecordHash.COLUMNS.length];
                for (int i = 0; i < values.length - 1; i++) {
                    com.fasterxml.jackson.databind.JsonNode v = record.get(RecordHash.COLUMNS[i]);
                    values[i] = v == null || v.isNull() ? null : v.asText();
                }
                com.fasterxml.jackson.databind.JsonNode response = record.get("response");
                values[values.length - 1] = response == null || response.isNull() ? null
                        : RecordHash.blobDigest(Base64.getDecoder().decode(response.asText()));
                String stored = record.path("hash").asText();
                long seq = record.path("chain_seq").asLong(-1);
                if (seq != expected) {
                    return new FileProblem(expected, "archive file " + file + ": record " + expected
                            + " is missing or out of order");
                }
                if (!RecordHash.hex(RecordHash.of(values)).equals(stored)) {
                    return new FileProblem(seq, "archive file " + file + ": its contents do not match its hash (edited)");
                }
                if (!prev.equals(values[2])) {
                    return new FileProblem(seq, "archive file " + file + ": it does not follow the record before it");
                }
                tree.append(MerkleHash.leafHash(HEX.parseHex(stored)));
                for (Checkpoint cp : checkpoints.getOrDefault(tree.size(), List.of())) {
                    if (!Arrays.equals(cp.root(), tree.root())) {
                        return new FileProblem(seq, "archive file " + file + ": records 1 to " + seq + " do not match"
                                + " the checkpoint signed at " + cp.time());
                    }
                }
                prev = stored;
                expected++;
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            // Jackson's message can quote the record, which is PHI.
            return new FileProblem(expected, "archive file " + file + " cannot be read as an archive at record "
                    + expected);
        }
        if (expected != cut.upToSeq() + 1) {
            return new FileProblem(expected, "archive file " + file + " ends before record " + cut.upToSeq());
        }
        List<byte[]> frontier = tree.frontier();
        boolean same = frontier.size() == cut.frontier().size();
        for (int i = 0; same && i < frontier.size(); i++) {
            same = Arrays.equals(frontier.get(i), cut.frontier().get(i));
        }
        if (!prev.equals(cut.lastHash()) || !same) {
            return new FileProblem(cut.upToSeq(), "archive file " + file + " does not end where the store's cut"
                    + " says (last hash or Merkle frontier differ)");
        }
        return null;
    }

    /** The replica's latest cut, or null when none of its records were archived. */
    static Cut cut(Connection c, String replica) throws SQLException {
        return cuts(c).get(replica);
    }

    private static boolean hasTable(Connection c) throws SQLException {
        try (ResultSet rs = c.getMetaData().getTables(null, null, "audit_archive", null)) {
            return rs.next();
        }
    }

    private static List<byte[]> parseFrontier(String text) {
        return text.isEmpty() ? List.of() : Arrays.stream(text.split(",")).map(HEX::parseHex).toList();
    }

    private static String formatFrontier(List<byte[]> frontier) {
        return String.join(",", frontier.stream().map(HEX::formatHex).toList());
    }

    /**
     * Archives, from {@code replica}'s chain (null: the store's only replica), the longest prefix not yet archived
     * whose records are all older than {@code before} (midnight UTC), to {@code out}, and removes it from the store.
     * On PostgreSQL it connects as the configured role; see {@link #archive(AuditConfig, LocalDate, Path, String,
     * Clock, AuditConfig.Postgres)} for the owner role that removing records needs.
     *
     * @return what was archived, or null when no record is old enough
     * @throws RefusedException when {@code before} is within the retention, no signed checkpoint covers the cut,
     *                          or the records do not verify
     */
    public static Result archive(AuditConfig config, LocalDate before, Path out, String replica, Clock clock)
            throws RefusedException, SQLException, IOException {
        return archive(config, before, out, replica, clock, null);
    }

    /**
     * As {@link #archive(AuditConfig, LocalDate, Path, String, Clock)}; on PostgreSQL as {@code owner} (the role
     * that owns the audit tables, null: the configured role). The gateway's own role may only INSERT and SELECT,
     * so it cannot remove records: archiving is an operator's act, done as the owner. Day partitions left empty
     * by the cut, and wholly before it, are dropped.
     */
    public static Result archive(AuditConfig config, LocalDate before, Path out, String replica, Clock clock,
                                 AuditConfig.Postgres owner) throws RefusedException, SQLException, IOException {
        LocalDate latest = LocalDate.now(clock.withZone(ZoneOffset.UTC)).minusDays(config.retention().toDays());
        if (before.isAfter(latest)) {
            throw new RefusedException("--before " + before + " is later than " + latest + ": records younger than"
                    + " audit.retention (" + describe(config.retention()) + ") are kept");
        }
        if (config.checkpoints() == null) {
            throw new RefusedException("archiving needs signed checkpoints (audit.checkpoints): the archive must be"
                    + " covered by one");
        }
        PublicKey key;
        try {
            key = CheckpointKeys.readPublic(CheckpointKeys.publicFile(config.checkpoints().keyFile()));
        } catch (GeneralSecurityException e) {
            throw new RefusedException("cannot read the checkpoint public key: " + e.getMessage());
        }
        if (Files.exists(out)) {
            throw new RefusedException(out + " exists; refusing to overwrite an archive");
        }
        Instant cutoff = before.atStartOfDay(ZoneOffset.UTC).toInstant();
        boolean postgres = config.postgres() != null;
        try (Connection c = postgres ? PostgresSchema.connect(owner == null ? config.postgres() : owner)
                : SqliteSchema.open(config.sqlitePath(), config.busyTimeout())) {
            if (postgres) {
                checkPostgresRights(c, owner == null ? config.postgres().user() : owner.user());
            }
            if (replica == null) {
                replica = onlyReplica(c);
            }
            Cut previous = cut(c, replica);
            long after = previous == null ? 0 : previous.upToSeq();
            long to = cutAt(c, replica, after, cutoff);
            if (to == after) {
                return null;
            }
            Checkpoint cp = coveringCheckpoint(c, replica, to, key);
            Written written = write(c, replica, previous, to, cp, out);
            try (Statement s = c.createStatement()) {
                s.execute(postgres ? "BEGIN" : "BEGIN IMMEDIATE");
                try {
                    if (postgres) {
                        // Two archive runs for one replica would both see the same previous cut.
                        s.execute("SELECT pg_advisory_xact_lock(hashtext('phigate.audit.archive'))");
                        Cut now = cut(c, replica);
                        if ((now == null ? 0 : now.upToSeq()) != after) {
                            throw new RefusedException("another archive run cut replica " + replica
                                    + " meanwhile; nothing was removed (delete " + out + " and run again)");
                        }
                    }
                    try (PreparedStatement ins = c.prepareStatement("INSERT INTO audit_archive (replica, up_to_seq,"
                            + " last_hash, frontier, archived_at, file, file_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                        ins.setString(1, replica);
                        ins.setLong(2, to);
                        ins.setString(3, written.lastHash());
                        ins.setString(4, formatFrontier(written.frontier()));
                        ins.setString(5, clock.instant().toString());
                        ins.setString(6, out.toAbsolutePath().toString());
                        ins.setString(7, written.sha256());
                        ins.executeUpdate();
                    }
                    try (PreparedStatement del = c.prepareStatement(
                            "DELETE FROM audit_event WHERE replica = ? AND chain_seq > ? AND chain_seq <= ?")) {
                        del.setString(1, replica);
                        del.setLong(2, after);
                        del.setLong(3, to);
                        int deleted = del.executeUpdate();
                        if (deleted != to - after) {
                            throw new SQLException("expected to remove " + (to - after) + " records but found "
                                    + deleted + "; the store changed while archiving");
                        }
                    }
                    if (!postgres) {
                        // Texts only the removed records named; the archive file holds each record's own text.
                        StatementTexts.deleteOrphans(c);
                    }
                    s.execute("COMMIT");
                } catch (SQLException | RuntimeException | RefusedException e) {
                    s.execute("ROLLBACK");
                    throw e;
                }
            }
            List<String> dropped = postgres ? dropEmptyPartitions(c, before) : List.of();
            return new Result(replica, after + 1, to, out, written.sha256(), cp.treeSize(), dropped);
        }
    }

    /** Refuses early, before any file is written, when {@code role} could not remove the records. */
    private static void checkPostgresRights(Connection c, String role) throws SQLException, RefusedException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT has_table_privilege('audit_event', 'DELETE'), has_table_privilege('audit_archive', 'INSERT')")) {
            if (!rs.next() || !rs.getBoolean(1) || !rs.getBoolean(2)) {
                throw new RefusedException("role " + role + " may not remove audit records (the gateway's role may"
                        + " only INSERT and SELECT); archive as the owner of the audit tables (--owner)");
            }
        }
    }

    /**
     * Drops the day partitions that end on or before {@code before} and hold no record any more (every replica's
     * records of that day archived). A partition still holding records stays; so does one that cannot be locked
     * within a few seconds (the writers hold the parent table): the next run drops it. Returns the dropped names.
     */
    private static List<String> dropEmptyPartitions(Connection c, LocalDate before) throws SQLException {
        List<String> candidates = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_inherits i"
                + " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_event'::regclass ORDER BY 1")) {
            while (rs.next()) {
                candidates.add(rs.getString(1));
            }
        }
        List<String> dropped = new ArrayList<>();
        for (String name : candidates) {
            if (!name.matches("audit_event_\\d{8}")) {
                continue;
            }
            LocalDate day = LocalDate.parse(name.substring("audit_event_".length()),
                    java.time.format.DateTimeFormatter.BASIC_ISO_DATE);
            if (!day.isBefore(before)) {
                continue;
            }
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN");
                try {
                    s.execute("SET LOCAL lock_timeout = '5s'");
                    s.execute("LOCK TABLE audit_event IN SHARE ROW EXCLUSIVE MODE");
                    boolean empty;
                    try (ResultSet rs = s.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM " + name + ")")) {
                        empty = rs.next() && rs.getBoolean(1);
                    }
                    if (empty) {
                        s.execute("DROP TABLE " + name);
                        dropped.add(name);
                    }
                    s.execute("COMMIT");
                } catch (SQLException e) {
                    s.execute("ROLLBACK");
                    if (!"55P03".equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
        }
        return dropped;
    }

    /** The last chain_seq of the longest run after {@code after} whose records are all older than {@code cutoff}. */
    private static long cutAt(Connection c, String replica, long after, Instant cutoff)
            throws SQLException, RefusedException {
        try (PreparedStatement q = c.prepareStatement("SELECT chain_seq, time FROM audit_event WHERE replica = ?"
                + " AND chain_seq > ? ORDER BY chain_seq")) {
            q.setString(1, replica);
            q.setLong(2, after);
            long expected = after + 1;
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    if (seq != expected) {
                        throw new RefusedException("record " + expected + " of replica " + replica + " is missing;"
                                + " run `phigate audit verify`");
                    }
                    if (!Instant.parse(rs.getString(2)).isBefore(cutoff)) {
                        break;
                    }
                    expected++;
                }
            }
            return expected - 1;
        }
    }

    /** The smallest signed checkpoint that covers record {@code to}, its signature checked. */
    private static Checkpoint coveringCheckpoint(Connection c, String replica, long to, PublicKey key)
            throws SQLException, RefusedException {
        try (PreparedStatement q = c.prepareStatement("SELECT note FROM audit_checkpoint WHERE replica = ?"
                + " AND tree_size >= ? ORDER BY tree_size, id")) {
            q.setString(1, replica);
            q.setLong(2, to);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    Checkpoint cp = Checkpoint.parse(rs.getString(1));
                    if (CheckpointKeys.verify(key, cp.body(), cp.signature())) {
                        return cp;
                    }
                }
            }
        }
        throw new RefusedException("no checkpoint covers record " + to + " yet (replica " + replica + "); archive"
                + " after the gateway has signed one");
    }

    private record Written(String lastHash, List<byte[]> frontier, String sha256) {
    }

    /**
     * Writes records after the previous cut up to {@code to} to {@code out} (owner-only, fsync'd), checking as it
     * reads that each matches its hash and follows the one before, and that the records up to the checkpoint give
     * its root: a tampered prefix is refused, not archived away.
     */
    private static Written write(Connection c, String replica, Cut previous, long to, Checkpoint cp, Path out)
            throws SQLException, IOException, RefusedException {
        CompactRange tree = previous == null ? new CompactRange() : previous.tree();
        long after = previous == null ? 0 : previous.upToSeq();
        String prev = previous == null ? RecordHash.GENESIS : previous.lastHash();
        String prevBefore = prev;
        List<ObjectNode> records = new ArrayList<>();
        List<byte[]> frontierAtCut = null;
        try (PreparedStatement q = c.prepareStatement("SELECT " + RecordHash.SELECT_LIST + ", hash FROM audit_event"
                + " WHERE replica = ? AND chain_seq > ? AND chain_seq <= ? ORDER BY chain_seq");
             PreparedStatement all = c.prepareStatement("SELECT * FROM audit_event WHERE replica = ?"
                     + " AND chain_seq > ? AND chain_seq <= ? ORDER BY chain_seq")) {
            q.setString(1, replica);
            q.setLong(2, after);
            q.setLong(3, cp.treeSize());
            long expected = after + 1;
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    String[] values = RecordHash.valuesFrom(rs, 1);
                    String stored = rs.getString(values.length + 1);
                    long seq = Long.parseLong(values[1]);
                    if (seq != expected || !RecordHash.hex(RecordHash.of(values)).equals(stored)
                            || !prev.equals(values[2])) {
                        throw new RefusedException("record " + expected + " of replica " + replica + " does not"
                                + " verify; run `phigate audit verify` (a tampered record is not archived)");
                    }
                    tree.append(MerkleHash.leafHash(HEX.parseHex(stored)));
                    prev = stored;
                    expected++;
                    if (seq == to) {
                        frontierAtCut = tree.frontier();
                    }
                }
            }
            if (tree.size() != cp.treeSize() || !Arrays.equals(tree.root(), cp.root())) {
                throw new RefusedException("records 1 to " + cp.treeSize() + " of replica " + replica + " do not match"
                        + " the checkpoint signed at " + cp.time() + "; run `phigate audit verify`");
            }
            all.setString(1, replica);
            all.setLong(2, after);
            all.setLong(3, to);
            String lastHash = null;
            try (ResultSet rs = all.executeQuery()) {
                ResultSetMetaData meta = rs.getMetaData();
                while (rs.next()) {
                    ObjectNode record = JSON.createObjectNode();
                    for (int i = 1; i <= meta.getColumnCount(); i++) {
                        String name = meta.getColumnName(i);
                        if (name.equals("text_id")) {
                            continue; // the store's own pointer to its text index (decision 0060), not the record
                        }
                        Object value = rs.getObject(i);
                        switch (value) {
                            case null -> record.putNull(name);
                            case byte[] b -> record.put(name, Base64.getEncoder().encodeToString(b));
                            case Integer n -> record.put(name, n);
                            case Long n -> record.put(name, n);
                            case Double d -> record.put(name, d);
                            default -> record.put(name, value.toString());
                        }
                    }
                    lastHash = record.path("hash").asText();
                    records.add(record);
                }
            }
            ObjectNode header = JSON.createObjectNode();
            header.put("format", FORMAT);
            header.put("replica", replica);
            header.put("from_seq", after + 1);
            header.put("to_seq", to);
            header.put("prev_hash_before", prevBefore);
            header.put("last_hash", lastHash);
            var frontier = header.putArray("frontier_after");
            frontierAtCut.forEach(h -> frontier.add(HEX.formatHex(h)));
            header.put("checkpoint", cp.note());
            String sha256 = writeFile(out, header, records);
            return new Written(lastHash, frontierAtCut, sha256);
        }
    }

    /** Writes the file owner-only and fsync'd, under a temporary name until complete; returns its SHA-256. */
    private static String writeFile(Path out, ObjectNode header, List<ObjectNode> records) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + out.getFileName(), ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system; createTempFile already restricts what it can
            }
            MessageDigest sha = RecordHash.sha256();
            try (OutputStream file = Files.newOutputStream(tmp, StandardOpenOption.TRUNCATE_EXISTING);
                 Writer w = new BufferedWriter(new OutputStreamWriter(
                         new GZIPOutputStream(new DigestOutputStream(file, sha)), StandardCharsets.UTF_8))) {
                w.write(JSON.writeValueAsString(header));
                w.write('\n');
                for (ObjectNode record : records) {
                    w.write(JSON.writeValueAsString(record));
                    w.write('\n');
                }
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // some file systems cannot sync a directory; the file itself is durable
            }
            return HEX.formatHex(sha.digest());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String onlyReplica(Connection c) throws SQLException, RefusedException {
        List<String> replicas = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT replica FROM audit_event WHERE replica IS NOT NULL"
                     + " ORDER BY replica")) {
            while (rs.next()) {
                replicas.add(rs.getString(1));
            }
        }
        if (replicas.size() != 1) {
            throw new RefusedException(replicas.isEmpty() ? "the store holds no chained records"
                    : "the store holds replicas " + String.join(", ", replicas) + "; give --replica");
        }
        return replicas.getFirst();
    }

    private static String describe(java.time.Duration retention) {
        long days = retention.toDays();
        long years = Math.round(days / 365.25);
        if (years >= 1 && Math.abs(years * 365.25 - days) <= 1) {
            return years + (years == 1 ? " year" : " years");
        }
        return days + " days";
    }
}
