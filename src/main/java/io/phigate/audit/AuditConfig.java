package io.phigate.audit;

import io.phigate.mask.SecretRef;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The audit store. {@code store} is the URI as written ({@code sqlite:PATH} or {@code postgres://user@host:port/db});
 * for SQLite {@code sqlitePath} is that path resolved against the config file's folder, for PostgreSQL
 * {@code postgres} says where and as whom (exactly one of the two is set). {@code writeTimeout} bounds how long a statement waits for its
 * record to become durable before it is refused; {@code queueCapacity} bounds records waiting for the writer.
 * {@code replica} names this gateway's own hash chain; {@code checkpoints} is null when signed checkpoints are off.
 * {@code retention} is how long records must be kept before {@code phigate audit archive} may remove them.
 * {@code queueBytes} bounds the memory held by records waiting for the writer (recorded responses make some large).
 * {@code journalDir} is the write-ahead journal's folder, the durable point a statement waits for (decision 0021),
 * or null to commit each group straight into the store as before; {@code journalMaxBytes} bounds what the journal
 * may hold that the store has not taken yet. {@code asyncLinger} is how long a group of records no statement waits
 * for (completions, session ends) may wait for one that a statement does wait for, so that both share one fsync.
 */
public record AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                          String replica, CheckpointConfig checkpoints, int responseCap, Postgres postgres,
                          Encryption encryption, Duration retention, int queueBytes, Path journalDir,
                          long journalMaxBytes, Duration asyncLinger) {

    public static final String DEFAULT_REPLICA = "local";
    /** Bytes of each response kept (deflated) in the record; 0 turns response recording off. */
    public static final int DEFAULT_RESPONSE_CAP = 8 * 1024 * 1024;
    /** How long records are kept before they may be archived and removed: six years (HIPAA, 45 CFR 164.316). */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(2192);
    /** Bytes of records (rendered rows and recorded responses) that may wait for the writer at once. */
    public static final int DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;
    /** Journal bytes the store may lag behind before statements are refused: a store outage of minutes at full rate. */
    public static final long DEFAULT_JOURNAL_MAX_BYTES = 1L << 30;
    /**
     * A statement's completion record lingers this long for the next statement's request, which usually follows
     * within a client round trip: one fsync per statement instead of two (docs/performance.md).
     */
    public static final Duration DEFAULT_ASYNC_LINGER = Duration.ofMillis(5);

    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints, int responseCap, Postgres postgres,
                       Encryption encryption, Duration retention, int queueBytes, Path journalDir,
                       long journalMaxBytes) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, responseCap, postgres,
                encryption, retention, queueBytes, journalDir, journalMaxBytes, DEFAULT_ASYNC_LINGER);
    }

    /**
     * The journal on by default for SQLite, in a folder beside the file; off by default for PostgreSQL (a shared
     * store is chosen for a durability a gateway's local disk may not have; decision 0021).
     */
    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints, int responseCap, Postgres postgres,
                       Encryption encryption, Duration retention, int queueBytes) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, responseCap, postgres,
                encryption, retention, queueBytes, postgres == null ? defaultJournalDir(sqlitePath, replica) : null,
                DEFAULT_JOURNAL_MAX_BYTES);
    }

    /**
     * Replica {@code local} of {@code audit.db} journals into {@code audit.db.journal/local/}: one folder per
     * replica, since replicas may share one SQLite file and each journal belongs to one writer.
     */
    public static Path defaultJournalDir(Path sqlitePath, String replica) {
        return sqlitePath == null ? null : sqlitePath.resolveSibling(sqlitePath.getFileName() + ".journal")
                .resolve(replica == null ? DEFAULT_REPLICA : replica);
    }

    /** A store with the default replica name, no checkpoints and the default response cap. */
    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, DEFAULT_REPLICA, null, DEFAULT_RESPONSE_CAP);
    }

    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, DEFAULT_RESPONSE_CAP);
    }

    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints, int responseCap) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, responseCap, null, null);
    }

    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints, int responseCap, Postgres postgres) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, responseCap, postgres, null);
    }

    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints, int responseCap, Postgres postgres,
                       Encryption encryption) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, responseCap, postgres,
                encryption, DEFAULT_RETENTION);
    }

    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                       String replica, CheckpointConfig checkpoints, int responseCap, Postgres postgres,
                       Encryption encryption, Duration retention) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, responseCap, postgres,
                encryption, retention, DEFAULT_QUEUE_BYTES);
    }

    public AuditConfig withCheckpoints(CheckpointConfig c) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, c, responseCap,
                postgres, encryption, retention, queueBytes, journalDir, journalMaxBytes, asyncLinger);
    }

    public AuditConfig withResponseCap(int cap) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints, cap,
                postgres, encryption, retention, queueBytes, journalDir, journalMaxBytes, asyncLinger);
    }

    public AuditConfig withReplica(String r) {
        // A journal in the default place follows the replica into its own folder.
        Path journal = journalDir != null && journalDir.equals(defaultJournalDir(sqlitePath, replica))
                ? defaultJournalDir(sqlitePath, r) : journalDir;
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, r, checkpoints, responseCap,
                postgres, encryption, retention, queueBytes, journal, journalMaxBytes, asyncLinger);
    }

    public AuditConfig withEncryption(Encryption e) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints,
                responseCap, postgres, e, retention, queueBytes, journalDir, journalMaxBytes, asyncLinger);
    }

    public AuditConfig withRetention(Duration r) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints,
                responseCap, postgres, encryption, r, queueBytes, journalDir, journalMaxBytes, asyncLinger);
    }

    public AuditConfig withQueueBytes(int bytes) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints,
                responseCap, postgres, encryption, retention, bytes, journalDir, journalMaxBytes, asyncLinger);
    }

    /** The same store with the journal in {@code dir} (null: no journal) bounded by {@code maxBytes}. */
    public AuditConfig withJournal(Path dir, long maxBytes) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints,
                responseCap, postgres, encryption, retention, queueBytes, dir, maxBytes, asyncLinger);
    }

    /** The same store with {@code linger} as {@link #asyncLinger()} (zero: every group is written at once). */
    public AuditConfig withAsyncLinger(Duration linger) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, checkpoints,
                responseCap, postgres, encryption, retention, queueBytes, journalDir, journalMaxBytes, linger);
    }

    /** A PostgreSQL store: the server, the database and the role the writer logs in as. */
    public record Postgres(String host, int port, String database, String user, SecretRef password) {
        public String jdbcUrl() {
            return "jdbc:postgresql://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + database;
        }
    }

    /**
     * Encryption of recorded payloads at rest: new values are sealed with {@code keyId}'s key; {@code previous}
     * keys (by id) are kept only to open older records after a rotation.
     */
    public record Encryption(String keyId, SecretRef key, java.util.Map<String, SecretRef> previous) {
    }

    /**
     * Signed checkpoints of the audit log's Merkle tree: after {@code everyRecords} records or {@code interval},
     * whichever comes first, the gateway signs (tree size, root hash, time) with {@code keyFile} (an Ed25519 or
     * ECDSA P-256 private key, PEM PKCS#8), stores it, and appends it to {@code file} for shipping to write-once
     * storage, and, when {@code witnessUrl} is set, POSTs each note there (a witness keeps its own copy).
     */
    public record CheckpointConfig(Path keyFile, Path file, int everyRecords, Duration interval, java.net.URI witnessUrl) {
        public CheckpointConfig(Path keyFile, Path file, int everyRecords, Duration interval) {
            this(keyFile, file, everyRecords, interval, null);
        }
    }
}
