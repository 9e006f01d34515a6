package io.phigate.pg;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;
import io.phigate.mask.SessionMasking;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.util.function.Function;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.frontend.ClientHandshake.Channel;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.FrontendMessage.*;
import io.phigate.pg.message.MessageCodec;
import io.phigate.pg.message.ProtocolException;
import io.phigate.session.LiveSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection after authentication. This thread (the client reader) owns the session's state: it
 * reads the client's messages, tracks prepared statements and portals, writes each statement's audit record
 * and waits for it to be durable, and only then forwards the request upstream. A second virtual thread, the
 * {@link ResponsePump}, carries the server's answers back.
 *
 * <p>When the audit store cannot take a record, the request is not forwarded: the client gets SQLSTATE 58030
 * in the place the server's answer would have been, and an open transaction is aborted upstream so that
 * nothing the client was told failed can still commit.
 */
final class PgSession implements LiveSession {
    private static final Logger log = LoggerFactory.getLogger(PgSession.class);
    /** A portal name no client creates: executing it makes the server raise an error, aborting its transaction. */
    private static final byte[] PROVOKE_ERROR = execBody("phigate: refused statement");
    /**
     * Ticket mode: the statement needs approval and a request was opened; retry once approved. A class of its own
     * ("PA", phigate approval), so an agent can tell it from every error PostgreSQL raises.
     */
    static final String APPROVAL_REQUIRED = "PA001";
    static final String QUERY_CANCELED = "57014";
    static final String CONFIGURATION_LIMIT_EXCEEDED = "53400";
    /** How often a held statement's thread looks at the client socket (and notices a cancel). */
    private static final int HOLD_POLL_MILLIS = 100;

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
    private final int responseCap;
    private final Policy policy;
    /** The identity's role, or null when the policy defines no roles. */
    private final Role role;
    /** Why the agent needs the data, as it last stated it (startup, credential exchange or SET); may be null. */
    private volatile String justification;
    /** Null when nothing this session reads is masked: results stream through untouched. */
    private final SessionMasking masking;
    /** Null when no policy needs statements analysed (no PHI masked, no scope): they are forwarded unparsed. */
    private final Function<String, List<StatementAnalysis>> analyzer;
    private final StatementGate gate;
    private final Map<String, ResultShape.Prepared> preparedShapes = new HashMap<>();
    private final Map<String, ResultShape> portalShapes = new HashMap<>();
    private final Map<String, StatementAnalysis> cursors = new HashMap<>();
    /** SQL-level PREPARE name to the statement it prepared, so EXECUTE is masked as that statement. */
    private final Map<String, StatementAnalysis> sqlPrepared = new HashMap<>();
    private final AtomicLong statementIds = new AtomicLong();
    /** Written by the client reader only; read by the console. */
    private volatile long bytesFromClient;
    private final ByteCounter toClient;
    private volatile String lastStatement;
    private final Map<String, String> preparedStatements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private final RequestChunk chunk = new RequestChunk();
    /** Extended-protocol messages went upstream since the last Sync. */
    private boolean batchOpenUpstream;
    /** A refused extended-protocol batch: drop the client's messages until its Sync. */
    private boolean discardToSync;
    private volatile boolean closing;
    private volatile String endReason;
    private final Approvals approvals;
    /** Base URL of the approvals API, named in the notice of a held statement; null without an HTTP listener. */
    private final String approvalsUrl;
    /** The approval the agent named with {@code SET phigate.approval} (ticket mode), or null. */
    private String approvalTicket;
    /** The request the client reader is blocked on, so that a client's cancel can withdraw it. */
    private volatile ApprovalRequest held;
    /** Prepared statement name to the approval rule its text fires; absent when it fires none. */
    private final Map<String, RiskRules.Hit> preparedRisk = new HashMap<>();
    /** Executes in the current chunk that need approval: the chunk is held (and cut only at Sync or Flush). */
    private final List<HeldExecute> heldExecutes = new ArrayList<>();

    /** A {@code SET phigate.*} prepared through the extended protocol: answered by the gateway, never forwarded. */
    private record LocalSetting(String text, StatementAnalysis analysis) {
    }

    /** Prepared statement names holding a gateway-kept SET, and the portals bound to them. */
    private final Map<String, LocalSetting> localStatements = new HashMap<>();
    private final Map<String, LocalSetting> localPortals = new HashMap<>();
    /** An Execute waiting, with the rest of its batch, for approval. */
    private record HeldExecute(StatementRun run, RiskRules.Hit hit, String text, List<String> parameters,
                               StatementAnalysis analysis) {
        @Override
        public String toString() {
            return "HeldExecute[" + run.id + ", rule=" + hit.rule().name() + "]";
        }
    }

    /** What became of a statement that needed approval: released (with the record saying so) or refused. */
    private record Verdict(AuditEvent used, StatementGate.Refusal refusal) {
    }

    private record Portal(String statement, String text, List<String> parameters) {
    }

    PgSession(String id, int processId, byte[] secretKey, Identity identity, String upstreamName,
              String clientAddress, Channel client, UpstreamConnection upstream, AuditSink audit, int responseCap,
              Policy policy, Role role, String justification, SessionMasking masking,
              Function<String, List<StatementAnalysis>> analyzer, StatementGate gate, Approvals approvals,
              String approvalsUrl, Runnable onEnd) {
        this.approvals = approvals;
        this.approvalsUrl = approvalsUrl;
        this.masking = masking;
        this.analyzer = analyzer;
        this.gate = gate;
        this.responseCap = responseCap;
        this.policy = policy;
        this.role = role;
        this.justification = justification;
        this.id = id;
        this.processId = processId;
        this.secretKey = secretKey;
        this.identity = identity;
        this.upstreamName = upstreamName;
        this.clientAddress = clientAddress;
        this.client = client;
        this.upstream = upstream;
        this.audit = audit;
        this.onEnd = onEnd;
        this.toClient = new ByteCounter(client.out());
        this.exchange = new Exchange(toClient, this::completed, upstream.transactionStatus(), masking,
                role == null ? 0 : role.rowLimit(), role == null ? null : role.name());
    }

    /** Runs the session to its end on the calling thread. */
    void run() {
        Thread pump = Thread.ofVirtual().name("pg-upstream-" + id)
                .start(new ResponsePump(upstream.reader(), exchange, this::upstreamEnded));
        try {
            clientLoop();
            endReason = endReason == null ? "client terminated" : endReason;
        } catch (ProtocolException e) {
            endReason = "protocol violation: " + e.getMessage();
            sendFatal(ErrorCodes.PROTOCOL_VIOLATION, e.getMessage());
        } catch (IOException e) {
            if (endReason == null) {
                endReason = exchange.clientBroken() || !closing ? "client connection lost" : "upstream connection lost";
            }
        } catch (RuntimeException e) {
            endReason = "internal error: " + e.getClass().getSimpleName();
            log.error("session {} failed", id, e);
            sendFatal("XX000", "phigate internal error; the session is closed");
        } finally {
            closing = true;
            upstream.close();
            try {
                pump.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.abortPending();
            closeClient();
            long millis = java.time.Duration.between(startedAt, Instant.now()).toMillis();
            audit.append(List.of(new AuditEvent.SessionEnded(Instant.now(), id, endReason, statementIds.get(), millis)));
            onEnd.run();
        }
    }

    private void clientLoop() throws IOException {
        FrameReader in = client.reader();
        OutputStream up = upstream.out();
        while (true) {
            int type = in.next();
            if (type < 0) {
                forwardChunk();
                return;
            }
            bytesFromClient += 5L + in.bodyLength();
            if (type == 'd') {
                // COPY FROM STDIN data is streamed through, never collected: a 1 GiB COPY stays a 1 GiB stream.
                forwardChunk();
                if (discardToSync) {
                    in.skipBody();
                } else {
                    in.transferTo(up);
                    if (!in.inputAvailable()) {
                        up.flush();
                    }
                }
                continue;
            }
            byte[] body = in.body();
            FrontendMessage m = MessageCodec.decodeFrontend((byte) type, body);
            if (discardToSync && !(m instanceof Sync)) {
                continue;
            }
            switch (m) {
                case Query q -> {
                    ResultShape shape = null;
                    RiskRules.Hit risk = null;
                    List<StatementAnalysis> analyses = null;
                    if (analyzer != null) {
                        analyses = analyzer.apply(q.sql());
                        if (analyses.size() == 1 && StatementGate.isGatewaySetting(analyses.getFirst())) {
                            forwardChunk();
                            setGatewaySetting(q.sql(), analyses.getFirst(), false);
                            continue;
                        }
                        StatementGate.Refusal refusal = gate.check(analyses, justification);
                        if (refusal != null) {
                            forwardChunk();
                            refuseStatement(Protocol.SIMPLE, q.sql(), refusal, false, analyses);
                            continue;
                        }
                        risk = gate.approvalFor(analyses);
                        shape = shapeOf(analyses);
                    }
                    StatementRun run = newStatement(0);
                    AuditEvent used = null;
                    if (risk != null) {
                        forwardChunk();
                        Verdict verdict = approval(run, q.sql(), List.of(), null, risk);
                        if (verdict.refusal() != null) {
                            refuseStatement(run, Protocol.SIMPLE, q.sql(), verdict.refusal(), false, analyses);
                            continue;
                        }
                        used = verdict.used();
                    }
                    chunk.statement(run, requested(run, Protocol.SIMPLE, q.sql(), List.of(), null, null, analyses));
                    if (used != null) {
                        chunk.events.add(used);
                    }
                    chunk.add((byte) type, body, Exchange.Op.shaped(Exchange.Kind.QUERY, run, shape));
                    forwardChunk();
                }
                case Parse p -> {
                    localStatements.remove(p.statement());
                    ResultShape.Prepared prepared = null;
                    if (analyzer != null) {
                        List<StatementAnalysis> analyses = analyzer.apply(p.query());
                        if (analyses.size() == 1 && StatementGate.isGatewaySetting(analyses.getFirst())) {
                            // pgjdbc sends SET through Parse/Bind/Execute: answered here, never forwarded.
                            localStatements.put(p.statement(), new LocalSetting(p.query(), analyses.getFirst()));
                            preparedStatements.remove(p.statement());
                            preparedRisk.remove(p.statement());
                            respondNow(BackendMessage.ParseComplete.INSTANCE);
                            continue;
                        }
                        StatementGate.Refusal refusal = analyses.stream().anyMatch(StatementGate::isGatewaySetting)
                                ? new StatementGate.Refusal(ErrorCodes.FEATURE_NOT_SUPPORTED, "send SET"
                                        + " phigate.justification or phigate.approval as a statement of its own")
                                : gate.check(analyses, justification);
                        if (refusal != null) {
                            forwardChunk();
                            refuseStatement(Protocol.EXTENDED, p.query(), refusal, true, analyses);
                            continue;
                        }
                        track(analyses);
                        RiskRules.Hit risk = gate.approvalFor(analyses);
                        if (risk != null) {
                            preparedRisk.put(p.statement(), risk);
                        } else {
                            preparedRisk.remove(p.statement());
                        }
                        prepared = new ResultShape.Prepared(analyses.isEmpty() ? null : resolve(analyses.getFirst()));
                        preparedShapes.put(p.statement(), prepared);
                    }
                    preparedStatements.put(p.statement(), p.query());
                    extended((byte) type, body, Exchange.Op.parse(prepared));
                }
                case Bind b -> {
                    localPortals.remove(b.portal());
                    LocalSetting local = localStatements.get(b.statement());
                    if (local != null) {
                        localPortals.put(b.portal(), local);
                        portals.remove(b.portal());
                        respondNow(BackendMessage.BindComplete.INSTANCE);
                        continue;
                    }
                    portals.put(b.portal(), new Portal(b.statement(), preparedStatements.get(b.statement()),
                            render(b.parameters(), b::parameterFormat)));
                    if (analyzer != null) {
                        ResultShape.Prepared prepared = preparedShapes.get(b.statement());
                        StatementAnalysis a = prepared == null ? null : prepared.analysis;
                        // Only a COPY TO (or text the analyser could not read) needs its output options read; every
                        // other Bind skips the text scan.
                        String text = a == null || (a.parsed() && a.kind() != StatementKind.COPY_TO) ? null : a.text();
                        portalShapes.put(b.portal(), ResultShape.portal(
                                prepared == null ? new ResultShape.Prepared(null) : prepared, b.resultFormats(),
                                StatementGate.copyFormat(text), StatementGate.copyHeader(text)));
                    }
                    extended((byte) type, body, Exchange.Op.of(Exchange.Kind.BIND));
                }
                case Describe d -> {
                    if (d.kind() == 'S' && localStatements.containsKey(d.name())) {
                        respondNow(new BackendMessage.ParameterDescription(new int[0]), BackendMessage.NoData.INSTANCE);
                        continue;
                    }
                    if (d.kind() != 'S' && localPortals.containsKey(d.name())) {
                        respondNow(BackendMessage.NoData.INSTANCE);
                        continue;
                    }
                    Exchange.Op op = Exchange.Op.of(Exchange.Kind.DESCRIBE);
                    if (analyzer != null && d.kind() == 'S') {
                        ResultShape.Prepared prepared = preparedShapes.get(d.name());
                        op = Exchange.Op.describeStatement(prepared == null ? new ResultShape.Prepared(null) : prepared);
                    } else if (analyzer != null) {
                        op = Exchange.Op.shaped(Exchange.Kind.DESCRIBE, null, portalShapes.get(d.name()));
                    }
                    extended((byte) type, body, op);
                }
                case Execute e -> {
                    LocalSetting local = localPortals.get(e.portal());
                    if (local != null) {
                        forwardChunk();
                        setGatewaySetting(local.text(), local.analysis(), true);
                        continue;
                    }
                    Portal portal = portals.get(e.portal());
                    StatementRun run = newStatement(e.maxRows());
                    chunk.statement(run, portal == null
                            ? requested(run, Protocol.EXTENDED, null, List.of(), null, e.portal())
                            : requested(run, Protocol.EXTENDED, portal.text, portal.parameters, portal.statement, e.portal(),
                                    analysisOfPortal(e.portal())));
                    chunk.extended = true;
                    RiskRules.Hit risk = portal == null ? null : preparedRisk.get(portal.statement);
                    if (risk != null) {
                        List<StatementAnalysis> analysis = analysisOfPortal(e.portal());
                        heldExecutes.add(new HeldExecute(run, risk, portal.text, portal.parameters,
                                analysis == null ? null : analysis.getFirst()));
                    }
                    chunk.add((byte) type, body, Exchange.Op.shaped(Exchange.Kind.EXECUTE, run,
                            analyzer == null ? null : portalShapes.get(e.portal())));
                }
                case Close c -> {
                    boolean local = c.kind() == 'S' ? localStatements.remove(c.name()) != null
                            : localPortals.remove(c.name()) != null;
                    if (local) {
                        respondNow(BackendMessage.CloseComplete.INSTANCE);
                        continue;
                    }
                    if (c.kind() == 'S') {
                        preparedStatements.remove(c.name());
                        preparedShapes.remove(c.name());
                        preparedRisk.remove(c.name());
                    } else {
                        portals.remove(c.name());
                        portalShapes.remove(c.name());
                    }
                    extended((byte) type, body, Exchange.Op.of(Exchange.Kind.CLOSE));
                }
                case Sync s -> {
                    if (discardToSync) {
                        discardToSync = false;
                        readyAfterRefusal();
                    } else {
                        chunk.add((byte) type, body, Exchange.Op.of(Exchange.Kind.SYNC));
                        chunk.endsWithSync = true;
                        forwardChunk();
                    }
                }
                case Flush f -> {
                    chunk.add((byte) type, body, null);
                    forwardChunk();
                }
                case FunctionCall f -> {
                    String text = "-- function call: oid " + f.functionOid();
                    if (analyzer != null) {
                        StatementGate.Refusal refusal = gate.checkFunctionCall(StatementAnalysis.unparsed(text,
                                "a fast-path function call: function OID " + f.functionOid()), justification);
                        if (refusal != null) {
                            forwardChunk();
                            refuseStatement(Protocol.FUNCTION_CALL, text, refusal, false);
                            continue;
                        }
                    }
                    StatementRun run = newStatement(0);
                    chunk.statement(run, requested(run, Protocol.FUNCTION_CALL, text,
                            render(f.arguments(), f::argumentFormat), null, null));
                    chunk.add((byte) type, body, Exchange.Op.statement(Exchange.Kind.FUNCTION_CALL, run));
                    forwardChunk();
                }
                case CopyDone d -> forwardNow((byte) type, body);
                case CopyFail f -> forwardNow((byte) type, body);
                case Terminate t -> {
                    forwardChunk();
                    return;
                }
                case CopyData d -> throw new IllegalStateException("CopyData is streamed above");
                default -> throw new ProtocolException("unexpected message type '" + (char) type + "' in a session");
            }
            // A held batch waits for its Sync (or Flush), so the approval covers it whole.
            if (chunk.size() >= RequestChunk.MAX_BYTES
                    || (heldExecutes.isEmpty() && !chunk.isEmpty() && !in.inputAvailable())) {
                forwardChunk();
            }
        }
    }

    private void extended(byte type, byte[] body, Exchange.Op op) {
        chunk.extended = true;
        chunk.add(type, body, op);
    }

    // ---- statement analysis (only when the policy needs it) ----

    /**
     * {@code SET phigate.justification} and {@code SET phigate.approval} (the ticket to redeem): kept by the
     * gateway, recorded, never sent upstream.
     */
    private void setGatewaySetting(String sql, StatementAnalysis a, boolean extended) throws IOException {
        Protocol protocol = extended ? Protocol.EXTENDED : Protocol.SIMPLE;
        String value = a.kind() == StatementKind.SET ? a.settingValue() : null;
        value = value == null || value.isBlank() ? null : value.strip();
        String what;
        if ("phigate.approval".equals(a.setting())) {
            approvalTicket = value;
            what = "approval ticket " + (value == null ? "cleared" : "set");
        } else {
            String problem = value == null ? null : io.phigate.policy.Justifications.problem(value);
            if (problem != null) {
                refuseStatement(protocol, sql, new StatementGate.Refusal("22023", problem), extended, null);
                return;
            }
            justification = value;
            what = "justification " + (justification == null ? "cleared" : "set");
        }
        StatementRun run = newStatement(0);
        try {
            audit.appendDurably(List.of(requested(run, protocol, sql, List.of(), null, null),
                    new AuditEvent.StatementCompleted(Instant.now(), id, run.id, Outcome.OK, null,
                            a.kind() == StatementKind.SET ? "SET" : "RESET", 0, run.durationMicros(), null,
                            "intercepted by phigate: " + what)));
        } catch (AuditUnavailableException e) {
            refuseStatement(protocol, sql, new StatementGate.Refusal(ErrorCodes.SYSTEM_IO_ERROR,
                    "phigate refused the statement: the audit store cannot record it (" + e.getMessage() + ")"),
                    extended, null);
            return;
        }
        byte[] done = MessageCodec.encode(new BackendMessage.CommandComplete(a.kind() == StatementKind.SET ? "SET"
                : "RESET"));
        // Extended: the Sync that follows goes upstream, whose ReadyForQuery carries the true transaction status.
        exchange.respondLocally(extended ? done
                : concat(done, MessageCodec.encode(new BackendMessage.ReadyForQuery(exchange.transactionStatus()))));
    }

    /**
     * Answers a message of a gateway-kept SET in the extended protocol, after the answers to everything the client
     * sent before it (which is forwarded first, so the order holds).
     */
    private void respondNow(BackendMessage... messages) throws IOException {
        forwardChunk();
        byte[] out = new byte[0];
        for (BackendMessage m : messages) {
            out = concat(out, MessageCodec.encode(m));
        }
        exchange.respondLocally(out);
    }

    /** Refuses one statement by policy: recorded, answered with the rule, nothing forwarded. */
    private void refuseStatement(Protocol protocol, String text, StatementGate.Refusal refusal, boolean extended)
            throws IOException {
        refuseStatement(newStatement(0), protocol, text, refusal, extended, null);
    }

    private void refuseStatement(Protocol protocol, String text, StatementGate.Refusal refusal, boolean extended,
                                 List<StatementAnalysis> analyses) throws IOException {
        refuseStatement(newStatement(0), protocol, text, refusal, extended, analyses);
    }

    private void refuseStatement(StatementRun run, Protocol protocol, String text, StatementGate.Refusal refusal,
                                 boolean extended) throws IOException {
        refuseStatement(run, protocol, text, refusal, extended, null);
    }

    private void refuseStatement(StatementRun run, Protocol protocol, String text, StatementGate.Refusal refusal,
                                 boolean extended, List<StatementAnalysis> analyses) throws IOException {
        try {
            audit.appendDurably(List.of(requested(run, protocol, text, List.of(), null, null, analyses),
                    new AuditEvent.StatementCompleted(Instant.now(), id, run.id, Outcome.REFUSED, refusal.sqlState(),
                            null, 0, run.durationMicros(), null, "refused: " + refusal.message())));
        } catch (AuditUnavailableException e) {
            log.warn("session {}: a refusal could not be recorded: {}", id, e.getMessage());
        }
        exchange.respondLocally(MessageCodec.encode(refusal.error()));
        if (extended) {
            discardToSync = true;
        } else {
            readyAfterRefusal();
        }
    }

    /** What the pump needs to mask a simple Query's results: its statements, with cursors resolved. */
    private ResultShape shapeOf(List<StatementAnalysis> analyses) {
        track(analyses);
        List<StatementAnalysis> resolved = new ArrayList<>(analyses.size());
        String copyText = null;
        for (StatementAnalysis a : analyses) {
            resolved.add(resolve(a));
            if (a.kind() == StatementKind.COPY_TO) {
                copyText = a.text();
            }
        }
        return ResultShape.query(Collections.unmodifiableList(resolved), StatementGate.copyFormat(copyText),
                StatementGate.copyHeader(copyText));
    }

    /** Remembers declared cursors, so a later FETCH is masked as the query it reads from. */
    private void track(List<StatementAnalysis> analyses) {
        for (StatementAnalysis a : analyses) {
            if (a.kind() == StatementKind.PREPARE) {
                String name = io.phigate.sql.SqlAnalyzer.preparedStatementName(a.text());
                if (name != null) {
                    sqlPrepared.put(name, a);
                }
            } else if (a.kind() == StatementKind.DEALLOCATE) {
                String name = io.phigate.sql.SqlAnalyzer.preparedStatementName(a.text());
                if (name == null) {
                    sqlPrepared.clear();
                } else {
                    sqlPrepared.remove(name);
                }
            } else if (a.kind() == StatementKind.DECLARE_CURSOR && a.cursor() != null) {
                cursors.put(a.cursor(), a);
            } else if (a.kind() == StatementKind.CLOSE_CURSOR && a.cursor() != null) {
                if (a.cursor().equals("all")) {
                    cursors.clear();
                } else {
                    cursors.remove(a.cursor());
                }
            }
        }
    }

    /**
     * The analysis whose outputs a statement's rows follow: a FETCH's cursor query. Null when that is unknown
     * (a cursor declared before phigate saw it, EXECUTE of an SQL-level prepared statement), which masks every
     * column of a result that could carry PHI.
     */
    private StatementAnalysis resolve(StatementAnalysis a) {
        return switch (a.kind()) {
            case FETCH -> a.cursor() == null ? null : cursors.get(a.cursor());
            case EXECUTE -> {
                String name = io.phigate.sql.SqlAnalyzer.preparedStatementName(a.text());
                yield name == null ? null : sqlPrepared.get(name);
            }
            default -> a;
        };
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private void forwardNow(byte type, byte[] body) throws IOException {
        forwardChunk();
        OutputStream up = upstream.out();
        int len = body.length + 4;
        up.write(new byte[]{type, (byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
        up.write(body);
        up.flush();
    }

    /** The write-ahead rule: the chunk's records are durable before any of its bytes go upstream. */
    private void forwardChunk() throws IOException {
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
            chunk.clear();
            return;
        }
        exchange.expect(chunk.ops);
        upstream.out().write(chunk.frames(), 0, chunk.size());
        upstream.out().flush();
        if (chunk.extended || chunk.endsWithSync) {
            batchOpenUpstream = !chunk.endsWithSync;
        }
        chunk.clear();
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
            Verdict v = approval(h.run(), h.text(), h.parameters(), h.analysis(), h.hit());
            if (v.refusal() != null) {
                List<AuditEvent> records = new ArrayList<>(chunk.events);
                Instant now = Instant.now();
                for (StatementRun run : chunk.statements) {
                    records.add(new AuditEvent.StatementCompleted(now, id, run.id, Outcome.REFUSED,
                            v.refusal().sqlState(), null, 0, run.durationMicros(), null,
                            "refused: " + v.refusal().message()));
                }
                try {
                    audit.appendDurably(records);
                } catch (AuditUnavailableException e) {
                    log.warn("session {}: a refusal could not be recorded: {}", id, e.getMessage());
                }
                exchange.respondLocally(MessageCodec.encode(ErrorCodes.error(v.refusal().sqlState(),
                        v.refusal().message())));
                boolean synced = chunk.endsWithSync;
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

    /**
     * The approval of one statement. A ticket the agent named that fits this exact statement releases it at once;
     * otherwise a request is opened (durably recorded) and, in ticket mode, the statement is refused with the
     * request's id; in hold mode the client is told the id in a NoticeResponse and this thread waits for the
     * decision, the timeout, a cancel or a disconnect. Nothing goes upstream meanwhile.
     */
    private Verdict approval(StatementRun run, String text, List<String> parameters, StatementAnalysis analysis,
                             RiskRules.Hit hit) throws IOException {
        String ticketProblem = null;
        if (approvalTicket != null) {
            try {
                ApprovalRequest r = approvals.redeem(approvalTicket, identity, upstreamName, text, parameters);
                return new Verdict(approvals.usedEvent(r, id, run.id), null);
            } catch (Approvals.Refused e) {
                ticketProblem = e.getMessage();
            }
        }
        ApprovalRequest r;
        try {
            r = approvals.open(id, run.id, identity, upstreamName, role == null ? null : role.name(), justification,
                    text, parameters, parameterSources(analysis), hit,
                    approvalsUrl == null ? "bin/phigate approvals" : approvalsUrl);
        } catch (AuditUnavailableException e) {
            return refused(ErrorCodes.SYSTEM_IO_ERROR, "phigate refused the statement: the audit store cannot record"
                    + " its approval request (" + e.getMessage() + "); nothing was sent to the database");
        } catch (Approvals.Refused e) {
            return refused(CONFIGURATION_LIMIT_EXCEEDED, "phigate refused the statement: " + e.getMessage());
        }
        RiskRule.Approval how = hit.rule().approval();
        String approvers = how.approvers() == 1 ? "1 approver" : how.approvers() + " approvers";
        String decide = (approvalsUrl == null ? "" : approvalsUrl + r.id() + "/approve, or ")
                + "bin/phigate approvals approve " + r.id();
        if (how.mode() == RiskRule.Mode.TICKET) {
            return refused(APPROVAL_REQUIRED, "phigate: rule \"" + hit.rule().name() + "\" requires approval by "
                    + approvers + " of group \"" + how.group() + "\"; request " + r.id() + " is open until "
                    + r.expiresAt() + (ticketProblem == null ? "" : " (" + ticketProblem + ")")
                    + ". Once it is approved, send SET phigate.approval = '" + r.id() + "' and then the identical"
                    + " statement again. Approve: " + decide);
        }
        exchange.respondLocally(MessageCodec.encode(ErrorCodes.notice("phigate: rule \"" + hit.rule().name()
                + "\" holds this statement for approval by " + approvers + " of group \"" + how.group()
                + "\": request " + r.id() + ", waiting until " + r.expiresAt() + ". Approve: " + decide)));
        return switch (hold(r)) {
            case APPROVED -> new Verdict(approvals.releaseHeld(r, id, run.id), null);
            case DENIED -> refused(ErrorCodes.INSUFFICIENT_PRIVILEGE, "phigate: approval request " + r.id()
                    + " was denied: " + r.denialReason());
            case EXPIRED -> refused(QUERY_CANCELED, "canceling statement: approval request " + r.id()
                    + " was not decided within " + how.timeout().toString().substring(2).toLowerCase(java.util.Locale.ROOT));
            case WITHDRAWN, PENDING -> refused(QUERY_CANCELED, "canceling statement due to user request (approval"
                    + " request " + r.id() + " withdrawn)");
        };
    }

    /**
     * Where each parameter of a held statement goes, so approvers see it masked as that column would be. Unknown
     * (so redacted for every approver) without an analysis or a PHI catalog for this upstream.
     */
    private List<ApprovalRequest.ParameterSource> parameterSources(StatementAnalysis analysis) {
        if (analysis == null || masking == null) {
            return List.of();
        }
        List<ApprovalRequest.ParameterSource> out = new ArrayList<>();
        for (io.phigate.sql.ColumnRef c : masking.parameterColumns(analysis)) {
            out.add(c == null ? ApprovalRequest.ParameterSource.UNKNOWN
                    : new ApprovalRequest.ParameterSource(c.toString(), masking.typeOf(c).orElse(null)));
        }
        return out;
    }

    private static Verdict refused(String sqlState, String message) {
        return new Verdict(null, new StatementGate.Refusal(sqlState, message));
    }

    /**
     * Blocks until the request is decided, times out, or is withdrawn by a cancel. Meanwhile it watches the
     * client socket in short slices, so a client that disconnects withdraws its request; bytes the client sends
     * meanwhile stay buffered for after the decision.
     */
    private ApprovalRequest.State hold(ApprovalRequest r) throws IOException {
        held = r;
        java.net.Socket socket = client.socket();
        try {
            while (!r.outcome().isDone()) {
                long left = java.time.Duration.between(Instant.now(), r.expiresAt()).toMillis();
                if (left <= 0) {
                    approvals.expire(r);
                    break;
                }
                if (closing) {
                    throw new IOException("the session ended while a statement was held");
                }
                int slice = (int) Math.min(left, HOLD_POLL_MILLIS);
                if (client.reader().hasBufferedInput()) {
                    try {
                        r.outcome().get(slice, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                        // keep waiting
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while a statement was held");
                    }
                    continue;
                }
                socket.setSoTimeout(slice);
                try {
                    if (!client.reader().peek()) {
                        throw new java.io.EOFException("the client disconnected while its statement was held");
                    }
                } catch (java.net.SocketTimeoutException e) {
                    // nothing from the client: keep waiting
                }
            }
        } finally {
            held = null;
            if (!r.outcome().isDone()) {
                approvals.withdraw(r, "the client connection ended");
            }
            if (!socket.isClosed()) {
                try {
                    socket.setSoTimeout(0);
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        return r.outcome().join();
    }

    /** Answers a chunk the audit store could not record, without forwarding any of it. */
    private void refuse(AuditUnavailableException cause) throws IOException {
        log.warn("session {}: refused a request because the audit store is unavailable: {}", id, cause.getMessage());
        Instant now = Instant.now();
        List<AuditEvent> refused = new ArrayList<>();
        for (StatementRun run : chunk.statements) {
            refused.add(new AuditEvent.StatementCompleted(now, id, run.id, Outcome.REFUSED, ErrorCodes.SYSTEM_IO_ERROR,
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
    private void readyAfterRefusal() throws IOException {
        if (!batchOpenUpstream && exchange.idle() && exchange.transactionStatus() != 'T') {
            exchange.respondLocally(MessageCodec.encode(new BackendMessage.ReadyForQuery(exchange.transactionStatus())));
            return;
        }
        exchange.expect(List.of(Exchange.Op.of(Exchange.Kind.INTERNAL_FAIL), Exchange.Op.of(Exchange.Kind.SYNC)));
        OutputStream up = upstream.out();
        up.write(PROVOKE_ERROR);
        up.write(MessageCodec.encode(Sync.INSTANCE));
        up.flush();
        batchOpenUpstream = false;
    }

    private StatementRun newStatement(int maxRows) {
        return new StatementRun(statementIds.incrementAndGet(), maxRows, responseCap);
    }

    private AuditEvent.StatementRequested requested(StatementRun run, Protocol protocol, String text,
                                                    List<String> parameters, String prepared, String portal) {
        return requested(run, protocol, text, parameters, prepared, portal, null);
    }

    /** The request record, with what the analysis says the statement touches when the session analyses them. */
    private AuditEvent.StatementRequested requested(StatementRun run, Protocol protocol, String text,
                                                    List<String> parameters, String prepared, String portal,
                                                    List<StatementAnalysis> analyses) {
        List<String> tables = null;
        Map<String, String> phiColumns = null;
        if (analyses != null) {
            java.util.TreeSet<String> t = new java.util.TreeSet<>();
            java.util.TreeMap<String, String> phi = new java.util.TreeMap<>();
            for (StatementAnalysis a : analyses) {
                if (a == null) {
                    continue;
                }
                a.reads().forEach(r -> t.add(r.toString()));
                a.writes().forEach(w -> t.add(w.toString()));
                if (masking != null) {
                    for (io.phigate.sql.OutputColumn out : a.outputs()) {
                        for (io.phigate.sql.ColumnRef c : out.sources()) {
                            masking.typeOf(c).ifPresent(type -> phi.put(c.toString(), type.policyName()));
                        }
                    }
                    masking.lookups(a).forEach((c, lookup) -> phi.merge(c, lookup, (x, y) -> x + "," + y));
                }
            }
            tables = t.isEmpty() ? null : List.copyOf(t);
            phiColumns = phi.isEmpty() ? null : Collections.unmodifiableMap(phi);
        }
        lastStatement = text;
        return new AuditEvent.StatementRequested(Instant.now(), id, run.id, clientAddress, upstreamName,
                identity.issuer(), identity.subject(), protocol, text, parameters, prepared, portal, justification,
                tables, phiColumns);
    }

    private List<StatementAnalysis> analysisOfPortal(String portal) {
        ResultShape shape = portalShapes.get(portal);
        return shape == null || shape.prepared == null || shape.prepared.analysis == null ? null
                : List.of(shape.prepared.analysis);
    }

    private void completed(StatementRun run) {
        audit.appendUnobserved(List.of(new AuditEvent.StatementCompleted(Instant.now(), id, run.id, run.outcome, run.sqlState,
                run.commandTag, run.rows, run.durationMicros(), run.recorder == null ? null : run.recorder.finish(),
                run.masking)));
    }

    /** The pump has stopped: the server closed, we closed it, the client broke, or the server broke the protocol. */
    private void upstreamEnded(IOException cause) {
        exchange.abortPending();
        if (closing) {
            return;
        }
        if (exchange.clientBroken()) {
            endReason = "client connection lost";
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
        if (closing) {
            return;
        }
        endReason = message;
        closing = true;
        if (!exchange.idle() && upstream.key() != null) {
            try {
                UpstreamConnection.cancel(upstream.config(), upstream.key());
            } catch (IOException e) {
                log.warn("session {}: could not cancel the running statement: {}", id, e.toString());
            }
        }
        try {
            exchange.tryWriteNow(MessageCodec.encode(ErrorCodes.fatal(sqlState, message)), 1_000);
        } catch (IOException ignored) {
            // the client is gone already
        }
        upstream.abort();
        closeClient();
    }

    /** Forwards a client's cancel request for this session's running statement, or withdraws a held one. */
    void cancelRunningStatement() throws IOException {
        ApprovalRequest h = held;
        if (h != null) {
            approvals.withdraw(h, "the client cancelled the statement");
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
        try {
            client.socket().close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Bound values as the audit store keeps them: text as sent, binary as \x hex, NULL as null. */
    static List<String> render(byte[][] values, java.util.function.IntFunction<Short> format) {
        if (values.length == 0) {
            return List.of();
        }
        List<String> out = new ArrayList<>(values.length);
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i];
            if (v == null) {
                out.add(null);
            } else if (format.apply(i) == 0) {
                out.add(new String(v, StandardCharsets.UTF_8));
            } else {
                out.add("\\x" + hex.formatHex(v));
            }
        }
        return Collections.unmodifiableList(out);
    }

    private static byte[] execBody(String portal) {
        return MessageCodec.encode(new Execute(portal, 0));
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
        return statementIds.get();
    }

    @Override
    public String lastStatement() {
        return lastStatement;
    }

    @Override
    public boolean busy() {
        return held != null || !exchange.idle();
    }

    @Override
    public long bytesFromClient() {
        return bytesFromClient;
    }

    @Override
    public long bytesToClient() {
        return toClient.count();
    }

    /** Counts what reaches the client's stream; only the thread writing to the client (under its lock) adds. */
    private static final class ByteCounter extends java.io.FilterOutputStream {
        private final java.util.concurrent.atomic.LongAdder count = new java.util.concurrent.atomic.LongAdder();

        ByteCounter(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count.increment();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count.add(len);
        }

        long count() {
            return count.sum();
        }
    }

    @Override
    public String toString() {
        return "PgSession[" + id + ", upstream=" + upstreamName + ", subject=" + identity.subject() + "]";
    }
}
