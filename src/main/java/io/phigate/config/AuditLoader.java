package io.phigate.config;

import io.phigate.audit.AuditConfig;
import io.phigate.mask.SecretRef;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/** The {@code audit} section: where records are stored, how they are queued, checkpointed, sealed and journalled. */
final class AuditLoader {
    private static final int DEFAULT_QUEUE_CAPACITY = 65536;
    private static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(2);
    private static final int DEFAULT_CHECKPOINT_EVERY = 1000;
    private static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(30);

    static final List<String> AUDIT_KEYS = List.of("store", "queue_capacity", "queue_bytes", "write_timeout", "busy_timeout",
            "replica", "checkpoints", "record_responses", "response_cap", "encryption", "password_env", "password_file", "retention",
            "journal", "journal_dir", "journal_max_bytes", "async_linger", "replica_env");
    private static final List<String> ENCRYPTION_KEYS = List.of("key_id", "key_file", "key_env", "previous");
    private static final List<String> CHECKPOINT_KEYS = List.of("key_file", "file", "every", "interval", "witness_url");

    private AuditLoader() {
    }

    /** The {@code audit} section, or null when it is absent (the root reports it missing). */
    static AuditConfig audit(Section s) {
        if (s == null) {
            return null;
        }
        String store = s.string("store", true, null);
        Path sqlitePath = null;
        AuditConfig.Postgres postgres = null;
        if (store != null) {
            try {
                if (isPostgres(store)) {
                    postgres = postgres(store);
                } else {
                    sqlitePath = sqlitePath(s, store);
                }
            } catch (IllegalArgumentException e) {
                s.problem("store", e.getMessage());
            }
        }
        if (store != null && isPostgres(store)) {
            SecretRef password = s.password();
            if (postgres != null) {
                postgres = password == null ? null : new AuditConfig.Postgres(postgres.host(), postgres.port(),
                        postgres.database(), postgres.user(), password);
            }
        } else {
            for (String key : List.of("password_env", "password_file")) {
                if (s.has(key)) {
                    s.problem(key, "only a postgres:// store has a password");
                }
            }
        }
        int capacity = ConfigLoader.orZero(s.integer("queue_capacity", DEFAULT_QUEUE_CAPACITY, 1, Integer.MAX_VALUE));
        Long queueBytes = s.scalar("queue_bytes", false, (long) AuditConfig.DEFAULT_QUEUE_BYTES, "a size", text -> {
            long n = Units.size(text);
            if (n < 1024 * 1024 || n > 1L << 30) {
                throw new IllegalArgumentException("must be from 1MiB to 1GiB, got " + Units.formatSize(n));
            }
            return n;
        });
        Duration write = s.duration("write_timeout", DEFAULT_WRITE_TIMEOUT, true);
        Duration busy = s.duration("busy_timeout", DEFAULT_BUSY_TIMEOUT, true);
        String replica = s.string("replica", false, AuditConfig.DEFAULT_REPLICA);
        if (s.has("replica_env")) {
            // One config for every pod of a Deployment: each takes its chain's name from its own environment
            // (the downward API's pod name), read when the config is loaded.
            String variable = s.string("replica_env", false, null);
            if (s.has("replica")) {
                s.problem("replica_env", "set only one of replica or replica_env");
            } else if (variable != null && System.getenv(variable) == null) {
                s.problem("replica_env", "environment variable " + variable + " is not set (in Kubernetes, set it"
                        + " from the pod name with the downward API: fieldRef metadata.name)");
            } else if (variable != null) {
                replica = System.getenv(variable);
            }
        }
        if (replica != null && !replica.matches("[A-Za-z0-9._:-]{1,128}")) {
            s.problem("replica", "expected 1 to 128 letters, digits, '.', '_', ':' or '-', got " + YamlNode.quote(replica));
        }
        AuditConfig.CheckpointConfig checkpoints = checkpoints(s.section("checkpoints", false, CHECKPOINT_KEYS),
                sqlitePath, postgres);
        Boolean record = s.bool("record_responses", true);
        Long cap = s.scalar("response_cap", false, (long) AuditConfig.DEFAULT_RESPONSE_CAP, "a size", text -> {
            long n = Units.size(text);
            if (n > 1L << 30) {
                throw new IllegalArgumentException("must be at most 1GiB, got " + Units.formatSize(n));
            }
            return n;
        });
        AuditConfig.Encryption encryption = encryption(s.section("encryption", false, ENCRYPTION_KEYS));
        // On by default for SQLite (beside the file); for PostgreSQL only when asked for, with a folder named:
        // a shared store's durability is what the operator chose, and a gateway's local disk may not match it.
        Path journalDir = s.path("journal_dir", false);
        Boolean journal = s.bool("journal", postgres == null || journalDir != null);
        if (Boolean.TRUE.equals(journal) && journalDir == null) {
            if (sqlitePath != null) {
                journalDir = AuditConfig.defaultJournalDir(sqlitePath, replica);
            } else if (postgres != null) {
                s.problem("journal", "with a postgres:// store the journal needs journal_dir (a folder on a disk "
                        + "that outlives the gateway)");
            }
        }
        if (Boolean.FALSE.equals(journal)) {
            journalDir = null;
        }
        Long journalMax = s.scalar("journal_max_bytes", false, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES, "a size", text -> {
            long n = Units.size(text);
            if (n < 1024 * 1024) {
                throw new IllegalArgumentException("must be at least 1MiB, got " + Units.formatSize(n));
            }
            return n;
        });
        Duration linger = s.scalar("async_linger", false, AuditConfig.DEFAULT_ASYNC_LINGER, "a duration", text -> {
            Duration d = Units.duration(text);
            if (d.compareTo(Duration.ofSeconds(1)) > 0) {
                // Past a second the records a crash can lose stop being "in flight" and start being a backlog.
                throw new IllegalArgumentException("must be at most 1s, got " + text.strip());
            }
            return d;
        });
        return new AuditConfig(store, sqlitePath, capacity, write, busy, replica, checkpoints,
                Boolean.FALSE.equals(record) || cap == null ? 0 : (int) (long) cap, postgres, encryption,
                s.duration("retention", AuditConfig.DEFAULT_RETENTION, true),
                queueBytes == null ? AuditConfig.DEFAULT_QUEUE_BYTES : (int) (long) queueBytes, journalDir,
                journalMax == null ? AuditConfig.DEFAULT_JOURNAL_MAX_BYTES : journalMax,
                linger == null ? AuditConfig.DEFAULT_ASYNC_LINGER : linger);
    }

    /** {@code audit.checkpoints}, null when absent: the file defaults to one beside an SQLite store. */
    private static AuditConfig.CheckpointConfig checkpoints(Section c, Path sqlitePath, AuditConfig.Postgres postgres) {
        if (c == null) {
            return null;
        }
        Path key = c.existingFile("key_file");
        Path file = c.path("file", false);
        if (file == null && sqlitePath != null) {
            file = sqlitePath.resolveSibling(sqlitePath.getFileName() + ".checkpoints");
        }
        if (file == null && postgres != null) {
            c.problem("file", "is required with a postgres:// store (there is no store file to put it beside)");
        }
        int every = ConfigLoader.orZero(c.integer("every", DEFAULT_CHECKPOINT_EVERY, 1, Integer.MAX_VALUE));
        Duration interval = c.duration("interval", DEFAULT_CHECKPOINT_INTERVAL, true);
        java.net.URI witness = null;
        String witnessText = c.string("witness_url", false, null);
        if (witnessText != null) {
            try {
                witness = java.net.URI.create(witnessText);
                if (!"https".equals(witness.getScheme()) && !"http".equals(witness.getScheme())) {
                    c.problem("witness_url", "expected an http(s) URL, got " + YamlNode.quote(witnessText));
                }
            } catch (IllegalArgumentException e) {
                c.problem("witness_url", "not a URL: " + YamlNode.quote(witnessText));
            }
        }
        return new AuditConfig.CheckpointConfig(key, file, every, interval, witness);
    }

    /** {@code audit.encryption}, null when absent or when its key is not named exactly once. */
    private static AuditConfig.Encryption encryption(Section e) {
        if (e == null) {
            return null;
        }
        String keyId = e.string("key_id", true, null);
        Path keyFile = e.path("key_file", false);
        String keyEnv = e.string("key_env", false, null);
        if ((keyFile == null) == (keyEnv == null)) {
            e.problem("key_file", "give exactly one of key_file or key_env");
        }
        java.util.Map<String, SecretRef> previous = new java.util.LinkedHashMap<>();
        Section prev = e.section("previous", false, null);
        if (prev != null) {
            for (String id : prev.keys()) {
                Path p = prev.path(id, true);
                if (p != null) {
                    previous.put(id, new SecretRef(null, p));
                }
            }
        }
        if (keyId != null && (keyFile != null) != (keyEnv != null)) {
            return new AuditConfig.Encryption(keyId, new SecretRef(keyEnv, keyFile), java.util.Map.copyOf(previous));
        }
        return null;
    }

    private static boolean isPostgres(String store) {
        String lower = store.toLowerCase(Locale.ROOT);
        return lower.startsWith("postgres://") || lower.startsWith("postgresql://");
    }

    /** {@code postgres://user@host:port/db}; the password is never part of it (password_env or password_file). */
    private static AuditConfig.Postgres postgres(String store) {
        java.net.URI uri;
        try {
            uri = new java.net.URI(store);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("expected postgres://user@host:port/database, got an invalid URI");
        }
        String user = uri.getRawUserInfo();
        if (user != null && user.contains(":")) {
            // Not quoted back: the text after the colon is a password.
            throw new IllegalArgumentException("a password does not belong in the store URI; use password_env or password_file");
        }
        if (user == null || user.isEmpty() || uri.getHost() == null) {
            // Not quoted back: a malformed URI may still hold a password.
            throw new IllegalArgumentException("expected postgres://user@host:port/database");
        }
        String path = uri.getPath();
        if (path == null || path.length() < 2 || path.indexOf('/', 1) >= 0) {
            throw new IllegalArgumentException("expected a database name after the host, like postgres://user@host:5432/phigate");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("the store URI takes no ?options or #fragment");
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
        return new AuditConfig.Postgres(host, uri.getPort() == -1 ? 5432 : uri.getPort(),
                java.net.URLDecoder.decode(path.substring(1), java.nio.charset.StandardCharsets.UTF_8),
                java.net.URLDecoder.decode(user, java.nio.charset.StandardCharsets.UTF_8), null);
    }

    private static Path sqlitePath(Section s, String store) {
        String lower = store.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("sqlite:")) {
            throw new IllegalArgumentException("expected sqlite:PATH or postgres://user@host:port/database, got " + YamlNode.quote(store));
        }
        String path = store.substring("sqlite:".length());
        if (path.isBlank()) {
            throw new IllegalArgumentException("sqlite: needs a file path, like sqlite:audit.db");
        }
        return s.resolve(path);
    }
}
