package io.phigate;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
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
 * process exits: evidence that vanishes. Before each append this checks that the path still names the file the
 * store opened (same file key: device and inode), and once it does not, refuses every append with
 * {@link AuditUnavailableException}, so statements get 58030 and nothing is forwarded. It does not recover by
 * itself: a restart opens (or creates) the file at the path and starts a new chain there, which is an operator's
 * decision.
 *
 * <p>Called from session threads; the check is one {@code stat} per record a statement waits for.
 */
final class AuditFileGuard implements AuditSink {
    private static final Logger log = LoggerFactory.getLogger(AuditFileGuard.class);

    private final AuditSink store;
    private final Path file;
    private final Object fileKey;
    private volatile String lost;

    AuditFileGuard(AuditSink store, Path file) throws IOException {
        this.store = store;
        this.file = file;
        this.fileKey = key(file);
    }

    private static Object key(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** Why every append is refused (the file is gone or replaced), or null while it is the file the store opened. */
    String lost() {
        try {
            check();
            return null;
        } catch (AuditUnavailableException e) {
            return e.getMessage();
        }
    }

    private void check() throws AuditUnavailableException {
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
        if (lost != null) {
            throw new AuditUnavailableException(lost);
        }
    }

    @Override
    public CompletableFuture<Void> append(List<AuditEvent> events) {
        try {
            check();
        } catch (AuditUnavailableException e) {
            return CompletableFuture.failedFuture(e);
        }
        return store.append(events);
    }

    /**
     * Only the flag, not the file: nothing waits on these records, and the statement they belong to was checked
     * on its way in (a stat per statement, not two).
     */
    @Override
    public void appendUnobserved(List<AuditEvent> events) {
        if (lost == null) {
            store.appendUnobserved(events);
        }
    }

    @Override
    public void appendDurably(List<AuditEvent> events) throws AuditUnavailableException {
        check();
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
