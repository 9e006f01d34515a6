package io.phigate.pg;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.Execute;
import io.phigate.pg.message.FrontendMessage.Sync;
import io.phigate.pg.message.MessageCodec;
import io.phigate.policy.RiskRules;
import io.phigate.session.Decision;
import io.phigate.session.Refusal;
import io.phigate.session.StatementApprovals;
import io.phigate.session.StatementRecords;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead rule and everything that answers instead of the server. Client messages collect in a
 * {@link RequestChunk}; at a request boundary its audit records are made durable (and any Execute a rule holds is
 * approved) before its frames go upstream in one write. A refused statement is recorded and answered in protocol
 * order, and when the upstream may hold an open transaction or part of the batch, the server is made to fail and
 * sync so it ends in the state the client is told. Runs on the client reader.
 */
final class RequestForwarder {
    private static final Logger log = LoggerFactory.getLogger(RequestForwarder.class);
    /** A portal name no client creates: executing it makes the server raise an error, aborting its transaction. */
    private static final byte[] PROVOKE_ERROR = execBody("phigate: refused statement");

    /** An Execute waiting, with the rest of its batch, for approval. */
    record HeldExecute(StatementRun run, RiskRules.Hit hit, String text, List<String> parameters,
                               StatementAnalysis analysis) {
        @Override
        public String toString() {
            return "HeldExecute[" + run.id + ", rule=" + hit.rule().name() + "]";
        }
    }


    private final String sessionId;
    private final AuditSink audit;
    private final Exchange exchange;
    /** Where frames go upstream: the connection's blocking stream, or an event-loop session's buffered channel. */
    private final OutputStream up;
    private final HeldStatements approvals;
    private final StatementRecords records;
    private final Supplier<String> justification;
    private final int responseCap;
    private final AtomicLong statementIds = new AtomicLong();
    final RequestChunk chunk = new RequestChunk();
    /** What code earlier in the open request may have changed, and what the rest of it may not do. */
    final OpenBatch batch;
    /** Extended-protocol messages went upstream since the last Sync. */
    private boolean batchOpenUpstream;
    /** A refused extended-protocol batch: drop the client's messages until its Sync. */
    private boolean discardToSync;
    /** Executes in the current chunk that need approval: the chunk is held (and cut only at Sync or Flush). */
    private final List<HeldExecute> heldExecutes = new ArrayList<>();

    /** Set by an event-loop session: request ends are noted ({@link #requestEnded}), not forwarded in place. */
    private boolean onLoop;
    private boolean requestEnded;
    /** Statements are analysed: each request waits for the answers to the ones before it (decision 0032). */
    private final boolean analysed;
    /** True once the session is ending; a request still waiting is then never forwarded. */
    private final java.util.function.BooleanSupplier closing;
    /** search_path and role changed by code out of sight (decision 0064); null when statements are not analysed. */
    private final HiddenSettingChanges hidden;

    RequestForwarder(String sessionId, AuditSink audit, Exchange exchange, OutputStream up,
                     HeldStatements approvals, StatementRecords records, Supplier<String> justification,
                     int responseCap, boolean analysed, java.util.function.BooleanSupplier closing,
                     HiddenSettingChanges hidden) {
        this.up = up;
        this.analysed = analysed;
        this.hidden = hidden;
        this.batch = new OpenBatch(analysed, hidden);
        this.closing = closing;
        this.sessionId = sessionId;
        this.audit = audit;
        this.exchange = exchange;
        this.approvals = approvals;
        this.records = records;
        this.justification = justification;
        this.responseCap = responseCap;
    }

    /** True after a refusal in an extended-protocol batch: the client's messages are dropped until its Sync. */
    boolean discardingToSync() {
        return discardToSync;
    }

    /** True while the chunk holds an Execute that waits for approval: it is cut only at Sync or Flush. */
    boolean holding() {
        return !heldExecutes.isEmpty();
    }

    void holdForApproval(HeldExecute h) {
        heldExecutes.add(h);
    }

    /**
     * Before a Bind that {@link OpenBatch#askBeforeBind} names: forwards what is collected, then asks the server
     * behind it (decision 0070). The note for the statement's record; null when the chunk was refused (the batch is
     * then dropped to its Sync).
     *
     * @throws java.io.InterruptedIOException when a setting moved and the session ended: nothing more is forwarded
     */
    String askWithinBatch() throws IOException {
        forwardChunk();
        if (discardToSync) {
            return null;
        }
        String note = hidden.askWithinBatch(up, exchange, closing);
        if (note == null || closing.getAsBoolean()) {
            throw new java.io.InterruptedIOException("the session has ended; a request was not forwarded");
        }
        batch.asked();
        return note;
    }

    /** The client's Sync: ends a refused batch, or closes and forwards the chunk. */
    void sync(byte type, byte[] body) throws IOException {
        batch.synced();
        if (discardToSync) {
            discardToSync = false;
            readyAfterRefusal();
        } else {
            chunk.add(type, body, Op.of(Op.Kind.SYNC));
            chunk.endsWithSync = true;
            endRequest();
        }
    }

    /**
     * The end of a request (Sync, Query, Flush, FunctionCall): forwarded now on a session's own thread; on an
     * event loop, noted for the loop, which starts the durable write ({@link #startForward}) and never waits here.
     */
    void endRequest() throws IOException {
        if (onLoop) {
            requestEnded = true;
        } else {
            forwardChunk();
        }
    }

    void runOnLoop() {
        onLoop = true;
    }

    /** True once a request ended since the last {@link #startForward}. */
    boolean requestEnded() {
        return requestEnded;
    }

    /**
     * An event-loop session's half of {@link #forwardChunk}: queues the chunk's records without waiting. Null when
     * there was nothing to wait for (the chunk went upstream already, or was empty); otherwise the chunk stays as it
     * is until {@link #durable} is called with the outcome, and the loop reads no more of the client meanwhile.
     */
    CompletableFuture<Void> startForward() throws IOException {
        requestEnded = false;
        if (chunk.isEmpty()) {
            return null;
        }
        if (!heldExecutes.isEmpty() || chunk.events.isEmpty()) {
            forwardChunk();
            return null;
        }
        return audit.appendAwaited(chunk.events);
    }

    /**
     * The chunk's records are durable (failure null): its frames go upstream. Or they could not be written, or
     * not in time: nothing goes upstream and the client is answered 58030, as {@link #forwardChunk} does.
     */
    void durable(Throwable failure) throws IOException {
        if (failure == null) {
            sendChunk();
            return;
        }
        Throwable cause = failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
        refuse(cause instanceof AuditUnavailableException a ? a
                : new AuditUnavailableException("audit store failed: " + cause.getClass().getSimpleName(), cause));
        exchange.discardUnsent(chunk.ops);
        chunk.clear();
    }

    long statements() {
        return statementIds.get();
    }

    void extended(byte type, byte[] body, Op op) {
        chunk.extended = true;
        chunk.add(type, body, op);
    }

    /**
     * Answers a message of a gateway-kept SET in the extended protocol, after the answers to everything the client
     * sent before it (which is forwarded first, so the order holds).
     */
    void respondNow(BackendMessage... messages) throws IOException {
        forwardChunk();
        byte[] out = new byte[0];
        for (BackendMessage m : messages) {
            out = concat(out, MessageCodec.encode(m));
        }
        exchange.respondLocally(out);
    }

    /** Refuses one statement by policy: recorded, answered with the rule, nothing forwarded. */
    void refuseStatement(Protocol protocol, String text, Refusal refusal, boolean extended)
            throws IOException {
        refuseStatement(newStatement(0), protocol, text, refusal, extended, null);
    }

    void refuseStatement(Protocol protocol, String text, Refusal refusal, boolean extended,
                                 List<StatementAnalysis> analyses) throws IOException {
        refuseStatement(newStatement(0), protocol, text, refusal, extended, analyses);
    }

    void refuseStatement(StatementRun run, Protocol protocol, String text, Refusal refusal,
                                 boolean extended) throws IOException {
        refuseStatement(run, protocol, text, refusal, extended, null);
    }

    void refuseStatement(StatementRun run, Protocol protocol, String text, Refusal refusal,
                                 boolean extended, List<StatementAnalysis> analyses) throws IOException {
        refused(records.refused(requested(run, protocol, text, List.of(), null, null, analyses), run.durationMicros(),
                refusal), refusal, extended);
    }

    /** A statement the session's pipeline refused: its records written, the client answered in protocol order. */
    void refused(Decision.Refuse decision, boolean extended) throws IOException {
        refused(decision.records(), decision.refusal(), extended);
    }

    private void refused(List<AuditEvent> records, Refusal refusal, boolean extended) throws IOException {
        try {
            audit.appendDurably(records);
        } catch (AuditUnavailableException e) {
            log.warn("session {}: a refusal could not be recorded: {}", sessionId, e.getMessage());
        }
        exchange.respondLocally(MessageCodec.encode(ErrorCodes.error(refusal.sqlState(), refusal.message(),
                refusal.position())));
        if (extended) {
            discardToSync = true;
        } else {
            readyAfterRefusal();
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    void forwardNow(byte type, byte[] body) throws IOException {
        forwardChunk();
        int len = body.length + 4;
        up.write(new byte[]{type, (byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
        up.write(body);
        up.flush();
    }

    /** The write-ahead rule: the chunk's records are durable before any of its bytes go upstream. */
    void forwardChunk() throws IOException {
        if (chunk.isEmpty()) {
            return;
        }
        if (!heldExecutes.isEmpty() && !releaseHeld()) {
            return;
        }
        try {
            if (!chunk.events.isEmpty()) {
                audit.appendDurably(chunk.events);
            }
        } catch (AuditUnavailableException e) {
            refuse(e);
            exchange.discardUnsent(chunk.ops);
            chunk.clear();
            return;
        }
        sendChunk();
    }

    /** The chunk's records are durable: its frames go upstream. */
    private void sendChunk() throws IOException {
        if (analysed && !batchOpenUpstream) {
            // A new request waits for the answers to the ones before it: a statement before it may change a setting
            // the analysis depends on (a trigger or function calling set_config('client_encoding', ...)), which
            // the server reports only at its ReadyForQuery, and this request must not reach the server by then.
            exchange.awaitIdle(closing);
            if (hidden != null && !closing.getAsBoolean()) {
                hidden.beforeRequest(up, exchange.transactionStatus(), closing);
            }
        } else if (hidden != null && !closing.getAsBoolean()) {
            hidden.withinBatch(); // others' DDL reaches what runs next in the open batch too (decision 0081)
        }
        if (closing.getAsBoolean()) {
            dropChunkOfEndedSession();
        }
        exchange.expect(chunk.ops);
        up.write(chunk.frames(), 0, chunk.size());
        up.flush();
        if (chunk.extended || chunk.endsWithSync) {
            batchOpenUpstream = !chunk.endsWithSync;
        }
        if (hidden != null) {
            hidden.forwarded(chunk.ops);
        }
        batch.forwarded(chunk.ops, batchOpenUpstream);
        chunk.clear();
    }

    /**
     * The session ended while the chunk waited (the server reported a setting the analysis cannot run with, a kill,
     * an expiry): what the client sent after that never reaches the server, and its records say so.
     */
    private void dropChunkOfEndedSession() throws IOException {
        Instant now = Instant.now();
        List<AuditEvent> aborted = new ArrayList<>();
        for (StatementRun run : chunk.statements) {
            aborted.add(new AuditEvent.StatementCompleted(now, sessionId, run.id, Outcome.ABORTED, null, null, 0,
                    run.durationMicros(), null, "not forwarded: the session had ended"));
        }
        if (!aborted.isEmpty()) {
            audit.append(aborted);
        }
        exchange.discardUnsent(chunk.ops);
        chunk.clear();
        throw new java.io.InterruptedIOException("the session has ended; a request was not forwarded");
    }

    // ---- approvals: a held statement is a blocked call on this thread ----

    /**
     * Waits for the approval of each held Execute of the chunk in turn. All approved: their "used" records join
     * the chunk's and it is forwarded as usual. Otherwise nothing of the chunk is forwarded: each of its statements
     * is recorded as refused and the client gets the reason, then ReadyForQuery at its Sync.
     */
    private boolean releaseHeld() throws IOException {
        List<HeldExecute> waiting = new ArrayList<>(heldExecutes);
        heldExecutes.clear();
        for (HeldExecute h : waiting) {
            StatementApprovals.Verdict v = approvals.approval(h.run(), h.text(), h.parameters(), h.analysis(), h.hit());
            if (v.refusal() != null) {
                List<AuditEvent> records = new ArrayList<>(chunk.events);
                Instant now = Instant.now();
                for (StatementRun run : chunk.statements) {
                    records.add(new AuditEvent.StatementCompleted(now, sessionId, run.id, Outcome.REFUSED,
                            v.refusal().sqlState(), null, 0, run.durationMicros(), null,
                            "refused: " + v.refusal().message()));
                }
                try {
                    audit.appendDurably(records);
                } catch (AuditUnavailableException e) {
                    log.warn("session {}: a refusal could not be recorded: {}", sessionId, e.getMessage());
                }
                exchange.respondLocally(MessageCodec.encode(ErrorCodes.error(v.refusal().sqlState(),
                        v.refusal().message())));
                boolean synced = chunk.endsWithSync;
                exchange.discardUnsent(chunk.ops);
                chunk.clear();
                if (synced) {
                    readyAfterRefusal();
                } else {
                    discardToSync = true;
                }
                return false;
            }
            chunk.events.add(v.used());
        }
        return true;
    }

    /** Answers a chunk the audit store could not record, without forwarding any of it. */
    private void refuse(AuditUnavailableException cause) throws IOException {
        log.warn("session {}: refused a request because the audit store is unavailable: {}", sessionId, cause.getMessage());
        Instant now = Instant.now();
        List<AuditEvent> refused = new ArrayList<>();
        for (StatementRun run : chunk.statements) {
            refused.add(new AuditEvent.StatementCompleted(now, sessionId, run.id, Outcome.REFUSED, ErrorCodes.SYSTEM_IO_ERROR,
                    null, 0, run.durationMicros()));
        }
        if (!refused.isEmpty()) {
            audit.append(refused); // best effort: the store just failed, but it may take these once it recovers
        }
        exchange.respondLocally(MessageCodec.encode(ErrorCodes.error(ErrorCodes.SYSTEM_IO_ERROR,
                "phigate refused the statement: the audit store cannot record it (" + cause.getMessage()
                        + "); nothing was sent to the database")));
        boolean simple = !chunk.extended;
        if (simple || chunk.endsWithSync) {
            readyAfterRefusal();
        } else {
            discardToSync = true;
        }
    }

    /**
     * Ends a refused request with ReadyForQuery. When the upstream may hold an open transaction (or has part of
     * this batch), the gateway makes the server raise an error and sync, so the transaction is aborted exactly
     * as if the refused statement had failed there, and the client gets the server's true status.
     */
    void readyAfterRefusal() throws IOException {
        if (!batchOpenUpstream && exchange.idle() && exchange.transactionStatus() != 'T') {
            exchange.respondLocally(MessageCodec.encode(new BackendMessage.ReadyForQuery(exchange.transactionStatus())));
            return;
        }
        exchange.expect(List.of(Op.of(Op.Kind.INTERNAL_FAIL), Op.of(Op.Kind.SYNC)));
        up.write(PROVOKE_ERROR);
        up.write(MessageCodec.encode(Sync.INSTANCE));
        up.flush();
        batchOpenUpstream = false;
        batch.encodingReported();
    }

    StatementRun newStatement(int maxRows) {
        return new StatementRun(statementIds.incrementAndGet(), maxRows, responseCap);
    }

    AuditEvent.StatementRequested requested(StatementRun run, Protocol protocol, String text,
                                                    List<String> parameters, String prepared, String portal) {
        return requested(run, protocol, text, parameters, prepared, portal, null);
    }

    AuditEvent.StatementRequested requested(StatementRun run, Protocol protocol, String text,
                                                    List<String> parameters, String prepared, String portal,
                                                    List<StatementAnalysis> analyses) {
        return records.requested(run.id, protocol, text, parameters, prepared, portal, justification.get(), analyses);
    }

    private static byte[] execBody(String portal) {
        return MessageCodec.encode(new Execute(portal, 0));
    }
}
