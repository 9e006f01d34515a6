package io.phigate.audit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves journaled records into the store (decision 0021). Runs on the platform thread {@code phigate-audit-ingest},
 * which alone touches the store's connection (through {@link AuditWriter#ingest}): reads the frames the journal
 * writer has fsync'd, inserts them in large transactions, and deletes a segment once the store has committed all
 * of it. At start {@link #replay} does the same for everything a previous process left, before the gateway
 * accepts connections. Idempotent by chain position: a record the store already holds is skipped.
 *
 * <p>When the store fails, the same records are retried with a growing pause; the journal writer refuses new
 * statements once the backlog passes {@code journal_max_bytes}.
 */
final class JournalIngester implements Runnable {

    /**
     * Records per store transaction, and bytes of frames read per transaction: what one batch holds in memory.
     * SQLite's cost per record falls steeply with the transaction's size (each commit rewrites the index pages it
     * touched and flushes an FTS5 segment that later merges): 200,000 statement records took 26 µs of CPU each
     * at 270 per commit (100 ms of pgbench -S at 8 clients) and 17 µs at 8,192 (decision 0023).
     */
    static final int BATCH_RECORDS = 8192;
    static final long BATCH_BYTES = 16L * 1024 * 1024;
    /**
     * How long journaled records may wait for a store commit when no reader is waiting for them. Each store commit
     * is an fsync of its own (SQLite's WAL, synchronous=FULL) on the disk the journal's fsyncs need, and costs CPU
     * that falls with the batch's size (see {@link #BATCH_RECORDS}); at a few thousand statements a second a
     * second's records make a batch. A waiting reader in this process ends the wait at once; one in another
     * process (a {@code phigate audit} command on a live file) sees the store up to this far behind.
     */
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Unread journal bytes that end the linger: a quarter of a batch is worth a commit at once. */
    static final long EAGER_BYTES = BATCH_BYTES / 4;

    private static final Logger log = LoggerFactory.getLogger(JournalIngester.class);

    private final AuditJournal journal;
    private final AuditWriter store;
    private volatile Thread thread;
    private volatile boolean stopping;
    private volatile boolean abandoned;
    private final java.util.concurrent.atomic.AtomicInteger waiters = new java.util.concurrent.atomic.AtomicInteger();
    private volatile long consumedBytes;
    private final Object progress = new Object();
    private long ingestedSeq; // guarded by progress

    // Ingester thread only (or the opening thread during replay).
    private AuditJournal.Segment reading;
    private FileChannel channel;
    private long position;
    private long storedSeq;
    private long pauseMillis;
    private long lastCommitNanos = System.nanoTime();
    /** The entries of one step, reused: it grows to a batch once instead of in every step. */
    private final List<AuditJournal.Entry> batch = new ArrayList<>(BATCH_RECORDS);

    JournalIngester(AuditJournal journal, AuditWriter store) {
        this.journal = journal;
        this.store = store;
    }

    /**
     * Ingests everything the journal holds now, on the caller's thread, before the writer starts. Returns the
     * chain's head (sequence number; the hash via {@link #headHash()}) after it.
     */
    long replay() throws SQLException, IOException {
        storedSeq = store.storedSeq();
        setIngested(storedSeq);
        long records = 0;
        while (!journal.segments.isEmpty()) {
            int n = step(true);
            if (n < 0) {
                throw new IOException("audit store cannot take the journal's records; see the log");
            }
            records += n;
        }
        if (records > 0) {
            log.info("audit journal {}: {} records from before the restart are now in the store", journal.dir, records);
        }
        return storedSeq;
    }

    String headHash() {
        return store.storedHash();
    }

    JournalIngester start() {
        thread = Thread.ofPlatform().name("phigate-audit-ingest").daemon(true).start(this);
        return this;
    }

    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Journal bytes taken into the store since start (recovered segments included). */
    long consumedBytes() {
        return consumedBytes;
    }

    @Override
    public void run() {
        long idleSince = System.nanoTime();
        while (!abandoned) {
            int n = step(stopping);
            if (n > 0) {
                idleSince = System.nanoTime();
                continue;
            }
            if (n < 0) {
                if (stopping) {
                    break; // the store is down at shutdown: the journal keeps the records for the next start
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMillis));
                continue;
            }
            if (stopping && journal.segments.isEmpty()) {
                break;
            }
            long idle = store.idleWaitMillis();
            if (idle != Long.MAX_VALUE && System.nanoTime() - idleSince >= TimeUnit.MILLISECONDS.toNanos(idle)) {
                store.idle();
                idleSince = System.nanoTime();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(idle == Long.MAX_VALUE ? 20 : Math.min(idle, 20)));
        }
        closeChannel();
        store.close();
    }

    /**
     * Ingests the next run of durable frames: the number of records taken (0 when there was nothing new, and
     * after finishing a segment, and while a small run lingers), or -1 when the store refused them. {@code eager}:
     * commit whatever there is now (replay, shutdown).
     */
    private int step(boolean eager) {
        AuditJournal.Segment s = journal.segments.peekFirst();
        if (s == null) {
            return 0;
        }
        if (reading != s) {
            closeChannel();
            try {
                channel = FileChannel.open(s.path, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                log.error("audit journal segment {} is gone before the store took it; its records are lost (audit "
                        + "verify will show the gap)", s.path.getFileName());
                journal.segments.pollFirst();
                return 0;
            } catch (IOException e) {
                return fail(e);
            }
            reading = s;
            position = 0;
        }
        boolean sealed = s.sealed; // read before durableEnd: once sealed, durableEnd is final
        long end = s.durableEnd;
        if (position >= end) {
            if (!sealed) {
                return 0;
            }
            closeChannel();
            journal.segments.pollFirst();
            try {
                Files.deleteIfExists(s.path);
            } catch (IOException e) {
                log.warn("audit journal segment {} cannot be deleted: {}", s.path.getFileName(), e.getMessage());
            }
            return 0;
        }
        if (!eager && waiters.get() == 0 && end - position < EAGER_BYTES
                && System.nanoTime() - lastCommitNanos < LINGER_NANOS) {
            return 0;
        }
        var reader = new AuditJournal.Reader(channel, position, end);
        List<AuditJournal.Entry> batch = this.batch;
        batch.clear();
        long bytes = 0;
        long lastSeq = -1;
        try {
            AuditJournal.Entry e;
            while (batch.size() < BATCH_RECORDS && bytes < BATCH_BYTES && (e = reader.next()) != null) {
                bytes += reader.lastFrameBytes();
                lastSeq = Math.max(lastSeq, e.seq());
                if (e.seq() > storedSeq && e.seq() < s.limitSeq) {
                    batch.add(e);
                }
            }
            if (reader.torn()) {
                // Only fsync'd frames are read, so this is damage to an acknowledged record, not a torn tail.
                throw new IOException("audit journal segment " + s.path.getFileName() + " is damaged at "
                        + reader.position());
            }
            if (!batch.isEmpty()) {
                store.ingest(batch);
                storedSeq = batch.getLast().seq();
                lastCommitNanos = System.nanoTime();
            }
        } catch (SQLException | IOException | RuntimeException e) {
            batch.clear(); // the next step reads the same frames again
            return fail(e);
        }
        int taken = batch.size();
        batch.clear(); // keeps no records alive between steps, only the list's array
        pauseMillis = 0;
        position = reader.position();
        consumedBytes += bytes;
        if (lastSeq >= 0) {
            setIngested(Math.max(storedSeq, Math.min(lastSeq, s.limitSeq - 1)));
        }
        return Math.max(taken, 1);
    }

    private int fail(Exception e) {
        pauseMillis = Math.min(1000, Math.max(50, pauseMillis * 2));
        if (!(e instanceof SQLException)) {
            log.warn("audit journal {} cannot be read: {}", journal.dir, AuditWriter.reason(e));
        }
        return -1;
    }

    private void setIngested(long seq) {
        synchronized (progress) {
            if (seq > ingestedSeq) {
                ingestedSeq = seq;
                progress.notifyAll();
            }
        }
    }

    /** Waits until the store holds every record up to {@code seq}; false if that took longer than the timeout. */
    boolean awaitIngested(long seq, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (progress) {
            if (ingestedSeq >= seq) {
                return true;
            }
        }
        waiters.incrementAndGet();
        wake(); // a reader is waiting: the ingester commits now instead of lingering
        try {
            synchronized (progress) {
                while (ingestedSeq < seq) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(progress, left);
                }
                return true;
            }
        } finally {
            waiters.decrementAndGet();
        }
    }

    /** Ingests what is left, at most until {@code timeoutNanos}, then stops and closes the store's connection. */
    void stop(long timeoutNanos) throws InterruptedException {
        stopping = true;
        Thread t = thread;
        if (t == null) {
            closeChannel();
            store.close();
            return;
        }
        wake();
        if (!t.join(java.time.Duration.ofNanos(timeoutNanos))) {
            log.warn("audit journal {} was not fully ingested at shutdown; the next start takes the rest", journal.dir);
            // Stop after the batch in progress: the journal's lock is released after this returns, and a second
            // ingester (the next start) must never run beside this one.
            abandoned = true;
            wake();
            t.join();
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Read-only: nothing to lose.
            }
        }
        channel = null;
        reading = null;
    }
}
