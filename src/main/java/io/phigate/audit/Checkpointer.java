package io.phigate.audit;

import io.phigate.audit.merkle.CompactRange;
import io.phigate.audit.merkle.MerkleHash;
import io.phigate.audit.AuditConfig.CheckpointConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the replica's RFC 9162 Merkle tree over its record hashes and, every {@code every} records or
 * {@code interval}, signs a {@link Checkpoint}: stored in the audit store and appended (fsync'd) to the checkpoint
 * file that operators ship to write-once storage. A checkpoint that reaches the file outside the store is what
 * makes a recomputed chain, a truncated tail or a forged record detectable.
 *
 * <p>Runs on the audit writer thread only.
 */
final class Checkpointer implements AuditWriter.CommitListener {
    private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);

    private final String replica;
    private final CheckpointConfig config;
    private final PrivateKey key;
    private final String keyId;
    private CompactRange tree = new CompactRange();
    private final CheckpointWitness witness;
    private long checkpointedSize;
    private long lastCheckpointNanos = System.nanoTime();
    private boolean loaded;

    Checkpointer(String replica, CheckpointConfig config) throws IOException, GeneralSecurityException {
        this.replica = replica;
        this.config = config;
        this.key = CheckpointKeys.readPrivate(config.keyFile());
        Path pub = CheckpointKeys.publicFile(config.keyFile());
        PublicKey publicKey = CheckpointKeys.readPublic(pub);
        // Fail at start, not at the first checkpoint, if the two files are not a pair.
        byte[] probe = "phigate key check".getBytes(StandardCharsets.US_ASCII);
        if (!CheckpointKeys.verify(publicKey, probe, CheckpointKeys.sign(key, probe))) {
            throw new GeneralSecurityException(pub + " is not the public half of " + config.keyFile());
        }
        this.keyId = CheckpointKeys.keyId(publicKey);
        this.witness = config.witnessUrl() == null ? null : new CheckpointWitness(config.witnessUrl());
    }

    static void createSchema(Statement s) throws SQLException {
        s.execute("""
                CREATE TABLE IF NOT EXISTS audit_checkpoint (
                    id        INTEGER PRIMARY KEY AUTOINCREMENT,
                    replica   TEXT NOT NULL,
                    tree_size INTEGER NOT NULL,
                    root_hash TEXT NOT NULL,
                    time      TEXT NOT NULL,
                    key_id    TEXT NOT NULL,
                    note      TEXT NOT NULL
                )""");
    }

    /** Rebuilds the tree from the replica's records in the store, after the frontier of any archived ones. */
    private void load(Connection c) throws SQLException {
        AuditArchive.Cut cut = AuditArchive.cut(c, replica);
        tree = cut == null ? new CompactRange() : cut.tree();
        try (PreparedStatement q = c.prepareStatement(
                "SELECT hash FROM audit_event WHERE replica = ? AND chain_seq > ? ORDER BY chain_seq")) {
            q.setString(1, replica);
            q.setLong(2, cut == null ? 0 : cut.upToSeq());
            try (ResultSet rs = q.executeQuery()) {
                HexFormat hex = HexFormat.of();
                while (rs.next()) {
                    tree.append(MerkleHash.leafHash(hex.parseHex(rs.getString(1))));
                }
            }
        }
        try (PreparedStatement q = c.prepareStatement(
                "SELECT max(tree_size) FROM audit_checkpoint WHERE replica = ?")) {
            q.setString(1, replica);
            try (ResultSet rs = q.executeQuery()) {
                checkpointedSize = rs.next() ? rs.getLong(1) : 0;
            }
        }
        loaded = true;
    }

    @Override
    public void opened(Connection c) throws SQLException {
        if (!loaded) {
            load(c);
        }
    }

    @Override
    public void committed(Connection c, long firstSeq, List<byte[]> hashes) {
        // Checked per record: with the journal a commit can hold thousands of records (decision 0021), and a
        // checkpoint lands at every `every` records wherever the commits fall. One failure is enough per commit.
        boolean failed = false;
        for (byte[] h : hashes) {
            tree.append(MerkleHash.leafHash(h));
            if (!failed && tree.size() - checkpointedSize >= config.everyRecords()) {
                failed = !checkpoint(c);
            }
        }
    }

    @Override
    public void idle(Connection c) {
        if (tree.size() > checkpointedSize && System.nanoTime() - lastCheckpointNanos >= config.interval().toNanos()) {
            checkpoint(c);
        }
    }

    @Override
    public long idleWaitMillis() {
        return Math.max(10, config.interval().toMillis());
    }

    private boolean checkpoint(Connection c) {
        long size = tree.size();
        byte[] root = tree.root();
        Instant now = Instant.now();
        try {
            byte[] signature = CheckpointKeys.sign(key, Checkpoint.body(replica, size, root, now));
            Checkpoint cp = new Checkpoint(replica, size, root, now, keyId, signature);
            appendToFile(cp.note());
            if (config.witnessUrl() != null) {
                witness.send(cp);
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO audit_checkpoint (replica, tree_size,"
                    + " root_hash, time, key_id, note) VALUES (?, ?, ?, ?, ?, ?)")) {
                ins.setString(1, replica);
                ins.setLong(2, size);
                ins.setString(3, cp.rootHex());
                ins.setString(4, now.toString());
                ins.setString(5, keyId);
                ins.setString(6, cp.note());
                ins.executeUpdate();
            }
            checkpointedSize = size;
            lastCheckpointNanos = System.nanoTime();
            return true;
        } catch (IOException | SQLException | GeneralSecurityException e) {
            // The records themselves are durable; the next commit or idle tick tries the checkpoint again.
            log.warn("audit checkpoint at size {} failed: {}", size, e.toString());
            return false;
        }
    }

    private void appendToFile(String note) throws IOException {
        Path file = config.file();
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap((note + "\n").getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
    }
}
