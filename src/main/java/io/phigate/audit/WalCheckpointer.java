package io.phigate.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * Copies the SQLite store's write-ahead log back into the database file from its own thread,
 * {@code phigate-audit-wal}, so that the writer's commits never carry a checkpoint. Left to SQLite, the commit
 * that crosses 1,000 WAL pages runs the checkpoint itself: it writes the pages back and fsyncs the database file
 * while the sessions of that group wait. Here a PASSIVE checkpoint runs every {@link #PERIOD} when something was
 * committed; it takes no lock the writer needs, so commits go on meanwhile.
 *
 * <p>The writer keeps an automatic checkpoint at {@link #WRITER_FALLBACK_PAGES} in case this thread falls
 * behind, so the log stays bounded either way. Durability does not depend on this class: a commit is durable once
 * the WAL is fsync'd (synchronous=FULL); checkpoints only keep the WAL short.
 */
final class WalCheckpointer implements Runnable, AutoCloseable {

    /** The writer's own automatic checkpoint threshold (SQLite's default is 1,000): a safety net, not the rule. */
    static final int WRITER_FALLBACK_PAGES = 16_000;
    static final Duration PERIOD = Duration.ofMillis(250);

    private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);

    private final Path path;
    private final Duration busyTimeout;
    private final LongAdder commits;
    private final Thread thread;
    private volatile boolean stopping;
    final LongAdder checkpoints = new LongAdder();

    WalCheckpointer(Path path, Duration busyTimeout, LongAdder commits) {
        this.path = path;
        this.busyTimeout = busyTimeout;
        this.commits = commits;
        // A platform thread for the same reason as the writer: it sits in native SQLite code and fsync.
        this.thread = Thread.ofPlatform().name("phigate-audit-wal").daemon(true).unstarted(this);
    }

    WalCheckpointer start() {
        thread.start();
        return this;
    }

    @Override
    public void run() {
        long seen = commits.sum();
        boolean warned = false;
        while (!stopping) {
            try {
                Thread.sleep(PERIOD);
            } catch (InterruptedException e) {
                break;
            }
            long now = commits.sum();
            if (now == seen) {
                continue;
            }
            seen = now;
            try {
                checkpoint();
                checkpoints.increment();
                warned = false;
            } catch (SQLException e) {
                // Harmless for the records (they are durable in the WAL); the writer's fallback bounds the log.
                if (!warned) {
                    log.warn("audit store sqlite:{} background WAL checkpoint failed: {}", path.toAbsolutePath(),
                            AuditWriter.reason(e));
                    warned = true;
                }
            }
        }
    }

    /** One PASSIVE checkpoint on a short-lived connection, so a replaced or deleted file is never held open. */
    private void checkpoint() throws SQLException {
        if (!Files.exists(path)) {
            return; // the writer notices and starts a new file; opening here must not create one first
        }
        var config = new SQLiteConfig();
        config.resetOpenMode(SQLiteOpenMode.CREATE);
        config.setBusyTimeout(Math.toIntExact(busyTimeout.toMillis()));
        // FULL: the checkpoint fsyncs the WAL before copying and the database file after.
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        try (Connection c = config.createConnection("jdbc:sqlite:" + path.toAbsolutePath());
             Statement s = c.createStatement()) {
            s.execute("PRAGMA wal_checkpoint(PASSIVE)");
        }
    }

    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(busyTimeout.plusSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
