package io.phigate;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditStore;
import io.phigate.audit.AuditUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails closed when the SQLite audit file is deleted or replaced under the running gateway. SQLite keeps writing
 * to the open, now unlinked, file without an error, so every record from then on would be durable only until the
 * process exits: evidence that vanishes. The store's writer asks this guard before it writes each group of records
 * whether the path still names the file the store opened (same file key: device and inode); once it does not,
 * that group and every later append are refused with {@link AuditUnavailableException}, so statements get 58030
 * and nothing is forwarded. It does not recover by itself: a restart opens (or creates) the file at the path and
 * starts a new chain there, which is an operator's decision.
 *
 * <p>One {@code stat} per group on the writer thread, not one per statement on the session threads (decision
 * 0062): the check runs after every record of the group was queued, so a record queued after the file went away
 * is never acknowledged, which the check before each append could not promise either (the file could go between
 * the check and the write). Sessions read only the flag.
 */
final class AuditFileGuard implements AuditSink {
    private static final Logger log = LoggerFactory.getLogger(AuditFileGuard.class);

    private final AuditSink store;
    private final Path file;
    private final Object fileKey;
    private volatile String lost;

    AuditFileGuard(AuditStore store, Path file) throws IOException {
        this.store = store;
        this.file = file;
        this.fileKey = key(file);
        store.checkEachGroup(this::problem);
    }

    private static Object key(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** Why every append is refused (the file is gone or replaced), or null while it is the file the store opened. */
    String lost() {
        return problem();
    }

    /** Looks at the path (the writer, once per group; the readiness probe); the reason sticks once found. */
    private String problem() {
        if (lost == null) {
            Object now;
            try {
                now = key(file);
            } catch (IOException e) {
                now = null;
            }
            if (!Objects.equals(now, fileKey)) {
                lost = "the audit file " + file + " was " + (now == null ? "deleted" : "replaced")
                        + " under the running gateway; restart phigate to open it again";
                log.error("{}: refusing all statements", lost);
            }
        }
        return lost;
    }

    @Override
    public CompletableFuture<Void> append(List<AuditEvent> events) {
        String reason = lost;
        return reason != null ? CompletableFuture.failedFuture(new AuditUnavailableException(reason))
                : store.append(events);
    }

    @Override
    public void appendUnobserved(List<AuditEvent> events) {
        if (lost == null) {
            store.appendUnobserved(events);
        }
    }

    @Override
    public CompletableFuture<Void> appendAwaited(List<AuditEvent> events) {
        String reason = lost;
        return reason != null ? CompletableFuture.failedFuture(new AuditUnavailableException(reason))
                : store.appendAwaited(events);
    }

    @Override
    public void appendDurably(List<AuditEvent> events) throws AuditUnavailableException {
        String reason = lost;
        if (reason != null) {
            throw new AuditUnavailableException(reason);
        }
        store.appendDurably(events);
    }

    @Override
    public boolean awaitStored(java.time.Duration timeout) {
        return store.awaitStored(timeout);
    }

    @Override
    public void close() {
        store.close();
    }
}
