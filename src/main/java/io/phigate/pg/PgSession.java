package io.phigate.pg;

import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditSink;
import io.phigate.identity.Identity;
import io.phigate.net.SessionThreads;
import io.phigate.session.SessionMasking;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.util.function.Function;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.frontend.ClientHandshake.Channel;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.FrontendMessage.*;
import io.phigate.pg.message.MessageCodec;
import io.phigate.pg.message.ProtocolException;
import io.phigate.session.LiveSession;
import io.phigate.session.Refusal;
import io.phigate.session.SessionPolicies;
import io.phigate.session.StatementPipeline;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection after authentication. This thread (the client reader) owns the session: it reads the
 * client's messages and hands them to {@link StatementMessages} (which turns them into requests for the session's
 * protocol-neutral {@link StatementPipeline}, resolving names against the {@link SessionState} as the server will)
 * and to {@link RequestForwarder} (which makes each request's audit records durable before its frames go
 * upstream). A second virtual thread, the {@link ResponsePump}, carries the server's answers back.
 *
 * <p>When the audit store cannot take a record, the request is not forwarded: the client gets SQLSTATE 58030
 * in the place the server's answer would have been, and an open transaction is aborted upstream so that
 * nothing the client was told failed can still commit.
 */
final class PgSession implements LiveSession {
    private static final Logger log = LoggerFactory.getLogger(PgSession.class);

    private final String id;
    private final int processId;
    private final byte[] secretKey;
    private final Identity identity;
    private final String upstreamName;
    private final String clientAddress;
    private final Instant startedAt = Instant.now();
    private final Channel client;
    private final UpstreamConnection upstream;
    private final AuditSink audit;
    private final Exchange exchange;
    private final Runnable onEnd;
    /** Null when no policy needs statements analysed (no PHI masked, no scope): they are forwarded unparsed. */
    private final Function<String, List<StatementAnalysis>> analyzer;
    /** Prepared statements, portals and cursors as the server holds them (see {@link SessionState}). */
    private final StateView names;
    /** Written by the client reader only; read by the console. */
    private volatile long bytesFromClient;
    private final ByteCounter toClient;
    private volatile boolean closing;
    private volatile String endReason;
    private final HeldStatements approvals;
    private final StatementPipeline pipeline;
    private final RequestForwarder forwarder;
    private final StatementMessages statements;
    /** The server's reports about the session (settings, FATAL), read before anything it sends is forwarded. */
    private final ServerReports reports;
    private final HiddenSettingChanges hidden;
    /** Null: the session runs on its two threads. Else the event loop's driver of its sockets (decision 0097). */
    private final LoopSession loop;
    /** Where client frames go upstream: the connection's stream, or the loop's buffered channel. */
    private final OutputStream toUpstream;

    PgSession(String id, int processId, byte[] secretKey, Identity identity, String upstreamName,
              String clientAddress, Channel client, UpstreamConnection upstream, AuditSink audit, int responseCap,
              Role role, String justification, SessionPolicies.Setup setup, Approvals approvals,
              String approvalsUrl, Runnable onEnd, LoopSession loop) {
        this.id = id;
        this.loop = loop;
        // search_path and role changed by code out of the gateway's sight (decision 0064): analysed sessions only.
        this.hidden = setup.rules() == null ? null
                : new HiddenSettingChanges(setup, upstream.parameters(), this::terminate);
        this.analyzer = hidden == null ? setup.analyzer() : hidden.watching(setup.analyzer());
        this.processId = processId;
        this.secretKey = secretKey;
        this.identity = identity;
        this.upstreamName = upstreamName;
        this.clientAddress = clientAddress;
        this.client = client;
        this.upstream = upstream;
        this.audit = audit;
        this.onEnd = onEnd;
        this.toClient = new ByteCounter(loop == null ? client.out() : loop.clientOut());
        this.toUpstream = loop == null ? upstream.out() : loop.upstreamOut();
        this.exchange = new Exchange(toClient, this::completed, upstream.transactionStatus(), setup.masking(),
                role == null ? 0 : role.rowLimit(), role == null ? null : role.name());
        this.names = new StateView(exchange, analyzer, () -> closing);
        this.pipeline = StatementPipeline.of(id, clientAddress, upstreamName, identity, role, justification,
                setup.masking(), setup.rules(), approvals, approvalsUrl, this::nextStatementId);
        this.approvals = new HeldStatements(approvals, client, exchange, () -> closing, pipeline);
        this.forwarder = new RequestForwarder(id, audit, exchange, toUpstream, this.approvals, pipeline.records(),
                pipeline::justification, responseCap, analyzer != null, () -> closing, hidden);
        this.statements = new StatementMessages(forwarder, names, exchange, analyzer,
                setup.rules() == null ? null : setup.rules().loadedCatalog(), pipeline, this.approvals, audit);
        this.reports = new ServerReports(analyzer != null, this::terminate, hidden);
        if (loop != null) {
            forwarder.runOnLoop();
        }
    }

    /**
     * Moves the session, with everything its connection holds, to its event loop, if it has one: true, and the
     * calling thread is free (the loop ends the session, {@link #finish}). False: run it here ({@link #run}).
     */
    boolean moveToLoop(ConnectionResources held) {
        if (loop == null) {
            return false;
        }
        try {
            loop.start(this, held);
            return true;
        } catch (IOException e) {
            endReason = "client connection lost";
            closing = true;
            finish();
            return true;
        }
    }

    /** Runs the session to its end on the calling thread. */
    void run() {
        Thread pump = SessionThreads.sameKindAsCaller("pg-upstream-" + id)
                .start(new ResponsePump(upstream.reader(), exchange, reports,
                        hidden == null ? null : hidden.probe(), this::upstreamEnded));
        try {
            clientLoop();
            ended(null);
        } catch (IOException | RuntimeException e) {
            ended(e);
        } finally {
            closing = true;
            upstream.close();
            try {
                pump.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finish();
        }
    }

    /** What follows the session's end on either path: its record, the client's socket, the session's key. */
    void finish() {
        closing = true;
        endReason = endReason == null ? "client terminated" : endReason;
        exchange.abortPending();
        closeClient();
        long millis = java.time.Duration.between(startedAt, Instant.now()).toMillis();
        audit.append(List.of(new AuditEvent.SessionEnded(Instant.now(), id, endReason, forwarder.statements(), millis)));
        onEnd.run();
    }

    private void clientLoop() throws IOException {
        FrameReader in = client.reader();
        while (true) {
            int type = in.next();
            if (type < 0) {
                forwarder.forwardChunk();
                return;
            }
            if (!clientFrame(type, in, toUpstream)) {
                return;
            }
            // A held batch waits for its Sync (or Flush), so the approval covers it whole.
            if (forwarder.chunk.size() >= RequestChunk.MAX_BYTES
                    || (!forwarder.holding() && !forwarder.chunk.isEmpty() && !in.inputAvailable())) {
                forwarder.forwardChunk();
            }
        }
    }

    /**
     * One client frame, whichever thread reads it (the client reader, or the event loop once the frame is whole);
     * false after Terminate. A request's end is forwarded in place on threads, noted for the loop on a loop
     * ({@link RequestForwarder#endRequest}).
     */
    boolean clientFrame(int type, FrameReader in, OutputStream up) throws IOException {
        bytesFromClient += 5L + in.bodyLength();
        if (type == 'd') {
            // COPY FROM STDIN data is streamed through, never collected: a 1 GiB COPY stays a 1 GiB stream.
            forwarder.forwardChunk();
            if (forwarder.discardingToSync()) {
                in.skipBody();
            } else {
                in.transferTo(up);
                if (!in.inputAvailable()) {
                    up.flush();
                }
            }
            return true;
        }
        byte[] body = in.body();
        FrontendMessage m = MessageCodec.decodeFrontend((byte) type, body);
        if (forwarder.discardingToSync() && !(m instanceof Sync)) {
            return true;
        }
        Refusal notUtf8 = analyzer == null ? null : ClientText.invalidUtf8((byte) type, body);
        if (notUtf8 != null) {
            forwarder.forwardChunk();
            boolean extended = m instanceof Parse;
            forwarder.refuseStatement(extended ? Protocol.EXTENDED : Protocol.SIMPLE,
                    extended ? ((Parse) m).query() : ((Query) m).sql(), notUtf8, extended);
            return true;
        }
        switch (m) {
                case Query q -> statements.query(q, (byte) type, body);
                case Parse p -> statements.parse(p, (byte) type, body);
                case Bind b -> statements.bind(b, (byte) type, body);
                case Describe d -> statements.describe(d, (byte) type, body);
                case Execute e -> statements.execute(e, (byte) type, body);
                case Close c -> statements.close(c, (byte) type, body);
                case Sync s -> {
                    names.endSegment();
                    forwarder.sync((byte) type, body);
                }
                case Flush f -> {
                    forwarder.chunk.add((byte) type, body, null);
                    forwarder.endRequest();
                }
                case FunctionCall f -> statements.functionCall(f, (byte) type, body);
                case CopyDone d -> forwarder.forwardNow((byte) type, body);
                case CopyFail f -> forwarder.forwardNow((byte) type, body);
                case Terminate t -> {
                    forwarder.forwardChunk();
                    return false;
                }
                case CopyData d -> throw new IllegalStateException("CopyData is streamed above");
                default -> throw new ProtocolException("unexpected message type '" + (char) type + "' in a session");
            }
        return true;
    }

    /**
     * One server frame on an event-loop session, as the {@link ResponsePump} forwards it (a plain session asks the
     * server nothing of its own); false when the server's report ends the session.
     */
    boolean serverFrame(int type, FrameReader in) throws IOException {
        if (type == 'D' || type == 'd') {
            exchange.forward((byte) type, in);
            return true;
        }
        byte[] body = in.body();
        if (!reports.admit((byte) type, body)) {
            return false;
        }
        exchange.onBackendFrame((byte) type, body);
        return true;
    }

    /**
     * Why the client side ended (null: the client ended it), on either path; a protocol violation or an internal
     * error is told to the client.
     */
    void ended(Throwable t) {
        if (t == null) {
            endReason = endReason == null ? "client terminated" : endReason;
        } else if (t instanceof ProtocolException e) {
            endReason = "protocol violation: " + e.getMessage();
            sendFatal(ErrorCodes.PROTOCOL_VIOLATION, e.getMessage());
        } else if (t instanceof IOException) {
            if (endReason == null) {
                endReason = exchange.clientBroken() || !closing ? "client connection lost" : "upstream connection lost";
            }
        } else {
            endReason = "internal error: " + t.getClass().getSimpleName();
            log.error("session {} failed", id, t);
            sendFatal("XX000", "phigate internal error; the session is closed");
        }
    }

    RequestForwarder forwarder() {
        return forwarder;
    }

    Exchange exchange() {
        return exchange;
    }


    /** The pipeline numbers a refused Parse as a statement of its own, in the forwarder's sequence. */
    private long nextStatementId() {
        return forwarder.newStatement(0).id;
    }

    private void completed(StatementRun run) {
        audit.appendUnobserved(List.of(new AuditEvent.StatementCompleted(Instant.now(), id, run.id, run.outcome, run.sqlState,
                run.commandTag, run.rows, run.durationMicros(), run.recorder == null ? null : run.recorder.finish(),
                run.masking)));
    }

    /** The pump has stopped: the server closed, we closed it, the client broke, or the server broke the protocol. */
    void upstreamEnded(IOException cause) {
        exchange.abortPending();
        if (closing) {
            return;
        }
        if (exchange.clientBroken()) {
            endReason = "client connection lost";
        } else if (reports.serverEndedSession()) {
            endReason = "upstream connection lost"; // the server's FATAL, forwarded, is the client's last message
        } else if (cause instanceof ProtocolException p) {
            // The message says what was wrong (type, size), never what it carried.
            log.warn("session {}: upstream '{}' sent a message phigate cannot accept: {}", id, upstreamName, p.getMessage());
            endReason = "upstream protocol violation: " + p.getMessage();
            sendFatal(ErrorCodes.PROTOCOL_VIOLATION, "phigate ended the session: upstream '" + upstreamName
                    + "' sent a message it cannot accept (" + p.getMessage() + ")");
        } else {
            endReason = "upstream connection lost";
            sendFatal(ErrorCodes.CONNECTION_FAILURE, "phigate lost the connection to upstream '" + upstreamName + "'");
        }
        closeClient();
    }

    @Override
    public void terminate(String sqlState, String message) {
        if (loop != null && !loop.inLoop()) {
            // The loop owns the session's sockets and state: the end runs there, after what it is doing.
            loop.execute(() -> {
                terminate(sqlState, message);
                loop.end();
            });
            return;
        }
        if (closing) {
            return;
        }
        endReason = message;
        closing = true;
        // The FATAL first: cancelling first let the server's 57014 reach the client ahead of it, so the client
        // saw "canceling statement" rather than why its session ended.
        try {
            exchange.tryWriteNow(MessageCodec.encode(ErrorCodes.fatal(sqlState, message)), 1_000);
        } catch (IOException ignored) {
            // the client is gone already
        }
        if (!exchange.idle() && upstream.key() != null) {
            if (loop == null) {
                cancelUpstream();
            } else {
                Thread.ofVirtual().name("pg-cancel-" + id).start(this::cancelUpstream); // a connection: off the loop
            }
        }
        upstream.abort();
        closeClient();
    }

    private void cancelUpstream() {
        try {
            UpstreamConnection.cancel(upstream.config(), upstream.key());
        } catch (IOException e) {
            log.warn("session {}: could not cancel the running statement: {}", id, e.toString());
        }
    }

    /** Forwards a client's cancel request for this session's running statement, or withdraws a held one. */
    void cancelRunningStatement() throws IOException {
        if (approvals.withdraw("the client cancelled the statement")) {
            return;
        }
        if (upstream.key() != null) {
            UpstreamConnection.cancel(upstream.config(), upstream.key());
        }
    }

    boolean matchesKey(byte[] key) {
        return java.security.MessageDigest.isEqual(secretKey, key);
    }

    private void sendFatal(String sqlState, String message) {
        try {
            exchange.writeNow(MessageCodec.encode(ErrorCodes.fatal(sqlState, message)));
        } catch (IOException ignored) {
            // the client is gone already
        }
    }

    private void closeClient() {
        if (loop != null) {
            return; // the loop closes it once what the client is owed has been offered to its socket
        }
        try {
            client.socket().close();
        } catch (IOException ignored) {
            // closing
        }
    }

    int processId() {
        return processId;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Identity identity() {
        return identity;
    }

    @Override
    public String upstream() {
        return upstreamName;
    }

    @Override
    public String clientAddress() {
        return clientAddress;
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public long statements() {
        return forwarder.statements();
    }

    @Override
    public String lastStatement() {
        return pipeline.records().lastStatement();
    }

    @Override
    public boolean busy() {
        return approvals.holding() || !exchange.idle();
    }

    @Override
    public long bytesFromClient() {
        return bytesFromClient;
    }

    @Override
    public long bytesToClient() {
        return toClient.count();
    }

    @Override
    public String toString() {
        return "PgSession[" + id + ", upstream=" + upstreamName + ", subject=" + identity.subject() + "]";
    }
}
