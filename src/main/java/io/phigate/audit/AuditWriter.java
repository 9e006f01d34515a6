package io.phigate.audit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteException;

/**
 * The group-commit loop of {@link AuditStore}. Runs on the one platform thread {@code phigate-audit-writer},
 * which alone touches the store's connection: it takes everything queued, writes it in one transaction, commits
 * (one fsync for the whole group) and only then completes the producers' futures. What differs between SQLite and
 * PostgreSQL is in {@link AuditSchema}; the loop and the chain are the same.
 *
 * <p>A failed group is rolled back and refused; the loop keeps going so the store recovers by itself once the
 * lock, disk or file problem clears.
 */
final class AuditWriter implements Runnable {

    /**
     * Events from one {@code append} call and the future that says they are durable. {@code hashTails} are the rows'
     * {@link AuditRow#hashTail()} and {@code journalBodies} their journal frame bodies (null without a journal), both
     * encoded by the producer ({@link AuditRow#encode}); {@code bytes} is what the batch holds in memory, as
     * charged against the queue's byte bound. {@code awaited}: a session is blocked on it (a statement waiting
     * to be forwarded), so it is completed before the group's asynchronous appends.
     */
    record Batch(List<AuditRow> rows, byte[][] hashTails, byte[][] journalBodies, int bytes, boolean awaited,
                 CompletableFuture<Void> done) {
    }

    /** Queued by {@code close()} after the last accepted batch, so everything before it is still written. */
    static final Batch STOP = new Batch(List.of(), new byte[0][], new byte[0][], 0, false, new CompletableFuture<>());

    /** A group that lingers for an awaited record stops lingering once it holds this many bytes. */
    private static final long LINGER_BYTES = 1 << 20;

    /**
     * One group: {@code first} and everything queued behind it. A group no session is blocked on (completions,
     * session ends) waits up to {@code lingerNanos} for a record that one is: the statement that follows a
     * completion then shares its fsync instead of queueing behind a second one, which halves the fsyncs per
     * statement. An empty awaited batch (a reader's {@link AuditStore#awaitStored} barrier) ends the wait too.
     */
    static List<Batch> gather(BlockingQueue<Batch> queue, Batch first, long lingerNanos) {
        var group = new ArrayList<Batch>();
        group.add(first);
        queue.drainTo(group);
        if (lingerNanos <= 0 || group.getLast() == STOP || anyAwaited(group)) {
            return group;
        }
        long deadline = System.nanoTime() + lingerNanos;
        long bytes = 0;
        for (Batch b : group) {
            bytes += b.bytes();
        }
        while (bytes < LINGER_BYTES) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            Batch next;
            try {
                next = queue.poll(left, java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                break; // shutdown is the STOP batch; write what we hold
            }
            if (next == null) {
                break;
            }
            int from = group.size();
            group.add(next);
            queue.drainTo(group);
            boolean awaited = false;
            for (int i = from; i < group.size(); i++) {
                bytes += group.get(i).bytes();
                awaited |= group.get(i).awaited();
            }
            if (awaited || group.getLast() == STOP) {
                break;
            }
        }
        return group;
    }

    private static boolean anyAwaited(List<Batch> group) {
        for (Batch b : group) {
            if (b.awaited()) {
                return true;
            }
        }
        return false;
    }

    /** Told, on the writer thread, of each committed group's record hashes in chain order (for checkpoints). */
    interface CommitListener {
        CommitListener NONE = (c, firstSeq, hashes) -> { };

        /** After each successful commit, with the connection still owned by the writer thread. */
        void committed(Connection c, long firstSeq, List<byte[]> hashes);

        /** When the store is (re)opened, before anything is written. */
        default void opened(Connection c) throws SQLException {
        }

        /** When the writer has waited {@link #idleWaitMillis()} with nothing to write. */
        default void idle(Connection c) {
        }

        default long idleWaitMillis() {
            return Long.MAX_VALUE;
        }
    }

    private static final Logger log = LoggerFactory.getLogger(AuditWriter.class);

    private final String store;
    private final AuditSchema schema;
    private final BlockingQueue<Batch> queue;
    private final Semaphore room;
    private final Semaphore roomBytes;
    final LongAdder eventsWritten = new LongAdder();
    final LongAdder commits = new LongAdder();
    final LongAdder failures = new LongAdder();

    // Writer thread only.
    private Connection connection;
    /** The INSERT of 2^i rows at index i, prepared on first use ({@link AuditSchema#maxRowsPerInsert}). */
    private PreparedStatement[] inserts;
    private Statement control;
    private final java.security.MessageDigest sha = RecordHash.sha256();
    /** Written by the writer thread; read by the readiness probe ({@link AuditStore#writeProblem}). */
    private volatile long failureStreak;
    /** Asked before each group is written ({@link AuditStore#checkEachGroup}). */
    volatile AuditStore.GroupCheck check = AuditStore.GroupCheck.NONE;
    private final String replica;
    private final CommitListener listener;
    private final long lingerNanos;
    // The chain's head. Kept across a reopen of a deleted file, so the new file continues the chain and the
    // records lost with the old one show up as a gap instead of vanishing without trace.
    private boolean chainLoaded;
    private long nextSeq;
    private String prevHash;

    AuditWriter(String store, AuditSchema schema, Connection connection, BlockingQueue<Batch> queue,
                Semaphore room, Semaphore roomBytes, String replica, CommitListener listener,
                java.time.Duration linger) {
        this.lingerNanos = linger.toNanos();
        this.replica = replica;
        this.listener = listener;
        this.store = store;
        this.schema = schema;
        this.connection = connection;
        this.queue = queue;
        this.room = room;
        this.roomBytes = roomBytes;
    }

    @Override
    public void run() {
        boolean stopping = false;
        while (!stopping) {
            // A fresh list each time: the previous one is still being completed on another thread.
            List<Batch> group = gather(queue, take(), lingerNanos);
            if (group.getLast() == STOP) {
                group.removeLast();
                stopping = true;
            }
            if (!group.isEmpty()) {
                writeGroup(group);
            }
        }
        closeConnection();
    }

    private Batch take() {
        while (true) {
            try {
                long wait = listener.idleWaitMillis();
                if (wait == Long.MAX_VALUE) {
                    return queue.take();
                }
                Batch b = queue.poll(wait, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (b != null) {
                    return b;
                }
                if (connection != null) {
                    listener.idle(connection);
                }
            } catch (InterruptedException e) {
                // Shutdown is the STOP batch, never an interrupt: an accepted record must not be dropped.
            }
        }
    }

    private void writeGroup(List<Batch> group) {
        int events = 0;
        long bytes = 0;
        for (Batch batch : group) {
            events += batch.rows().size();
            bytes += batch.bytes();
        }
        if (events == 0) {
            complete(group, null); // only readers' barriers: the groups before this one hold what they wait for
            return;
        }
        AuditUnavailableException failure = null;
        try {
            refuseIf(check.problem());
            ensureOpen();
            write(group);
            eventsWritten.add(events);
            commits.increment();
            if (failureStreak > 0) {
                log.info("audit store {} is writable again after {} failed commits", store, failureStreak);
                failureStreak = 0;
            }
        } catch (SQLException | IOException | RuntimeException e) {
            failures.increment();
            if (failureStreak++ == 0) {
                // Once per streak: a locked or full store would otherwise log once per statement. The reason
                // comes from SQLite or the file system and never contains record contents.
                log.warn("audit store {} cannot write; statements are refused until it recovers: {}", store,
                        reason(e));
            }
            if (!(e instanceof SQLException s && schema.isContention(s))) {
                // Anything but lock contention may have left the connection unusable; the next group reopens.
                closeConnection();
            }
            failure = new AuditUnavailableException("audit store " + store + " cannot write: " + reason(e), e);
        }
        // Room is given back before the futures complete, so a woken producer finds it.
        room.release(events);
        roomBytes.release(Math.toIntExact(bytes));
        complete(group, failure);
    }

    private void write(List<Batch> group) throws SQLException {
        long firstSeq = nextSeq;
        String firstPrev = prevHash;
        List<byte[]> hashes = new ArrayList<>();
        for (Batch batch : group) {
            schema.beforeGroup(connection, batch.rows());
        }
        control.execute(schema.begin());
        try {
            List<AuditJournal.Entry> entries = new ArrayList<>();
            for (Batch batch : group) {
                List<AuditRow> rows = batch.rows();
                for (int i = 0; i < rows.size(); i++) {
                    byte[] hash = RecordHash.of(sha, replica, Long.toString(nextSeq), prevHash, batch.hashTails()[i]);
                    String hex = RecordHash.hex(hash);
                    entries.add(new AuditJournal.Entry(nextSeq, prevHash, hex, rows.get(i)));
                    hashes.add(hash);
                    nextSeq++;
                    prevHash = hex;
                }
            }
            insertAll(entries, rows(entries));
            control.execute("COMMIT");
        } catch (SQLException | RuntimeException e) {
            nextSeq = firstSeq;
            prevHash = firstPrev;
            rollback();
            throw e;
        }
        listener.committed(connection, firstSeq, hashes);
    }

    /**
     * Inserts the entries in order, as few INSERTs as the store allows: the largest power of two of rows that fits
     * what is left, so a group of any size needs few distinct statements and each is prepared once.
     */
    private void insertAll(List<AuditJournal.Entry> entries, List<AuditRow> rows) throws SQLException {
        schema.beforeInsert(connection, rows);
        int columns = schema.columns();
        int at = 0;
        while (at < entries.size()) {
            int n = Integer.highestOneBit(Math.min(entries.size() - at, schema.maxRowsPerInsert()));
            PreparedStatement insert = insert(n);
            for (int j = 0; j < n; j++) {
                AuditJournal.Entry e = entries.get(at + j);
                bindRow(insert, j * columns, at + j, e.row(), e.seq(), e.prevHash(), e.hash());
            }
            insert.executeUpdate();
            at += n;
        }
        if (!entries.isEmpty()) {
            schema.afterInsert(connection, replica, entries.getFirst().seq(), entries.getLast().seq());
        }
    }

    private static List<AuditRow> rows(List<AuditJournal.Entry> entries) {
        List<AuditRow> rows = new ArrayList<>(entries.size());
        for (AuditJournal.Entry e : entries) {
            rows.add(e.row());
        }
        return rows;
    }

    private PreparedStatement insert(int rows) throws SQLException {
        int i = Integer.numberOfTrailingZeros(rows);
        if (inserts[i] == null) {
            inserts[i] = connection.prepareStatement(schema.insert(rows));
        }
        return inserts[i];
    }

    /** Binds one row's parameters, the row's first being {@code base + 1}. */
    private void bindRow(PreparedStatement insert, int base, int index, AuditRow row, long seq, String prev,
                         String hex) throws SQLException {
        bind(insert, base, row);
        schema.bindExtra(insert, base, index, row);
        insert.setString(base + 20, replica);
        insert.setLong(base + 21, seq);
        insert.setString(base + 22, prev);
        insert.setString(base + 23, hex);
        AuditEvent.RecordedResponse response = row.response();
        if (response == null) {
            insert.setNull(base + 24, Types.BINARY);
            insert.setNull(base + 25, Types.VARCHAR);
            insert.setNull(base + 26, Types.BIGINT);
            insert.setNull(base + 27, Types.INTEGER);
        } else {
            insert.setBytes(base + 24, response.deflated());
            insert.setString(base + 25, response.sha256());
            insert.setLong(base + 26, response.bytes());
            insert.setInt(base + 27, response.truncated() ? 1 : 0);
        }
    }

    // --- The journal's side (decision 0021): called on the ingester thread, which then owns the connection. ---

    /**
     * Where this replica's chain stands in the store: the last stored record's sequence number (0 for none) and
     * hash. Opens the store if needed.
     */
    long storedSeq() throws SQLException, IOException {
        ensureOpen();
        return nextSeq - 1;
    }

    String storedHash() {
        return prevHash;
    }

    /**
     * Inserts journaled entries, their chain place already computed by the journal writer, in one transaction;
     * then tells the listener (checkpoints). A failure is logged once per streak, rolled back and rethrown; the
     * caller retries the same entries.
     */
    void ingest(List<AuditJournal.Entry> entries) throws SQLException, IOException {
        try {
            ensureOpen();
            List<AuditRow> rows = rows(entries);
            schema.beforeGroup(connection, rows);
            List<byte[]> hashes = new ArrayList<>(entries.size());
            control.execute(schema.begin());
            try {
                for (AuditJournal.Entry e : entries) {
                    hashes.add(AuditJournal.hashBytes(e.hash()));
                }
                insertAll(entries, rows);
                control.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                rollback();
                throw e;
            }
            AuditJournal.Entry last = entries.getLast();
            nextSeq = last.seq() + 1;
            prevHash = last.hash();
            eventsWritten.add(entries.size());
            commits.increment();
            if (failureStreak > 0) {
                log.info("audit store {} is writable again after {} failed commits", store, failureStreak);
                failureStreak = 0;
            }
            listener.committed(connection, entries.getFirst().seq(), hashes);
        } catch (SQLException | IOException | RuntimeException e) {
            failures.increment();
            if (failureStreak++ == 0) {
                log.warn("audit store {} cannot take journaled records; the journal holds them until it can: {}",
                        store, reason(e));
            }
            if (!(e instanceof SQLException s && schema.isContention(s))) {
                closeConnection();
            }
            throw e;
        }
    }

    /** The listener's idle work (a time-based checkpoint) when there was nothing to ingest. */
    void idle() {
        if (connection != null) {
            listener.idle(connection);
        }
    }

    long idleWaitMillis() {
        return listener.idleWaitMillis();
    }

    void close() {
        closeConnection();
    }

    /** Finds where this replica's chain stands in the store. */
    private void loadChain() throws SQLException {
        try (PreparedStatement q = connection.prepareStatement(
                "SELECT chain_seq, hash FROM audit_event WHERE replica = ? ORDER BY chain_seq DESC LIMIT 1")) {
            q.setString(1, replica);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    nextSeq = rs.getLong(1) + 1;
                    prevHash = rs.getString(2);
                } else {
                    // Everything may have been archived: the chain goes on from the cut.
                    AuditArchive.Cut cut = AuditArchive.cut(connection, replica);
                    nextSeq = cut == null ? 1 : cut.upToSeq() + 1;
                    prevHash = cut == null ? RecordHash.GENESIS : cut.lastHash();
                }
            }
        }
        chainLoaded = true;
    }

    private void rollback() {
        schema.rolledBack();
        try {
            control.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // The store may already have rolled back (disk full, I/O error); if not, closing the connection will.
        }
    }

    private static final AuditRow.Peer NO_PEER = new AuditRow.Peer(null, null, null, null);
    private static final AuditRow.Request NO_REQUEST = new AuditRow.Request(null, null, null, null, null);
    private static final AuditRow.Result NO_RESULT = new AuditRow.Result(null, null, null, null, null);

    private static void bind(PreparedStatement insert, int base, AuditRow row) throws SQLException {
        var peer = row.peer() == null ? NO_PEER : row.peer();
        var request = row.request() == null ? NO_REQUEST : row.request();
        var result = row.result() == null ? NO_RESULT : row.result();
        insert.setString(base + 1, row.time());
        insert.setString(base + 2, row.kind());
        insert.setString(base + 3, row.sessionId());
        setLong(insert, base + 4, row.statementId());
        insert.setString(base + 5, peer.clientAddress());
        insert.setString(base + 6, peer.upstream());
        insert.setString(base + 7, peer.issuer());
        insert.setString(base + 8, peer.subject());
        insert.setString(base + 9, request.protocol());
        insert.setString(base + 10, request.statement());
        insert.setString(base + 11, request.parameters());
        insert.setString(base + 12, request.preparedName());
        insert.setString(base + 13, request.portal());
        insert.setString(base + 14, result.outcome());
        insert.setString(base + 15, result.sqlState());
        insert.setString(base + 16, result.commandTag());
        setLong(insert, base + 17, result.rowCount());
        setLong(insert, base + 18, result.durationMicros());
        insert.setString(base + 19, row.detail());
    }

    private static void setLong(PreparedStatement insert, int index, Long value) throws SQLException {
        if (value == null) {
            insert.setNull(index, Types.BIGINT);
        } else {
            insert.setLong(index, value);
        }
    }

    private void ensureOpen() throws SQLException, IOException {
        if (connection != null && schema.lost(connection)) {
            log.warn("audit store {} is gone; starting a new one", store);
            closeConnection();
        }
        if (connection == null) {
            connection = schema.open();
        }
        if (control == null) {
            inserts = new PreparedStatement[Integer.numberOfTrailingZeros(schema.maxRowsPerInsert()) + 1];
            control = connection.createStatement();
        }
        if (!chainLoaded) {
            loadChain();
        }
        listener.opened(connection);
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException e) {
            log.warn("audit store {} did not close cleanly: {}", store, reason(e));
        } finally {
            connection = null;
            inserts = null;
            control = null;
            schema.rolledBack();
        }
    }

    static void complete(List<Batch> group, AuditUnavailableException failure) {
        // The futures handed to callers of append are async dependents of these (see AuditStore.append), so no
        // caller code runs here, but completing one starts a virtual thread. Sessions blocked on a statement go
        // first, so their wake-up does not wait behind those starts.
        for (Batch batch : group) {
            if (batch.awaited()) {
                complete(batch, failure);
            }
        }
        for (Batch batch : group) {
            if (!batch.awaited()) {
                complete(batch, failure);
            }
        }
    }

    private static void complete(Batch batch, AuditUnavailableException failure) {
        if (failure == null) {
            batch.done().complete(null);
        } else {
            batch.done().completeExceptionally(failure);
        }
    }

    /** A group refused by {@link AuditStore#checkEachGroup}: its reason is the whole message. */
    private static final class Refused extends IOException {
        Refused(String reason) {
            super(reason);
        }
    }

    /** Throws when a {@link AuditStore.GroupCheck} gave a reason to refuse the group. */
    static void refuseIf(String problem) throws IOException {
        if (problem != null) {
            throw new Refused(problem);
        }
    }

    /** Why a write failed, for messages and logs: the store's own text, or the exception class and its message. */
    static String reason(Exception e) {
        if (e instanceof SQLiteException || e instanceof org.postgresql.util.PSQLException || e instanceof Refused) {
            return e.getMessage();
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /** Groups that failed in a row, 0 once one succeeds. */
    long failureStreak() {
        return failureStreak;
    }
}
