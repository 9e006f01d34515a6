package io.phigate.pg;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.ResponseRecorder;
import io.phigate.session.SessionMasking;
import io.phigate.pg.message.BackendMessage.CommandComplete;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.BackendMessage.RowDescription;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementWords;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Keeps the client's view of one session in protocol order. The client reader registers, before forwarding, what
 * each forwarded message will produce (an {@link Op}); the response pump retires ops as the server answers. A
 * response the gateway makes itself (a refusal) is queued as a local op, so it reaches the client after the
 * answers to everything forwarded before it, and never in the middle of them.
 *
 * <p>Two locks, always taken in the order ops then output: {@code opsLock} guards the queue, {@code outLock}
 * makes every client write whole frames. The pump holds only {@code outLock} while it writes rows, so a client
 * that is slow to read never stops the client reader from forwarding.
 */
final class Exchange {

    enum Kind { PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC, QUERY, FUNCTION_CALL, LOCAL, INTERNAL_FAIL }

    /** What one forwarded message (or one local response) will produce. */
    record Op(Kind kind, StatementRun statement, byte[] local, ResultShape shape, ResultShape.Prepared described,
              List<SessionState.Pending> changes) {
        Op(Kind kind, StatementRun statement, byte[] local) {
            this(kind, statement, local, null, null, List.of());
        }

        Op(Kind kind, StatementRun statement, byte[] local, ResultShape shape, ResultShape.Prepared described) {
            this(kind, statement, local, shape, described, List.of());
        }

        /** The same op, carrying the session-state changes its answer confirms (in order). */
        Op withChanges(List<SessionState.Pending> staged) {
            return staged.isEmpty() ? this : new Op(kind, statement, local, shape, described, new ArrayList<>(staged));
        }

        static Op of(Kind kind) {
            return new Op(kind, null, null);
        }

        static Op statement(Kind kind, StatementRun s) {
            return new Op(kind, s, null);
        }

        /** A message whose results are masked by {@code shape} (Query, Execute, Describe of a portal). */
        static Op shaped(Kind kind, StatementRun s, ResultShape shape) {
            return new Op(kind, s, null, shape, null);
        }

        /** A Parse: it carries its statement so that an error answering it is scrubbed knowing what was sent. */
        static Op parse(ResultShape.Prepared prepared) {
            return new Op(Kind.PARSE, null, null, null, prepared);
        }

        /** A Describe of a prepared statement: its answer is what later Executes of it will look like. */
        static Op describeStatement(ResultShape.Prepared prepared) {
            return new Op(Kind.DESCRIBE, null, null, null, prepared);
        }
    }

    private final ArrayDeque<Op> ops = new ArrayDeque<>();
    private final ReentrantLock opsLock = new ReentrantLock();
    private final ReentrantLock outLock = new ReentrantLock();
    /** The session's statements and portals; read and changed under {@code opsLock} only. */
    private final SessionState state = new SessionState();
    /** Signalled when the server's answers confirmed or discarded staged changes. */
    private final Condition answered = opsLock.newCondition();
    private final OutputStream client;
    private final Consumer<StatementRun> completed;
    /** Most rows one result may deliver (the role's row_limit); 0 for no limit. Pump-thread state below. */
    private final long rowLimit;
    private final String roleName;
    private long rowsInResult;
    private final CopyRows copyRows = new CopyRows();
    private boolean rowsWithheld;
    /** Null when this session masks nothing: every result streams through untouched. */
    private final SessionMasking masking;
    /** After an error in an extended-protocol batch the server ignores everything up to Sync; so do we. */
    private boolean skippingToSync;
    private volatile byte transactionStatus;
    private volatile boolean clientBroken;
    /** Null when this session masks nothing. */
    private final ResultMasking results;
    /** Copies what the pump streams to the client into the recording of the statement it answers. */
    private final Tee tee = new Tee();

    private final class Tee extends OutputStream {
        ResponseRecorder recorder;

        @Override
        public void write(int b) throws IOException {
            client.write(b);
            recorder.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            client.write(b, off, len);
            recorder.write(b, off, len);
        }
    }

    Exchange(OutputStream client, Consumer<StatementRun> completed, byte initialStatus, SessionMasking masking,
             long rowLimit, String roleName) {
        this.client = client;
        this.rowLimit = rowLimit;
        this.roleName = roleName;
        this.masking = masking;
        this.results = masking == null ? null : new ResultMasking(masking, this);
        this.completed = completed;
        this.transactionStatus = initialStatus;
    }

    // ---- client reader side ----

    /** Registers what forwarded messages will produce; call before writing them upstream. */
    void expect(List<Op> forwarded) {
        opsLock.lock();
        try {
            for (Op op : forwarded) {
                if (skippingToSync && op.kind != Kind.SYNC) {
                    retireSkipped(op);
                } else {
                    ops.addLast(op);
                }
            }
        } finally {
            opsLock.unlock();
        }
    }

    /** Reads or stages session state (client reader) under the ops lock. */
    <T> T state(Function<SessionState, T> f) {
        opsLock.lock();
        try {
            return f.apply(state);
        } finally {
            opsLock.unlock();
        }
    }

    /**
     * Waits until the server has answered every change staged in an earlier segment, so that what a name means
     * no longer depends on whether one of them fails. Gives up (IOException) once {@code stop} says so.
     */
    void awaitSettled(BooleanSupplier stop, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        opsLock.lock();
        try {
            while (state.earlierSegmentsPending()) {
                if (stop.getAsBoolean() || System.nanoTime() > deadline) {
                    // Fail closed: without the server's answers the gateway cannot tell what a name will mean.
                    throw new IOException("the server did not answer the session's earlier requests in time");
                }
                answered.await(100, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the server's answers");
        } finally {
            opsLock.unlock();
        }
    }

    /**
     * Blocks until everything forwarded has been answered, or {@code giveUp} says to stop waiting (checked at least
     * every 50 ms). An analysed session sends its next request only then: a statement before it may change a
     * setting the analysis depends on, which the server reports only at its ReadyForQuery (decision 0032).
     */
    void awaitIdle(BooleanSupplier giveUp) throws IOException {
        opsLock.lock();
        try {
            while (!ops.isEmpty() && !giveUp.getAsBoolean()) {
                answered.await(50, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the server's answers");
        } finally {
            opsLock.unlock();
        }
    }

    /** Forgets changes staged for messages that were never forwarded (a refused request). */
    void discardUnsent(List<Op> unsent) {
        opsLock.lock();
        try {
            for (Op op : unsent) {
                op.changes.forEach(state::forget);
            }
        } finally {
            opsLock.unlock();
        }
    }

    /** Sends a response of the gateway's own, after the answers to everything forwarded before it. */
    void respondLocally(byte[] frames) throws IOException {
        opsLock.lock();
        try {
            if (ops.isEmpty()) {
                write(frames, true);
            } else {
                ops.addLast(new Op(Kind.LOCAL, null, frames));
            }
        } finally {
            opsLock.unlock();
        }
    }

    /** True when nothing forwarded is awaiting an answer. */
    boolean idle() {
        opsLock.lock();
        try {
            return ops.isEmpty();
        } finally {
            opsLock.unlock();
        }
    }

    byte transactionStatus() {
        return transactionStatus;
    }

    // ---- response pump side ----

    /** Streams a row ('D') or COPY data ('d') frame from the server to the client, masked where the plan says. */
    void forward(byte type, FrameReader upstream) throws IOException {
        if (rowLimit > 0 && (type == 'D' || type == 'd' && copyRows.isRow(upstream)) && ++rowsInResult > rowLimit) {
            upstream.skipBody();
            rowsWithheld = true;
            return;
        }
        if (masking != null && results.maskedForward(type, upstream)) {
            return;
        }
        ResponseRecorder recorder = recorderForNextFrame();
        outLock.lock();
        try {
            if (recorder == null) {
                upstream.transferTo(client);
            } else {
                tee.recorder = recorder;
                upstream.transferTo(tee);
            }
        } catch (IOException e) {
            clientBroken = true;
            throw e;
        } finally {
            outLock.unlock();
        }
    }

    /** Forwards a decoded-size frame and retires the ops it answers. */
    void onBackendFrame(byte type, byte[] body) throws IOException {
        if (masking != null) {
            body = results.maskFrame(type, body);
        }
        switch (type) {
            case 'H' -> {
                copyRows.start(body, head() == null ? null : head().shape);
                writeFrame(type, body);
            }
            case 'E' -> onError(body);
            case 'Z' -> {
                writeFrame(type, body);
                transactionStatus = body[0];
                retire(k -> k == Kind.SYNC || k == Kind.QUERY || k == Kind.FUNCTION_CALL, Outcome.OK, true, null);
                opsLock.lock();
                try {
                    state.readyForQuery(body[0]);
                } finally {
                    opsLock.unlock();
                }
            }
            case 'C' -> {
                body = endOfResult(body);
                writeFrame(type, body);
                nextStatementOfQuery();
                CommandComplete cc = (CommandComplete) MessageCodec.decodeBackend(type, body);
                opsLock.lock();
                try {
                    Op head = ops.peekFirst();
                    if (head != null && head.statement != null) {
                        head.statement.commandComplete(cc.tag(), cc.rows());
                    }
                    if (head != null && head.kind == Kind.QUERY) {
                        confirmQueryStatement(head, cc.tag());
                    }
                } finally {
                    opsLock.unlock();
                }
                retire(k -> k == Kind.EXECUTE, Outcome.OK, false, cc.tag());
            }
            case 's' -> {
                writeFrame(type, body);
                opsLock.lock();
                try {
                    Op head = ops.peekFirst();
                    if (head != null && head.kind == Kind.EXECUTE) {
                        head.statement.commandTag = "(portal suspended)";
                        head.statement.rows += head.statement.maxRows;
                    }
                } finally {
                    opsLock.unlock();
                }
                retire(k -> k == Kind.EXECUTE, Outcome.OK, false, null);
            }
            case 'I' -> {
                rowsInResult = 0;
                writeFrame(type, body);
                nextStatementOfQuery();
                retire(k -> k == Kind.EXECUTE, Outcome.OK, false, null);
            }
            case '1' -> {
                writeFrame(type, body);
                retire(k -> k == Kind.PARSE, Outcome.OK, false, null);
            }
            case '2' -> {
                writeFrame(type, body);
                retire(k -> k == Kind.BIND, Outcome.OK, false, null);
            }
            case '3' -> {
                writeFrame(type, body);
                retire(k -> k == Kind.CLOSE, Outcome.OK, false, null);
            }
            case 'n', 'T' -> {
                rowsInResult = 0;
                rowsWithheld = false;
                writeFrame(type, body);
                // RowDescription also appears inside a simple Query's results; only a Describe retires here.
                retire(k -> k == Kind.DESCRIBE, Outcome.OK, false, null);
            }
            default -> writeFrame(type, body);
        }
    }

    /**
     * The words of the statements still to be answered up to the next Sync (an error answers the first of them, or
     * the Parse or Bind before it): what the client already knows, so a message may quote it back.
     */
    Set<String> pendingWords() {
        Set<String> known = new HashSet<>();
        opsLock.lock();
        try {
            for (Op op : ops) {
                if (op.kind == Kind.SYNC) {
                    break;
                }
                if (op.shape != null) {
                    for (StatementAnalysis a : op.shape.statements) {
                        known.addAll(StatementWords.of(a.text()));
                    }
                    if (op.shape.prepared != null && op.shape.prepared.analysis != null) {
                        known.addAll(StatementWords.of(op.shape.prepared.analysis.text()));
                    }
                }
                if (op.described != null && op.described.analysis != null) {
                    known.addAll(StatementWords.of(op.described.analysis.text()));
                }
            }
        } finally {
            opsLock.unlock();
        }
        return known;
    }

    private void onError(byte[] body) throws IOException {
        ErrorResponse error = (ErrorResponse) MessageCodec.decodeBackend((byte) 'E', body);
        opsLock.lock();
        try {
            state.serverError();
            answered.signalAll();
            Op head = ops.peekFirst();
            if (head != null && head.kind == Kind.INTERNAL_FAIL) {
                // The error we provoked to abort the upstream transaction; the client already has ours.
                ops.pollFirst();
                skipToSync();
                return;
            }
            writeFrame((byte) 'E', body);
            if (head == null) {
                return; // asynchronous (e.g. FATAL on shutdown); the connection ends next
            }
            switch (head.kind) {
                case QUERY, FUNCTION_CALL -> {
                    // The rest of a simple Query does not run: what its statements would have changed never happens.
                    head.statement.failed(error.sqlState());
                    discardChanges(head);
                }
                case SYNC, LOCAL -> {
                    // Nothing pending expects an error here; ReadyForQuery follows.
                }
                default -> {
                    // The failing statement is this op's, or, when a Parse/Bind/Describe failed, the Execute it
                    // was preparing: the next statement in the batch.
                    for (Op op : ops) {
                        if (op.kind == Kind.SYNC) {
                            break;
                        }
                        if (op.statement != null) {
                            op.statement.failed(error.sqlState());
                            break;
                        }
                    }
                    ops.pollFirst();
                    discardChanges(head);
                    if (head.statement != null) {
                        completed.accept(head.statement);
                    }
                    skipToSync();
                }
            }
        } finally {
            opsLock.unlock();
        }
    }

    /** Retires everything up to the next Sync, as the server will skip those messages. */
    private void skipToSync() throws IOException {
        while (!ops.isEmpty() && ops.peekFirst().kind != Kind.SYNC) {
            retireSkipped(ops.pollFirst());
        }
        skippingToSync = ops.isEmpty();
    }

    private void retireSkipped(Op op) {
        // Skipped: not even what a message changes whatever happens to it (a Query's unnamed drops) took place.
        op.changes.forEach(state::forget);
        answered.signalAll();
        if (op.statement != null) {
            op.statement.finish(Outcome.SKIPPED);
            completed.accept(op.statement);
        }
    }

    /** Pops the head if it is of an expected kind, completes its statement, then sends any local responses. */
    private void retire(java.util.function.Predicate<Kind> expected, Outcome outcome, boolean endOfBatch,
                        String tag) throws IOException {
        opsLock.lock();
        try {
            Op head = ops.peekFirst();
            if (head != null && expected.test(head.kind)) {
                ops.pollFirst();
                if (head.kind == Kind.QUERY) {
                    discardChanges(head); // a statement of it whose CommandComplete never came did not happen
                } else {
                    for (SessionState.Pending p : head.changes) {
                        state.confirm(p, tag);
                    }
                }
                answered.signalAll();
                if (head.statement != null) {
                    head.statement.finish(outcome);
                    completed.accept(head.statement);
                }
            }
            if (endOfBatch) {
                skippingToSync = false;
            }
            while (!ops.isEmpty() && ops.peekFirst().kind == Kind.LOCAL) {
                write(ops.pollFirst().local, false);
            }
            if (ops.isEmpty()) {
                answered.signalAll();
            }
        } finally {
            opsLock.unlock();
        }
    }

    /** Called when the upstream connection is gone: every pending statement ends as aborted. */
    void abortPending() {
        opsLock.lock();
        try {
            state.abandonPending();
            answered.signalAll();
            for (Op op; (op = ops.pollFirst()) != null; ) {
                if (op.statement != null) {
                    op.statement.finish(Outcome.ABORTED);
                    completed.accept(op.statement);
                }
            }
        } finally {
            opsLock.unlock();
        }
    }

    /** Discards what an op would have changed (confirming what happens anyway); call under the ops lock. */
    private void discardChanges(Op op) {
        for (SessionState.Pending p : op.changes) {
            state.discard(p);
        }
        if (!op.changes.isEmpty() && op.changes instanceof ArrayList<SessionState.Pending> l) {
            l.clear();
        }
        answered.signalAll();
    }

    /**
     * A CommandComplete inside a simple Query: confirms the changes of the statement it ends. The server sends
     * nothing for an empty statement, so the tag, not a count, says which statement this was.
     */
    private void confirmQueryStatement(Op query, String tag) {
        List<SessionState.Pending> changes = query.changes;
        while (!changes.isEmpty()) {
            SessionState.Pending p = changes.getFirst();
            if (p.unconditional) {
                state.confirm(p, null);
            } else if (SessionState.confirmedBy(p, tag)) {
                state.confirm(p, tag);
                changes.removeFirst();
                break;
            } else {
                break;
            }
            changes.removeFirst();
        }
        answered.signalAll();
    }

    // ---- results (pump side) ----

    /** The op the server is answering now, or null. */
    Op head() {
        opsLock.lock();
        try {
            return ops.peekFirst();
        } finally {
            opsLock.unlock();
        }
    }

    /**
     * Ends a result: when the role's row limit held rows back, the client is told so in a notice and the command
     * tag counts what it received.
     */
    private byte[] endOfResult(byte[] body) throws IOException {
        long delivered = Math.min(rowsInResult, rowLimit);
        boolean withheld = rowsWithheld;
        rowsInResult = 0;
        rowsWithheld = false;
        if (!withheld) {
            return body;
        }
        writeFrame((byte) 'N', ResultMasking.bodyOf(ErrorCodes.notice("phigate returned only the first " + rowLimit
                + " rows of this result: role \"" + roleName + "\" has row_limit " + rowLimit)));
        String tag = ((CommandComplete) MessageCodec.decodeBackend((byte) 'C', body)).tag();
        int space = tag.lastIndexOf(' ');
        return ResultMasking.bodyOf(new CommandComplete(space < 0 ? tag : tag.substring(0, space + 1) + delivered));
    }

    /** After a CommandComplete or EmptyQueryResponse, a simple Query's next results belong to its next statement. */
    private void nextStatementOfQuery() {
        if (masking == null) {
            return;
        }
        Op head = head();
        if (head != null && head.kind == Kind.QUERY && head.shape != null) {
            head.shape.nextStatement();
        }
    }


    // ---- output ----

    void flush() throws IOException {
        outLock.lock();
        try {
            client.flush();
        } catch (IOException e) {
            clientBroken = true;
            throw e;
        } finally {
            outLock.unlock();
        }
    }

    /** Writes a message of the gateway's own regardless of pending ops (FATAL before closing). */
    void writeNow(byte[] frames) throws IOException {
        write(frames, true);
    }

    /**
     * Like {@link #writeNow}, but gives up after {@code millis} if the output is held by a write that is blocked
     * on a client that stopped reading; the caller then just closes the connection.
     */
    boolean tryWriteNow(byte[] frames, long millis) throws IOException {
        try {
            if (!outLock.tryLock(millis, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            client.write(frames);
            client.flush();
            return true;
        } finally {
            outLock.unlock();
        }
    }

    boolean clientBroken() {
        return clientBroken;
    }

    /**
     * The recording a server frame belongs to: that of the first statement still pending in the current batch. Parse,
     * Bind and Describe answers go with the Execute they prepare; a Query's answers, ReadyForQuery included, with the
     * Query. Frames after a batch's last statement (its ReadyForQuery) and asynchronous ones belong to none.
     */
    private ResponseRecorder recorderForNextFrame() {
        opsLock.lock();
        try {
            for (Op op : ops) {
                if (op.statement != null) {
                    return op.statement.recorder;
                }
                if (op.kind == Kind.SYNC || op.kind == Kind.LOCAL) {
                    return null;
                }
            }
            return null;
        } finally {
            opsLock.unlock();
        }
    }

    void writeFrame(byte type, byte[] body) throws IOException {
        ResponseRecorder recorder = recorderForNextFrame();
        outLock.lock();
        try {
            int len = body.length + 4;
            byte[] header = {type, (byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len};
            client.write(header);
            client.write(body);
            if (recorder != null) {
                recorder.write(header, 0, 5);
                recorder.write(body, 0, body.length);
            }
        } catch (IOException e) {
            clientBroken = true;
            throw e;
        } finally {
            outLock.unlock();
        }
    }

    private void write(byte[] frames, boolean flush) throws IOException {
        outLock.lock();
        try {
            client.write(frames);
            if (flush) {
                client.flush();
            }
        } catch (IOException e) {
            clientBroken = true;
            throw e;
        } finally {
            outLock.unlock();
        }
    }
}
