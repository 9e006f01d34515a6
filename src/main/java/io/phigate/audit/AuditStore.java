package io.phigate.audit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable audit store: one SQLite file in WAL mode with {@code synchronous=FULL} ({@link SqliteSchema}) or a
 * PostgreSQL database with synchronous commit ({@link PostgresSchema}), written by one background thread
 * ({@link AuditWriter}) that commits everything queued at once, so concurrent sessions share each fsync. Fails closed: when the file cannot be written, appends fail with {@link AuditUnavailableException}
 * and the statements they guard are refused; writing resumes by itself when the cause clears.
 *
 * <p>At most {@code queueCapacity} events are accepted and not yet written; beyond that an append is refused at
 * once rather than waiting. At most {@code queueBytes} of them are held in memory (a recorded response can be
 * megabytes): beyond that an append waits for the writer to make room, at most the write timeout, and is then refused
 * and logged. Safe for any number of threads.
 */
public final class AuditStore implements AuditSink {

    /**
     * Counters for metrics and tests. {@code commits} counts groups written, {@code failures} groups refused by
     * the store, {@code refusals} appends refused because the queue was full or the store closed.
     */
    public record Stats(long eventsWritten, long commits, long failures, long refusals) {
    }

    private static final Logger log = LoggerFactory.getLogger(AuditStore.class);
    private static final Executor CALLBACKS = task -> Thread.ofVirtual().name("phigate-audit-callback").start(task);

    private final String store;
    /** Null when payloads are stored in the clear. */
    private final PayloadCipher cipher;
    private final int capacity;
    private final Duration writeTimeout;
    private final Duration closeTimeout;
    private final LinkedBlockingQueue<AuditWriter.Batch> queue = new LinkedBlockingQueue<>();
    private final Semaphore room;
    private final int capacityBytes;
    private final Semaphore roomBytes;
    private final AuditWriter writer;
    /** The journal, its writer and its ingester; all null when the store is written directly. */
    private final AuditJournal journal;
    private final JournalWriter journalWriter;
    private final JournalIngester ingester;
    private final Thread thread;
    /** Null for a PostgreSQL store. */
    private final WalCheckpointer walCheckpointer;
    private final LongAdder refusals = new LongAdder();
    private final Object enqueueLock = new Object();
    private boolean closed; // guarded by enqueueLock

    /**
     * Opens the store named by the config (creating the SQLite file and its folder, or the PostgreSQL schema when
     * the role may), and starts the writer thread.
     */
    public AuditStore(AuditConfig config) throws AuditUnavailableException {
        this(config, AuditJournal.SEGMENT_BYTES);
    }

    /** With journal segments of another size than the default (tests that cross segments). */
    AuditStore(AuditConfig config, long journalSegmentBytes) throws AuditUnavailableException {
        this.store = config.postgres() != null
                ? "postgres://" + config.postgres().user() + "@" + config.postgres().host() + ":"
                        + config.postgres().port() + "/" + config.postgres().database()
                : "sqlite:" + config.sqlitePath().toAbsolutePath();
        try {
            this.cipher = config.encryption() == null ? null : PayloadCipher.from(config.encryption());
        } catch (IOException e) {
            // Refuse to start rather than store PHI in the clear that the operator asked to have encrypted.
            throw new AuditUnavailableException("audit encryption key cannot be used: " + e.getMessage(), e);
        }
        if (config.queueCapacity() < 1) {
            throw new IllegalArgumentException("audit queue capacity must be at least 1: " + config.queueCapacity());
        }
        if (config.writeTimeout().isNegative() || config.writeTimeout().isZero()) {
            throw new IllegalArgumentException("audit write timeout must be positive: " + config.writeTimeout());
        }
        this.capacity = config.queueCapacity();
        this.writeTimeout = config.writeTimeout();
        // Once closed, the writer has at most the group in progress and one final group left, each bounded by
        // busy_timeout; the rest is fsync time.
        this.closeTimeout = config.busyTimeout().multipliedBy(2).plus(writeTimeout).plusSeconds(1);
        this.room = new Semaphore(capacity);
        if (config.queueBytes() < 1) {
            throw new IllegalArgumentException("audit queue bytes must be at least 1: " + config.queueBytes());
        }
        this.capacityBytes = config.queueBytes();
        this.roomBytes = new Semaphore(capacityBytes);
        String replica = config.replica() == null ? AuditConfig.DEFAULT_REPLICA : config.replica();
        AuditWriter.CommitListener checkpoints = AuditWriter.CommitListener.NONE;
        if (config.checkpoints() != null) {
            try {
                checkpoints = new Checkpointer(replica, config.checkpoints());
            } catch (IOException | java.security.GeneralSecurityException e) {
                // Refuse to start: a gateway that cannot sign checkpoints would produce evidence no one can trust.
                throw new AuditUnavailableException("audit checkpoint key " + config.checkpoints().keyFile()
                        + " cannot be used: " + e.getMessage(), e);
            }
        }
        AuditSchema schema = config.postgres() != null
                ? new PostgresSchema(config.postgres(), config.busyTimeout(), replica)
                : new SqliteSchema(config.sqlitePath(), config.busyTimeout());
        Connection connection;
        try {
            connection = schema.open();
        } catch (SQLException | IOException | RuntimeException e) {
            throw new AuditUnavailableException("audit store " + store + " cannot be opened: " + AuditWriter.reason(e), e);
        }
        this.writer = new AuditWriter(store, schema, connection, queue, room, roomBytes, replica,
                checkpoints, config.asyncLinger());
        if (config.journalDir() == null) {
            this.journal = null;
            this.ingester = null;
            this.journalWriter = null;
            // A platform thread: it sits in native SQLite calls and fsync, where a virtual thread would pin its carrier.
            this.thread = Thread.ofPlatform().name("phigate-audit-writer").daemon(true).start(writer);
        } else {
            // The journal is the durable point; the store is filled behind it (decision 0021). What a previous
            // process journaled and the store does not hold yet goes in before anything new is accepted.
            try {
                this.journal = AuditJournal.open(config.journalDir(), journalSegmentBytes);
            } catch (IOException | RuntimeException e) {
                closeQuietly(connection);
                throw new AuditUnavailableException("audit journal " + config.journalDir() + " cannot be opened: "
                        + AuditWriter.reason(e), e);
            }
            this.ingester = new JournalIngester(journal, writer);
            long head;
            try {
                head = ingester.replay();
            } catch (SQLException | IOException | RuntimeException e) {
                journal.close();
                writer.close();
                throw new AuditUnavailableException("audit journal " + config.journalDir()
                        + " cannot be replayed into " + store + ": " + AuditWriter.reason(e), e);
            }
            try {
                this.journalWriter = new JournalWriter(store, journal, queue, room, roomBytes, replica,
                        config.journalMaxBytes(), ingester, head, ingester.headHash(), ingester.consumedBytes(),
                        config.asyncLinger());
            } catch (IllegalArgumentException e) {
                // The store's last hash is not one this gateway wrote (edited by hand): refuse to extend it.
                journal.close();
                writer.close();
                throw new AuditUnavailableException("audit store " + store + " cannot be extended: " + e.getMessage(),
                        e);
            }
            this.thread = Thread.ofPlatform().name("phigate-audit-writer").daemon(true).start(journalWriter);
            ingester.start();
        }
        this.walCheckpointer = config.postgres() != null ? null
                : new WalCheckpointer(config.sqlitePath(), config.busyTimeout(), writer.commits).start();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Callbacks on the returned future run on a virtual thread, never on the writer.
     */
    @Override
    public CompletableFuture<Void> append(List<AuditEvent> events) {
        CompletableFuture<Void> durable = enqueue(events, false);
        // An async dependent, not the writer's own future: a caller's callback runs on its own virtual thread and
        // cannot stall the group commit, and completing this future cannot mark the record durable for anyone.
        return durable.isDone() ? durable.copy() : durable.whenCompleteAsync((ignored, failure) -> { }, CALLBACKS);
    }

    /** The writer's own future, for an event loop's tiny callback (see {@link AuditSink#appendAwaited}). */
    @Override
    public CompletableFuture<Void> appendAwaited(List<AuditEvent> events) {
        return enqueue(events, true);
    }

    /** No dependent future: completing one per statement would start a virtual thread per statement. */
    @Override
    public void appendUnobserved(List<AuditEvent> events) {
        enqueue(events, false);
    }

    /**
     * Queues the events; the future is the writer's own, completed on the writer thread. May wait, at most the write
     * timeout, for the byte bound; never for the event bound.
     */
    private CompletableFuture<Void> enqueue(List<AuditEvent> events, boolean awaited) {
        // Rendered and hash-encoded here, on the caller's thread, so a malformed event fails only its own caller and
        // the one writer thread only binds values and hashes bytes.
        if (events.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<AuditRow> rows = new ArrayList<>(events.size()); // a loop, not a stream: this runs per statement
        for (int i = 0; i < events.size(); i++) {
            rows.add(AuditRow.of(events.get(i), cipher));
        }
        byte[][] tails = new byte[rows.size()][];
        byte[][] bodies = journal == null ? null : new byte[rows.size()][];
        long bytes = 0;
        for (int i = 0; i < tails.length; i++) {
            AuditRow.Encoded encoded = rows.get(i).encode(journal != null);
            tails[i] = encoded.hashTail();
            if (bodies != null) {
                bodies[i] = encoded.journalBody();
            }
            bytes += weight(rows.get(i), tails[i], bodies == null ? null : bodies[i]);
        }
        // A batch bigger than the whole bound is charged the whole bound, so it goes once the queue is empty.
        int charge = (int) Math.min(bytes, capacityBytes);
        if (!room.tryAcquire(rows.size())) {
            refusals.increment();
            return CompletableFuture.failedFuture(new AuditUnavailableException(rows.size() > capacity
                    ? "audit store " + store + " cannot take " + rows.size() + " events at once (queue capacity "
                            + capacity + ")"
                    : "audit store " + store + " queue is full (" + capacity + " events waiting for the writer)"));
        }
        if (!acquireBytes(charge)) {
            room.release(rows.size());
            refusals.increment();
            // Logged: an async append's caller may not look at the future, and a record must not vanish unnoticed.
            // Sizes only, never contents.
            log.warn("audit store {} refused {} events ({} bytes): the writer did not make room within {} "
                    + "(queue_bytes {})", store, rows.size(), bytes, format(writeTimeout), capacityBytes);
            return CompletableFuture.failedFuture(new AuditUnavailableException("audit store " + store
                    + " queue is full (" + capacityBytes + " bytes waiting for the writer for " + format(writeTimeout)
                    + ")"));
        }
        var batch = new AuditWriter.Batch(rows, tails, bodies, charge, awaited, new CompletableFuture<>());
        synchronized (enqueueLock) {
            if (closed) {
                room.release(rows.size());
                roomBytes.release(charge);
                refusals.increment();
                return CompletableFuture.failedFuture(new AuditUnavailableException("audit store " + store + " is closed"));
            }
            queue.add(batch);
        }
        return batch.done();
    }

    private boolean acquireBytes(int charge) {
        if (roomBytes.tryAcquire(charge)) {
            return true;
        }
        // Back-pressure: the producer of a large recording waits while the writer drains. Bounded, so a stuck store
        // still ends in a refusal rather than a stuck session.
        try {
            return roomBytes.tryAcquire(charge, writeTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Roughly what a queued row holds in memory: its encoded values (the hash's and, with a journal, the frame
     * body's), its recorded response, and object overhead.
     */
    private static long weight(AuditRow row, byte[] tail, byte[] body) {
        AuditEvent.RecordedResponse response = row.response();
        return 256L + tail.length + (body == null ? 0 : body.length)
                + (response == null || response.deflated() == null ? 0 : response.deflated().length);
    }

    @Override
    public void appendDurably(List<AuditEvent> events) throws AuditUnavailableException {
        try {
            // Waits on the writer's future directly: there are no callbacks to keep off the writer here, and one
            // thread hop less per statement.
            enqueue(events, true).get(writeTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // The record may still be written later; the caller refuses the statement and records that.
            throw new AuditUnavailableException("audit store " + store + " did not confirm the record within "
                    + format(writeTimeout));
        } catch (ExecutionException e) {
            // A new exception per caller, so each one's stack trace shows where its own statement was refused.
            Throwable cause = e.getCause();
            throw new AuditUnavailableException(cause instanceof AuditUnavailableException
                    ? cause.getMessage()
                    : "audit store " + store + " failed: " + cause.getClass().getSimpleName(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("interrupted while waiting for audit store " + store, e);
        }
    }

    /** Stops accepting events, writes what is queued, and closes the file. Idempotent. */
    @Override
    public void close() {
        synchronized (enqueueLock) {
            if (!closed) {
                closed = true;
                queue.add(AuditWriter.STOP);
            }
        }
        try {
            if (!thread.join(closeTimeout)) {
                log.warn("audit store {} writer did not finish within {}; queued records may be lost", store,
                        format(closeTimeout));
            }
            if (ingester != null) {
                ingester.stop(closeTimeout.toNanos());
                journal.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (walCheckpointer != null) {
            walCheckpointer.close();
        }
    }

    /** With the journal, {@code commits} and {@code failures} count journal groups: what statements wait for. */
    public Stats stats() {
        if (journalWriter != null) {
            return new Stats(journalWriter.eventsWritten.sum(), journalWriter.commits.sum(),
                    journalWriter.failures.sum(), refusals.sum());
        }
        return new Stats(writer.eventsWritten.sum(), writer.commits.sum(), writer.failures.sum(), refusals.sum());
    }

    /**
     * Asked on the writer thread before each group is written: why nothing may be written now (the file the store
     * opened was deleted or replaced), or null. Once per group rather than once per statement (decision 0062): a
     * group whose check fails is refused whole, and the check runs after every record in the group was queued, so no
     * record queued after the file went away is ever acknowledged. Set once, before sessions are served.
     */
    public void checkEachGroup(GroupCheck check) {
        if (journalWriter != null) {
            journalWriter.check = check;
        } else {
            writer.check = check;
        }
    }

    /** See {@link #checkEachGroup}. Runs on the writer thread; must not block. */
    @FunctionalInterface
    public interface GroupCheck {
        GroupCheck NONE = () -> null;

        /** Why the group must be refused, or null to write it. The reason names files, never records. */
        String problem();
    }

    /**
     * Waits until the store holds every record acknowledged before this call (read-your-writes for readers in this
     * process: search, sessions, verify, the HTTP API). Immediate without a journal. False when the store did not
     * catch up within {@code timeout} (it is down or far behind); the caller then reads what is there.
     */
    @Override
    public boolean awaitStored(Duration timeout) {
        try {
            // Records appended before this call may still be lingering for a statement to share their fsync
            // (audit.async_linger); a barrier in the queue sends them on now and returns once they are durable.
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!barrier(timeout)) {
                return false;
            }
            if (ingester == null) {
                return true;
            }
            return ingester.awaitIngested(journalWriter.acknowledgedSeq, Math.max(0, deadline - System.nanoTime()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Why the store would refuse a statement's record now, or null when it takes writes: closed, its last group
     * failed (the writer's streak; the next success clears it), or its writer did not pass an empty barrier within
     * {@code timeout} (wedged or far behind). Writes nothing, so an orchestrator's probe adds no record to the
     * chain; an idle store whose database just went away shows it at its next write. The reason names the store,
     * never a record.
     */
    public String writeProblem(Duration timeout) {
        long streak = journalWriter != null ? journalWriter.failureStreak() : writer.failureStreak();
        if (streak > 0) {
            return "the last " + streak + " audit write(s) failed";
        }
        try {
            synchronized (enqueueLock) {
                if (closed) {
                    return "the audit store is closed";
                }
            }
            return barrier(timeout) ? null : "the audit writer did not answer within " + format(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** True once every group queued before it has been written (or refused); false on timeout or when closed. */
    private boolean barrier(Duration timeout) throws InterruptedException {
        var mark = new AuditWriter.Batch(List.of(), new byte[0][], new byte[0][], 0, true,
                new CompletableFuture<>());
        synchronized (enqueueLock) {
            if (closed) {
                return false;
            }
            queue.add(mark);
        }
        try {
            mark.done().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException e) {
            return true; // the group the barrier rode with was refused: processed all the same, nothing lingers
        } catch (TimeoutException e) {
            return false;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // Failing to start anyway.
        }
    }

    /** True while a zero-filled spare waits to become the next journal segment, for tests. */
    boolean spareReady() {
        return journal != null && journal.spareReady();
    }

    /** Journal segments that began as a zero-filled spare, for tests. */
    long preallocatedSegments() {
        return journal == null ? 0 : journal.preallocated.sum();
    }

    /** Background WAL checkpoints done so far (SQLite only; 0 for PostgreSQL), for tests. */
    long walCheckpoints() {
        return walCheckpointer == null ? 0 : walCheckpointer.checkpoints.sum();
    }

    @Override
    public String toString() {
        return "AuditStore[" + store + "]";
    }

    private static String format(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }
}
