package io.phigate.pg;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.ResponseRecorder;
import io.phigate.pg.Op.Kind;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementWords;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The responses the server owes the client, in protocol order: one {@link Op} per forwarded message that the server
 * answers (Parse, Bind, Describe, Execute, Close, Sync, Query, FunctionCall; Flush and COPY data owe nothing), and
 * the gateway's own answers (refusals, kept settings) queued where the server's would have been. Each backend
 * message retires the op it answers; what that op staged in the {@link SessionState} is confirmed, discarded or
 * forgotten on the server's word.
 *
 * <p>The protocol facts it keeps: after an ErrorResponse in an extended-protocol batch the server skips everything
 * up to the next Sync, so those ops retire as skipped; a simple Query (one or many statements, COPY included) is
 * answered until its ReadyForQuery, and an error ends only the rest of it; an Execute ends at CommandComplete,
 * EmptyQueryResponse, PortalSuspended or ErrorResponse; a RowDescription or NoData answers a Describe, never a
 * Query's result; every Sync gets exactly one ReadyForQuery. Between a Copy*Response and the CommandComplete the op
 * answered stays at the head.
 *
 * <p>Pure: no I/O, no locks, no threads. {@link Exchange} calls it under its ops lock, collects the statements that
 * finished ({@link #takeFinished}) and the local answers now due ({@link #takeReleased}), and acts on them after
 * releasing the lock.
 */
final class ExpectedResponses {
    private final ArrayDeque<Op> ops = new ArrayDeque<>();
    private final SessionState state = new SessionState();
    /** After an error the server ignores everything up to Sync; set when no Sync is queued yet to end that. */
    private boolean skippingToSync;
    /** Statements that finished since the last {@link #takeFinished}; allocated only when one does. */
    private List<StatementRun> finished = List.of();
    /** Local answers due since the last {@link #takeReleased}, in the order they reach the client. */
    private List<byte[]> released = List.of();

    SessionState state() {
        return state;
    }

    /** Registers what forwarded messages will produce, in the order they were sent. */
    void expect(List<Op> forwarded) {
        for (Op op : forwarded) {
            if (op.kind() == Kind.SYNC) {
                ops.addLast(op);
                skippingToSync = false; // what follows this Sync, the server runs
            } else if (skippingToSync) {
                retireSkipped(op);
            } else {
                ops.addLast(op);
            }
        }
    }

    /** Forgets changes staged for messages that were never forwarded (a refused request). */
    void discardUnsent(List<Op> unsent) {
        for (Op op : unsent) {
            op.changes().forEach(state::forget);
        }
    }

    /** An answer of the gateway's own: due now when nothing is pending, else after everything forwarded before. */
    void answerLocally(byte[] frames) {
        if (ops.isEmpty()) {
            release(frames);
        } else {
            ops.addLast(Op.local(frames));
        }
    }

    boolean idle() {
        return ops.isEmpty();
    }

    /** The op the server is answering now, or null. */
    Op head() {
        return ops.peekFirst();
    }

    /** True while {@code op} (that very op) awaits its answer. */
    boolean pending(Op op) {
        for (Op o : ops) {
            if (o == op) {
                return true;
            }
        }
        return false;
    }

    boolean probeAtHead() {
        Op head = ops.peekFirst();
        return head != null && head.kind() == Kind.PROBE;
    }

    /** True when the server is skipping the rest of a failed batch and no Sync has been sent to end it yet. */
    boolean skippingToSync() {
        return skippingToSync;
    }

    /**
     * The recording a server frame belongs to: that of the first statement still pending in the current batch. Parse,
     * Bind and Describe answers go with the Execute they prepare; a Query's answers, ReadyForQuery included, with the
     * Query. Frames after a batch's last statement (its ReadyForQuery) and asynchronous ones belong to none.
     */
    ResponseRecorder recorder() {
        for (Op op : ops) {
            if (op.statement() != null) {
                return op.statement().recorder;
            }
            if (op.kind() == Kind.SYNC || op.kind() == Kind.LOCAL) {
                return null;
            }
        }
        return null;
    }

    /**
     * The words of the statements still to be answered up to the next Sync (an error answers the first of them, or
     * the Parse or Bind before it): what the client already knows, so a message may quote it back.
     */
    Set<String> pendingWords() {
        Set<String> known = new HashSet<>();
        for (Op op : ops) {
            if (op.kind() == Kind.SYNC) {
                break;
            }
            if (op.shape() != null) {
                for (StatementAnalysis a : op.shape().statements) {
                    known.addAll(StatementWords.of(a.text()));
                }
                if (op.shape().prepared != null && op.shape().prepared.analysis != null) {
                    known.addAll(StatementWords.of(op.shape().prepared.analysis.text()));
                }
            }
            if (op.described() != null && op.described().analysis != null) {
                known.addAll(StatementWords.of(op.described().analysis.text()));
            }
        }
        return known;
    }

    // ---- the server's answers ----

    void parseComplete() {
        retire(Kind.PARSE, null);
    }

    void bindComplete() {
        retire(Kind.BIND, null);
    }

    void closeComplete() {
        retire(Kind.CLOSE, null);
    }

    /** The gateway's own question within the batch was answered (its frames went to it, never to the client). */
    void probeAnswered() {
        retire(Kind.PROBE, null);
    }

    /** RowDescription or NoData: answers a Describe; inside a Query's or Execute's results it retires nothing. */
    void described() {
        retire(Kind.DESCRIBE, null);
    }

    /** CommandComplete: ends an Execute, or one statement of a simple Query (whose changes it confirms). */
    void commandComplete(String tag, long rows) {
        Op head = ops.peekFirst();
        if (head != null && head.statement() != null) {
            head.statement().commandComplete(tag, rows);
        }
        if (head != null && head.kind() == Kind.QUERY) {
            confirmQueryStatement(head, tag);
        }
        retire(Kind.EXECUTE, tag);
    }

    /** PortalSuspended: the Execute delivered its row count and the portal stays open for another. */
    void portalSuspended() {
        Op head = ops.peekFirst();
        if (head != null && head.kind() == Kind.EXECUTE) {
            head.statement().commandTag = "(portal suspended)";
            head.statement().rows += head.statement().maxRows;
        }
        retire(Kind.EXECUTE, null);
    }

    /** EmptyQueryResponse: ends an Execute of an empty statement; inside a simple Query it retires nothing. */
    void emptyQuery() {
        retire(Kind.EXECUTE, null);
    }

    /** ReadyForQuery: ends a Sync's batch, a simple Query or a FunctionCall. */
    void readyForQuery(byte status) {
        Op head = ops.peekFirst();
        if (head != null && (head.kind() == Kind.SYNC || head.kind() == Kind.QUERY || head.kind() == Kind.FUNCTION_CALL)) {
            ops.pollFirst();
            finishAnswered(head, null);
        }
        skippingToSync = false;
        releaseLocalsAtHead();
        state.readyForQuery(status);
    }

    /**
     * ErrorResponse: fails the statement it answers and, in an extended-protocol batch, retires everything the server
     * now skips. Returns false for the error the gateway provoked to abort a refused request's transaction: the
     * client already has the gateway's own, and must not see this one.
     */
    boolean error(String sqlState) {
        state.serverError();
        Op head = ops.peekFirst();
        if (head != null && head.kind() == Kind.INTERNAL_FAIL) {
            ops.pollFirst();
            skipToSync();
            return false;
        }
        if (head == null) {
            return true; // asynchronous (e.g. FATAL on shutdown); the connection ends next
        }
        switch (head.kind()) {
            case QUERY, FUNCTION_CALL -> {
                // The rest of a simple Query does not run: what its statements would have changed never happens.
                head.statement().failed(sqlState);
                discardChanges(head);
            }
            case SYNC, LOCAL -> {
                // Nothing pending expects an error here; ReadyForQuery follows.
            }
            default -> {
                // The failing statement is this op's, or, when a Parse/Bind/Describe failed, the Execute it was
                // preparing: the next statement in the batch.
                for (Op op : ops) {
                    if (op.kind() == Kind.SYNC) {
                        break;
                    }
                    if (op.statement() != null) {
                        op.statement().failed(sqlState);
                        break;
                    }
                }
                ops.pollFirst();
                discardChanges(head);
                if (head.statement() != null) {
                    finished(head.statement());
                }
                skipToSync();
            }
        }
        return true;
    }

    /** The upstream connection is gone: every pending statement ends as aborted, and no local answer is due. */
    void connectionLost() {
        state.abandonPending();
        for (Op op; (op = ops.pollFirst()) != null; ) {
            if (op.statement() != null) {
                op.statement().finish(Outcome.ABORTED);
                finished(op.statement());
            }
        }
    }

    /** The statements that finished since the last call (an empty list when none did). */
    List<StatementRun> takeFinished() {
        List<StatementRun> f = finished;
        finished = List.of();
        return f;
    }

    /** The local answers now due, in order (an empty list when none are). */
    List<byte[]> takeReleased() {
        List<byte[]> r = released;
        released = List.of();
        return r;
    }

    // ---- retiring ----

    /** Pops the head if it is of the expected kind and completes it, then releases the local answers behind it. */
    private void retire(Kind expected, String tag) {
        Op head = ops.peekFirst();
        if (head != null && head.kind() == expected) {
            ops.pollFirst();
            finishAnswered(head, tag);
        }
        releaseLocalsAtHead();
    }

    private void finishAnswered(Op head, String tag) {
        if (head.kind() == Kind.QUERY) {
            discardChanges(head); // a statement of it whose CommandComplete never came did not happen
        } else {
            for (SessionState.Pending p : head.changes()) {
                state.confirm(p, tag);
            }
        }
        if (head.statement() != null) {
            head.statement().finish(Outcome.OK);
            finished(head.statement());
        }
    }

    private void releaseLocalsAtHead() {
        while (!ops.isEmpty() && ops.peekFirst().kind() == Kind.LOCAL) {
            release(ops.pollFirst().local());
        }
    }

    /** Retires everything up to the next Sync, as the server will skip those messages. */
    private void skipToSync() {
        while (!ops.isEmpty() && ops.peekFirst().kind() != Kind.SYNC) {
            retireSkipped(ops.pollFirst());
        }
        skippingToSync = ops.isEmpty();
    }

    private void retireSkipped(Op op) {
        // Skipped: not even what a message changes whatever happens to it (a Query's unnamed drops) took place.
        op.changes().forEach(state::forget);
        if (op.statement() != null) {
            op.statement().finish(Outcome.SKIPPED);
            finished(op.statement());
        }
    }

    /** Discards what an op would have changed (confirming what happens anyway). */
    private void discardChanges(Op op) {
        for (SessionState.Pending p : op.changes()) {
            state.discard(p);
        }
        if (!op.changes().isEmpty() && op.changes() instanceof ArrayList<SessionState.Pending> l) {
            l.clear();
        }
    }

    /**
     * A CommandComplete inside a simple Query: confirms the changes of the statement it ends. The server sends
     * nothing for an empty statement, so the tag, not a count, says which statement this was.
     */
    private void confirmQueryStatement(Op query, String tag) {
        List<SessionState.Pending> changes = query.changes();
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
    }

    private void finished(StatementRun run) {
        if (finished.isEmpty()) {
            finished = new ArrayList<>(2);
        }
        finished.add(run);
    }

    private void release(byte[] frames) {
        if (released.isEmpty()) {
            released = new ArrayList<>(2);
        }
        released.add(frames);
    }
}
