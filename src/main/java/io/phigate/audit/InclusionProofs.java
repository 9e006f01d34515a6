package io.phigate.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.phigate.audit.merkle.CompactRange;
import io.phigate.audit.merkle.InclusionProof;
import io.phigate.audit.merkle.MerkleException;
import io.phigate.audit.merkle.MerkleHash;
import io.phigate.audit.merkle.MerkleTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Proof, for an auditor, that one audit record is in the log: the record's stored column values, its leaf
 * index, the latest signed checkpoint that covers it and the RFC 9162 inclusion path up to that checkpoint's
 * root. {@link #check} needs nothing but the proof and the checkpoint public key, so it runs offline, away from
 * the gateway and its store.
 *
 * <p>A proof carries the record's values as stored, statement text and parameters included: it is PHI.
 */
public final class InclusionProofs {

    /** Names the proof file format; a change to what is hashed or how is a new format. */
    public static final String FORMAT = "phigate-inclusion-proof-v1";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final HexFormat HEX = HexFormat.of();

    /** Why a proof could not be made, or why a proof does not hold. The message says which, in plain words. */
    public static final class ProofException extends Exception {
        ProofException(String message) {
            super(message);
        }
    }

    /**
     * One proof as written to and read from its JSON file. Values are kept as the file holds them (hex strings,
     * the note's text) so that {@link #check} judges exactly what the auditor received.
     *
     * @param record     every column of {@link RecordHash#COLUMNS}, in that order, as stored (null is SQL NULL)
     * @param recordHash the record's hash as the chain stores it, hex
     * @param leafIndex  the record's place in its replica's Merkle tree: chain_seq - 1
     * @param treeSize   the checkpoint's tree size
     * @param path       the inclusion path, nearest sibling first, hex
     * @param checkpoint the signed checkpoint note, exactly as stored
     */
    public record Proof(Map<String, String> record, String recordHash, long leafIndex, long treeSize,
                        List<String> path, String checkpoint) {
        public Proof {
            record = Collections.unmodifiableMap(new LinkedHashMap<>(record));
            path = List.copyOf(path);
        }

        /** The proof file's contents. */
        public String toJson() {
            ObjectNode root = JSON.createObjectNode();
            root.put("format", FORMAT);
            root.put("contains_phi", "The record below holds the statement text and parameters as the agent sent"
                    + " them. Handle this file as protected health information.");
            ObjectNode values = root.putObject("record");
            record.forEach(values::put);
            root.put("record_hash", recordHash);
            root.put("leaf_index", leafIndex);
            root.put("tree_size", treeSize);
            ArrayNode hashes = root.putArray("inclusion_path");
            path.forEach(hashes::add);
            root.put("checkpoint", checkpoint);
            try {
                return JSON.writeValueAsString(root) + "\n";
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot render a proof as JSON (" + e.getClass().getSimpleName() + ")");
            }
        }

        /** Reads a proof file's contents; anything not shaped as {@link #toJson} writes it is refused. */
        public static Proof fromJson(String json) throws ProofException {
            JsonNode root;
            try {
                root = JSON.readTree(json);
            } catch (JsonProcessingException e) {
                // Jackson's message can quote the file's contents, which are PHI.
                throw new ProofException("the proof is not valid JSON (line " + e.getLocation().getLineNr() + ")");
            }
            if (root == null || !root.isObject()) {
                throw new ProofException("the proof is not a JSON object");
            }
            if (!FORMAT.equals(root.path("format").asText(null))) {
                throw new ProofException("the proof's format is not " + FORMAT);
            }
            JsonNode values = root.path("record");
            if (!values.isObject()) {
                throw new ProofException("the proof has no record object");
            }
            Map<String, String> record = new LinkedHashMap<>();
            for (String column : RecordHash.COLUMNS) {
                JsonNode v = values.get(column);
                if (v == null) {
                    throw new ProofException("the record has no " + column + " value");
                }
                if (!v.isNull() && !v.isTextual()) {
                    throw new ProofException("the record's " + column + " value is not a string or null");
                }
                record.put(column, v.isNull() ? null : v.textValue());
            }
            for (Iterator<String> names = values.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!record.containsKey(name)) {
                    throw new ProofException("the record has a column the hash does not cover: " + name);
                }
            }
            JsonNode path = root.path("inclusion_path");
            if (!path.isArray()) {
                throw new ProofException("the proof has no inclusion_path array");
            }
            List<String> hashes = new ArrayList<>();
            for (JsonNode h : path) {
                if (!h.isTextual()) {
                    throw new ProofException("an inclusion_path element is not a hex string");
                }
                hashes.add(h.textValue());
            }
            return new Proof(record, text(root, "record_hash"), number(root, "leaf_index"), number(root, "tree_size"),
                    hashes, text(root, "checkpoint"));
        }

        private static String text(JsonNode root, String field) throws ProofException {
            JsonNode v = root.get(field);
            if (v == null || !v.isTextual()) {
                throw new ProofException("the proof's " + field + " is missing or not a string");
            }
            return v.textValue();
        }

        private static long number(JsonNode root, String field) throws ProofException {
            JsonNode v = root.get(field);
            if (v == null || !v.canConvertToExactIntegral() || !v.canConvertToLong()) {
                throw new ProofException("the proof's " + field + " is missing or not an integer");
            }
            return v.longValue();
        }

        @Override
        public String toString() {
            return "Proof[replica=" + record.get("replica") + ", seq=" + record.get("chain_seq") + ", treeSize="
                    + treeSize + "]";
        }
    }

    /** What a proof that holds establishes. No statement text or parameters: this is safe to print. */
    public record Proven(String replica, long seq, String kind, String time, String sessionId, String recordHash,
                         long checkpointSize, Instant checkpointTime, String rootHex, String keyId) {
    }

    private InclusionProofs() {
    }

    /**
     * Builds the proof that record {@code seq} of {@code replica} is in the log at the latest stored checkpoint.
     * {@code replica} may be null when the store holds one replica. Reads through its own read-only connection,
     * so it runs beside a live gateway or on a copy. Refuses to hand out a proof that would not check: the record
     * must match its hash and the records must match the checkpoint's root.
     */
    public static Proof prove(Path sqlite, String replica, long seq) throws ProofException, SQLException {
        if (!Files.isRegularFile(sqlite)) {
            throw new ProofException("no audit store at " + sqlite);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + sqlite.toAbsolutePath() + "?mode=ro")) {
            return prove(c, replica, seq);
        }
    }

    /** As {@link #prove(Path, String, long)}, over the store {@code config} names (SQLite or PostgreSQL). */
    public static Proof prove(AuditConfig config, String replica, long seq)
            throws ProofException, SQLException, IOException {
        if (config.postgres() == null) {
            return prove(config.sqlitePath(), replica, seq);
        }
        try (Connection c = PostgresSchema.connect(config.postgres())) {
            c.setReadOnly(true);
            return prove(c, replica, seq);
        }
    }

    /**
     * As {@link #prove(Path, String, long)}, over any store with the audit tables. After an archive cut the
     * records before it are gone: the tree up to the cut is the frontier kept in the store, and the path of a
     * record after the cut is built from it and the records that remain, so the proof checks against the same
     * signed checkpoint as if nothing had been archived. A record inside the archive is refused (its evidence is
     * the archive file and its checkpoint).
     */
    public static Proof prove(Connection c, String replica, long seq) throws ProofException, SQLException {
        if (seq < 1) {
            throw new ProofException("record numbers start at 1, not " + seq);
        }
        if (replica == null) {
            replica = onlyReplica(c);
        }
        AuditArchive.Cut cut = AuditArchive.cut(c, replica);
        long kept = cut == null ? 0 : cut.upToSeq();
        if (seq <= kept) {
            throw new ProofException("record " + seq + " of replica " + replica + " was archived (records 1 to "
                    + kept + " are in archive files, each with the signed checkpoint that covers it); `phigate"
                    + " audit verify` checks those files");
        }
        Map<String, String> record = record(c, replica, seq);
        Checkpoint cp = latestCheckpoint(c, replica, seq);
        List<byte[]> leaves = leaves(c, replica, kept, cp.treeSize());
        String stored = record.remove("hash");
        if (!RecordHash.hex(RecordHash.of(record.values().toArray(String[]::new))).equals(stored)) {
            throw new ProofException("record " + seq + " of replica " + replica + " does not match its stored"
                    + " hash: the store was edited; run `phigate audit verify`");
        }
        CompactRange tree = cut == null ? new CompactRange() : cut.tree();
        leaves.forEach(tree::append);
        if (!MessageDigest.isEqual(tree.root(), cp.root())) {
            throw new ProofException("records 1 to " + cp.treeSize() + " of replica " + replica + " do not match"
                    + " the checkpoint signed at " + cp.time() + ": the store was rewritten; run `phigate audit"
                    + " verify`");
        }
        InclusionProof proof = cut == null ? MerkleTree.inclusionProof(leaves, seq - 1, cp.treeSize())
                : MerkleTree.inclusionProof(kept, cut.frontier(), leaves, seq - 1, cp.treeSize());
        return new Proof(record, stored, seq - 1, cp.treeSize(),
                proof.path().stream().map(HEX::formatHex).toList(), cp.note());
    }

    /**
     * Checks a proof with nothing but the checkpoint public key: the checkpoint's signature, that the record's
     * values give its hash, and that its leaf hash leads along the path to the checkpoint's root.
     *
     * @return what the proof establishes
     * @throws ProofException naming the first check that failed
     */
    public static Proven check(Proof proof, PublicKey key) throws ProofException {
        Checkpoint cp;
        try {
            cp = Checkpoint.parse(proof.checkpoint());
        } catch (RuntimeException e) {
            throw new ProofException("the checkpoint is not a phigate checkpoint note (" + e.getMessage() + ")");
        }
        String givenKeyId;
        try {
            givenKeyId = CheckpointKeys.keyId(key);
        } catch (GeneralSecurityException e) {
            throw new ProofException("the public key cannot be used: " + e.getMessage());
        }
        if (!CheckpointKeys.verify(key, cp.body(), cp.signature())) {
            throw new ProofException(cp.keyId().equals(givenKeyId)
                    ? "the checkpoint's signature does not verify with key " + givenKeyId + ": the checkpoint was"
                            + " altered after signing, or forged"
                    : "the checkpoint names signing key " + cp.keyId() + " but the key given is " + givenKeyId
                            + ": it was signed by another key, or this is the wrong public key");
        }

        Map<String, String> record = proof.record();
        String replica = record.get("replica");
        long seq;
        try {
            seq = Long.parseLong(record.get("chain_seq"));
        } catch (NumberFormatException e) {
            throw new ProofException("the record's chain_seq is not a number");
        }
        if (!cp.replica().equals(replica)) {
            throw new ProofException("the record is from replica " + replica + " but the checkpoint is of replica "
                    + cp.replica());
        }
        if (proof.leafIndex() != seq - 1) {
            throw new ProofException("the proof is for leaf " + proof.leafIndex() + " but record " + seq + " is leaf "
                    + (seq - 1));
        }
        if (proof.treeSize() != cp.treeSize()) {
            throw new ProofException("the proof is for a tree of " + proof.treeSize() + " records but the checkpoint"
                    + " covers " + cp.treeSize());
        }

        byte[] recordHash = RecordHash.of(record.values().toArray(String[]::new));
        if (!RecordHash.hex(recordHash).equals(proof.recordHash())) {
            throw new ProofException("the record's values do not give its hash " + proof.recordHash()
                    + ": the record was edited");
        }

        List<byte[]> path = new ArrayList<>();
        for (int i = 0; i < proof.path().size(); i++) {
            try {
                path.add(HEX.parseHex(proof.path().get(i)));
            } catch (IllegalArgumentException e) {
                throw new ProofException("inclusion path element " + i + " is not hex");
            }
        }
        try {
            new InclusionProof(proof.leafIndex(), proof.treeSize(), path)
                    .verify(MerkleHash.leafHash(recordHash), cp.root());
        } catch (MerkleException e) {
            throw new ProofException("the inclusion path does not prove record " + seq + " is in the checkpoint"
                    + " (" + e.reason() + ": " + e.getMessage() + ")");
        }
        return new Proven(replica, seq, record.get("kind"), record.get("time"), record.get("session_id"),
                proof.recordHash(), cp.treeSize(), cp.time(), cp.rootHex(), cp.keyId());
    }

    /** Reads a proof file. */
    public static Proof read(Path file) throws IOException, ProofException {
        return Proof.fromJson(Files.readString(file, StandardCharsets.UTF_8));
    }

    private static String onlyReplica(Connection c) throws SQLException, ProofException {
        List<String> replicas = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement(
                "SELECT DISTINCT replica FROM audit_event WHERE replica IS NOT NULL ORDER BY replica");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                replicas.add(rs.getString(1));
            }
        }
        if (replicas.isEmpty()) {
            throw new ProofException("the store holds no chained records");
        }
        if (replicas.size() > 1) {
            throw new ProofException("the store holds the chains of replicas " + String.join(", ", replicas)
                    + "; say which with --replica");
        }
        return replicas.getFirst();
    }

    /** The record's hashed columns in {@link RecordHash#COLUMNS} order, then its stored {@code hash}. */
    private static Map<String, String> record(Connection c, String replica, long seq)
            throws SQLException, ProofException {
        try (PreparedStatement q = c.prepareStatement(
                "SELECT " + RecordHash.SELECT_LIST + ", hash FROM audit_event WHERE replica = ? AND chain_seq = ?")) {
            q.setString(1, replica);
            q.setLong(2, seq);
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    throw new ProofException("replica " + replica + " has no record " + seq
                            + " (it has " + count(c, replica) + ")");
                }
                Map<String, String> record = new LinkedHashMap<>();
                String[] values = RecordHash.valuesFrom(rs, 1);
                for (int i = 0; i < RecordHash.COLUMNS.length; i++) {
                    record.put(RecordHash.COLUMNS[i], values[i]);
                }
                record.put("hash", rs.getString(RecordHash.COLUMNS.length + 1));
                return record;
            }
        }
    }

    private static long count(Connection c, String replica) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT count(*) FROM audit_event WHERE replica = ?")) {
            q.setString(1, replica);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** The stored checkpoint with the largest tree size, which must reach {@code seq}. */
    private static Checkpoint latestCheckpoint(Connection c, String replica, long seq)
            throws SQLException, ProofException {
        try (PreparedStatement q = c.prepareStatement("SELECT note FROM audit_checkpoint WHERE replica = ?"
                + " ORDER BY tree_size DESC, id DESC LIMIT 1")) {
            q.setString(1, replica);
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    throw new ProofException("replica " + replica + " has no checkpoint yet (are audit.checkpoints"
                            + " configured?); wait for the first checkpoint");
                }
                Checkpoint cp = Checkpoint.parse(rs.getString(1));
                if (cp.treeSize() < seq) {
                    throw new ProofException("record " + seq + " is newer than the last checkpoint (size "
                            + cp.treeSize() + "); wait for the next checkpoint");
                }
                return cp;
            }
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().contains("no such table")) {
                throw new ProofException("the store has no checkpoints table: it predates signed checkpoints");
            }
            throw e;
        }
    }

    /** Leaf hashes of records {@code after}+1 to {@code size}, refusing a chain with a gap (a deleted record). */
    private static List<byte[]> leaves(Connection c, String replica, long after, long size)
            throws SQLException, ProofException {
        List<byte[]> leaves = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement("SELECT chain_seq, hash FROM audit_event WHERE replica = ?"
                + " AND chain_seq > ? AND chain_seq <= ? ORDER BY chain_seq")) {
            q.setString(1, replica);
            q.setLong(2, after);
            q.setLong(3, size);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    if (rs.getLong(1) != after + leaves.size() + 1) {
                        throw new ProofException("replica " + replica + " is missing record "
                                + (after + leaves.size() + 1) + ": the store was edited; run `phigate audit verify`");
                    }
                    leaves.add(MerkleHash.leafHash(HEX.parseHex(rs.getString(2))));
                }
            }
        }
        if (after + leaves.size() != size) {
            throw new ProofException("replica " + replica + " has " + (after + leaves.size()) + " records but its"
                    + " checkpoint covers " + size + ": the tail was cut off; run `phigate audit verify`");
        }
        return leaves;
    }

    /** Writes {@code proof} owner-only (0600): it carries PHI. Replaces an existing file. */
    public static void write(Proof proof, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        // Created empty and narrowed before any PHI is written, so no moment exists where others can read it.
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system; createTempFile already restricts what it can
            }
            Files.writeString(tmp, proof.toJson(), StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
