package io.phigate.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group-commit loop of {@link AuditStore} when the journal is on (decision 0021). Runs on the one platform
 * thread {@code phigate-audit-writer}: takes everything queued, places each record in the hash chain exactly as
 * {@link AuditWriter} does, appends one frame per record to the current journal segment, fsyncs once
 * ({@code force(false)}), and only then completes the producers' futures. Per record it hashes and copies bytes the
 * producer encoded ({@link AuditRow#encode}): no string is made or encoded here (decision 0067). The store is
 * written later, by {@link JournalIngester}.
 *
 * <p>Fails closed like the store did: a write or fsync that fails refuses its group, takes the chain back to the
 * last durable record and starts a new segment for the next group. When the store lags behind by more than
 * {@code maxBytes} of journal, groups are refused until the ingester catches up. A segment deleted under the
 * gateway refuses every group until restart (the file's unread records may be gone).
 */
final class JournalWriter implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(JournalWriter.class);

    private final String store;
    private final AuditJournal journal;
    private final BlockingQueue<AuditWriter.Batch> queue;
    private final Semaphore room;
    private final Semaphore roomBytes;
    private final long maxBytes;
    private final JournalIngester ingester;
    private final long lingerNanos;
    final LongAdder eventsWritten = new LongAdder();
    final LongAdder commits = new LongAdder();
    final LongAdder failures = new LongAdder();
    /** The last record fsync'd into the journal: what a reader must wait for to see all acknowledged records. */
    volatile long acknowledgedSeq;

    // Writer thread only.
    private final RecordHash.Chain chain;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
    private AuditJournal.Segment segment;
    private FileChannel channel;
    private long nextSeq;
    /** The chain's head: the last record's hash, raw and as the hex digits the next record's hash covers. */
    private final byte[] prevHash = new byte[32];
    private final byte[] prevHex = new byte[64];
    private final byte[] hash = new byte[32];
    /** Journal bytes written since start, recovered segments included; the ingester counts what it has taken. */
    private long appended;
    private String broken;
    /** Written by the writer thread; read by the readiness probe ({@link AuditStore#writeProblem}). */
    private volatile long failureStreak;
    /** Asked before each group is written ({@link AuditStore#checkEachGroup}). */
    volatile AuditStore.GroupCheck check = AuditStore.GroupCheck.NONE;

    JournalWriter(String store, AuditJournal journal, BlockingQueue<AuditWriter.Batch> queue, Semaphore room,
                  Semaphore roomBytes, String replica, long maxBytes, JournalIngester ingester, long headSeq,
                  String headHash, long recoveredBytes, java.time.Duration linger) {
        this.lingerNanos = linger.toNanos();
        this.store = store;
        this.journal = journal;
        this.queue = queue;
        this.room = room;
        this.roomBytes = roomBytes;
        this.maxBytes = maxBytes;
        this.ingester = ingester;
        this.nextSeq = headSeq + 1;
        this.chain = new RecordHash.Chain(replica);
        if (headHash == null || !headHash.matches("[0-9a-f]{64}")) {
            // Every hash this gateway stores is 64 lower-case hex digits; anything else is not a chain to extend.
            throw new IllegalArgumentException("the audit chain's head is not a SHA-256 in hex");
        }
        setHead(HexFormat.of().parseHex(headHash));
        this.acknowledgedSeq = headSeq;
        this.appended = recoveredBytes;
    }

    @Override
    public void run() {
        boolean stopping = false;
        while (!stopping) {
            List<AuditWriter.Batch> group = AuditWriter.gather(queue, take(), lingerNanos);
            if (group.getLast() == AuditWriter.STOP) {
                group.removeLast();
                stopping = true;
            }
            if (!group.isEmpty()) {
                writeGroup(group);
            }
        }
        seal();
    }

    private AuditWriter.Batch take() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                // Shutdown is the STOP batch, never an interrupt: an accepted record must not be dropped.
            }
        }
    }

    private void writeGroup(List<AuditWriter.Batch> group) {
        int events = 0;
        long bytes = 0;
        for (AuditWriter.Batch batch : group) {
            events += batch.rows().size();
            bytes += batch.bytes();
        }
        if (events == 0) {
            // Only readers' barriers: nothing to write, and the asynchronous records they waited behind are
            // written by the groups before this one.
            AuditWriter.complete(group, null);
            return;
        }
        AuditUnavailableException failure = null;
        long firstSeq = nextSeq;
        byte[] firstPrev = prevHash.clone();
        try {
            if (broken != null) {
                throw new IOException(broken);
            }
            AuditWriter.refuseIf(check.problem());
            long backlog = appended - ingester.consumedBytes();
            if (backlog >= maxBytes) {
                throw new IOException("the journal holds " + backlog + " bytes the store has not taken (journal_max_bytes "
                        + maxBytes + "); the store is unavailable or behind");
            }
            ensureSegment();
            buffer.clear();
            for (AuditWriter.Batch batch : group) {
                List<AuditRow> rows = batch.rows();
                for (int i = 0; i < rows.size(); i++) {
                    chain.hash(nextSeq, prevHex, batch.hashTails()[i], hash);
                    buffer = AuditJournal.encode(buffer, nextSeq, prevHash, hash, batch.journalBodies()[i],
                            rows.get(i).response(), crc);
                    nextSeq++;
                    setHead(hash);
                }
            }
            buffer.flip();
            int length = buffer.remaining();
            long at = segment.durableEnd;
            while (buffer.hasRemaining()) {
                channel.write(buffer, at + buffer.position());
            }
            channel.force(false);
            segment.durableEnd = at + length;
            appended += length;
            journal.written(segment);
            acknowledgedSeq = nextSeq - 1;
            if (appended - ingester.consumedBytes() >= JournalIngester.EAGER_BYTES) {
                // Otherwise the ingester finds the frames on its own within its linger; waking it for every group
                // cost two context switches per group for nothing (it lingers anyway).
                ingester.wake();
            }
            eventsWritten.add(events);
            commits.increment();
            if (failureStreak > 0) {
                log.info("audit journal {} is writable again after {} failed groups", journal.dir, failureStreak);
                failureStreak = 0;
            }
            if (buffer.capacity() > 16 << 20) {
                buffer = ByteBuffer.allocate(1 << 20); // a large recording passed; do not keep its buffer
            }
        } catch (IOException | RuntimeException e) {
            nextSeq = firstSeq;
            setHead(firstPrev);
            failures.increment();
            if (failureStreak++ == 0) {
                // Once per streak; the reason comes from the file system or the bound, never from record contents.
                log.warn("audit journal {} cannot write; statements are refused until it recovers: {}", journal.dir,
                        AuditWriter.reason(e));
            }
            abandonSegment();
            failure = new AuditUnavailableException("audit store " + store + " cannot write: "
                    + AuditWriter.reason(e), e);
        }
        room.release(events);
        roomBytes.release(Math.toIntExact(bytes));
        AuditWriter.complete(group, failure);
    }

    private void setHead(byte[] last) {
        System.arraycopy(last, 0, prevHash, 0, 32);
        RecordHash.hex(last, prevHex);
    }

    private void ensureSegment() throws IOException {
        if (segment != null && !Files.exists(segment.path)) {
            // Like a deleted SQLite file (AuditFileGuard): writes to the unlinked inode would succeed and vanish.
            broken = "audit journal segment " + segment.path + " was deleted under the gateway; restart to continue";
            throw new IOException(broken);
        }
        if (segment != null && journal.due(segment)) {
            seal();
        }
        if (segment == null) {
            AuditJournal.Segment s = journal.create();
            try {
                channel = FileChannel.open(s.path, StandardOpenOption.WRITE);
            } catch (IOException e) {
                s.sealed = true;
                throw e;
            }
            segment = s;
        }
    }

    /**
     * After a failure: whatever reached the file past the durable end was never acknowledged. Cut it off if the
     * file lets us, and go on in a new segment either way: after a failed fsync the page cache is not to be trusted.
     */
    private void abandonSegment() {
        if (segment == null) {
            return;
        }
        try {
            channel.truncate(segment.durableEnd);
        } catch (IOException | RuntimeException ignored) {
            // Recovery after a crash lets the next segment supersede these frames (AuditJournal.recover).
        }
        seal();
    }

    private void seal() {
        if (segment == null) {
            return;
        }
        try {
            if (channel.size() > segment.durableEnd) {
                channel.truncate(segment.durableEnd); // the unused end of a spare
            }
        } catch (IOException e) {
            // Recovery cuts a zero tail as well.
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("audit journal segment {} did not close cleanly: {}", segment.path.getFileName(), e.getMessage());
        }
        segment.sealed = true;
        segment = null;
        channel = null;
        ingester.wake();
    }

    /** Groups that failed in a row, 0 once one succeeds. */
    long failureStreak() {
        return failureStreak;
    }
}
