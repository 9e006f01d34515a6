package io.phigate.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The audit store. {@code store} is the URI as written ({@code sqlite:PATH}); {@code sqlitePath} is that path
 * resolved against the config file's folder. {@code writeTimeout} bounds how long a statement waits for its
 * record to become durable before it is refused; {@code queueCapacity} bounds records waiting for the writer.
 */
public record AuditConfig(String store, Path sqlitePath, int queueCapacity, Duration writeTimeout, Duration busyTimeout) {
}
