package io.phigate.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The audit store. {@code store} is the URI as written ({@code sqlite:PATH}); {@code sqlitePath} is that path
 * resolved against the config file's folder. {@code writeTimeout} bounds how long a statement waits for its
 * record to become durable before it is refused; {@code queueCapacity} bounds records waiting for the writer.
 * {@code replica} names this gateway's own hash chain; {@code checkpoints} is null when signed checkpoints are off.
 */
public record AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout,
                          String replica, CheckpointConfig checkpoints) {

    public static final String DEFAULT_REPLICA = "local";

    /** A store with the default replica name and no checkpoints. */
    public AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout) {
        this(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, DEFAULT_REPLICA, null);
    }

    public AuditConfig withCheckpoints(CheckpointConfig c) {
        return new AuditConfig(store, sqlitePath, queueCapacity, writeTimeout, busyTimeout, replica, c);
    }

    /**
     * Signed checkpoints of the audit log's Merkle tree: after {@code everyRecords} records or {@code interval},
     * whichever comes first, the gateway signs (tree size, root hash, time) with {@code keyFile} (an Ed25519 or
     * ECDSA P-256 private key, PEM PKCS#8), stores it, and appends it to {@code file} for shipping to write-once
     * storage.
     */
    public record CheckpointConfig(Path keyFile, Path file, int everyRecords, Duration interval) {
    }
}
