package io.phigate.mongo;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.ResponseRecorder;
import io.phigate.identity.Identity;
import io.phigate.mongo.CommandGate.Verdict;
import io.phigate.mongo.backend.ReplyFacts;
import io.phigate.mongo.backend.UpstreamConnection;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.command.CommandReader;
import io.phigate.mongo.frontend.ClientTls;
import io.phigate.mongo.frontend.HelloReply;
import io.phigate.mongo.masking.CommandMasking;
import io.phigate.mongo.masking.CommandMasking.Judgement;
import io.phigate.mongo.masking.ReplyMasker;
import io.phigate.mongo.masking.ReplyPlan;
import io.phigate.mongo.frontend.PlainAuthentication;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.MongoError;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireException;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.mongo.wire.WireMessage.OpQuery;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of the document store's front door, from its first hello to its close. Runs wholly on the
 * connection's virtual thread ({@code mongo-conn-N}): on one connection the protocol is strictly one request, then
 * its replies (a driver sends its next command only after the last reply, apart from fire-and-forget
 * {@code moreToCome} writes, which have no reply), so one thread that reads the client, then the upstream, never
 * leaves either side unread while it waits (decision 0042). Each command is judged ({@link CommandGate}), recorded
 * durably, and only then forwarded raw; its replies stream back one message at a time and are recorded after.
 */
final class MongoSession {
    private static final Logger log = LoggerFactory.getLogger(MongoSession.class);
    /** Commands the gateway answers for the authentication it owns; never forwarded. */
    private static final Set<String> AUTHENTICATION = Set.of("saslStart", "saslContinue", "authenticate", "logout");

    private final MongoFrontDoor door;
    private final Socket socket;
    private final long connectionId;
    private final String sessionId = UUID.randomUUID().toString();
    private final String clientAddress;
    /**
     * Before authentication only hello and saslStart are answered, and both are small: an unauthenticated client
     * may not make the gateway hold a full-size message, or a hundred such clients would hold gigabytes.
     */
    static final int MAX_UNAUTHENTICATED_MESSAGE = 64 * 1024;

    private final FrameReader unauthenticated;
    private final FrameReader client;
    private final BufferedInputStream in;
    private final OutputStream out;
    /** The TLS protocol and cipher toward the client, or {@code none}. */
    private final String tls;
    /** Why this connection is refused before anything is read (cleartext where TLS is required), or null. */
    private final String transportRefusal;
    private final OpenCursors cursors = new OpenCursors();
    private final long started = System.nanoTime();
    private int nextReplyId = 1;
    private Identity identity;
    private Instant expiresAt;
    private CommandRecords records;
    private CommandMasking masking;
    private LiveMongoSession live;
    private CommandApprovals rules;
    private UpstreamConnection upstream;
    private long statements;
    private String endReason = "client closed the connection";

    /** {@code opened}'s socket is opened by the caller, which closes it whatever happens here. */
    MongoSession(MongoFrontDoor door, ClientTls.Opened opened, long connectionId) throws IOException {
        this.door = door;
        this.socket = opened.socket();
        this.connectionId = connectionId;
        this.tls = opened.description();
        this.transportRefusal = opened.refusal();
        this.clientAddress = socket.getRemoteSocketAddress() instanceof InetSocketAddress isa
                ? isa.getAddress().getHostAddress() : String.valueOf(socket.getRemoteSocketAddress());
        socket.setTcpNoDelay(true);
        this.in = new BufferedInputStream(opened.in(), 16 * 1024);
        this.unauthenticated = new FrameReader(in, MAX_UNAUTHENTICATED_MESSAGE, "the limit before authentication");
        this.client = new FrameReader(in, door.settings.maxMessageBytes());
        this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
    }

    void run() {
        try {
            socket.setSoTimeout((int) door.settings.unauthenticatedIdle().toMillis());
            if (transportRefusal != null) {
                refuseTransport();
                return;
            }
            while (serveOne()) {
                // one message at a time, until the connection must close
            }
        } catch (SocketTimeoutException e) {
            endReason = "no message for " + door.settings.unauthenticatedIdle() + " before authentication";
        } catch (IOException e) {
            endReason = e.getClass().getSimpleName() + ": " + e.getMessage();
            log.debug("mongo session {} ended: {}", sessionId, endReason);
        } finally {
            if (upstream != null) {
                upstream.close();
            }
            if (live != null) {
                door.sessions.remove(live);
                if (live.terminatedFor() != null) {
                    endReason = "terminated: " + live.terminatedFor();
                }
            }
            if (identity != null) {
                door.audit.appendUnobserved(List.of(new AuditEvent.SessionEnded(Instant.now(), sessionId, endReason,
                        statements, (System.nanoTime() - started) / 1_000_000)));
            }
        }
    }

    /** Reads and answers one message; false when the connection must close. */
    private boolean serveOne() throws IOException {
        Frame frame;
        try {
            frame = (identity == null ? unauthenticated : client).next();
        } catch (WireException e) {
            endReason = e.getMessage();
            replyError(e.requestId(), e.error(), e.getMessage());
            return false;
        }
        if (frame == null) {
            return false;
        }
        WireMessage message;
        try {
            message = WireCodec.decode(frame);
        } catch (WireException e) {
            if (!expectsNoReply(frame)) {
                replyError(e.requestId(), e.error(), e.getMessage());
            }
            endReason = e.fatal() ? e.getMessage() : endReason;
            return !e.fatal();
        }
        int id = message.header().requestId();
        return switch (message) {
            case OpMsg msg -> onMsg(frame, msg);
            case OpQuery query -> onQuery(query);
            case WireMessage.OpCompressed c -> refuseAndClose(id, "OP_COMPRESSED: phigate offers no compressor");
            case WireMessage.OpReply r -> refuseAndClose(id, "OP_REPLY is a server's message");
            case WireMessage.Unknown u -> refuseAndClose(id, "op code " + u.header().opCode() + " is not accepted");
        };
    }

    /**
     * A connection refused for its transport: its first message is answered with the reason (OP_REPLY to the
     * legacy hello drivers open with), the refusal recorded, and the connection closed.
     */
    private void refuseTransport() throws IOException {
        Frame first = null;
        try {
            first = unauthenticated.next();
        } catch (WireException e) {
            // unreadable: refused all the same, without an answer
        }
        if (first == null) {
            refuseConnection(null, MongoError.UNAUTHORIZED, transportRefusal, null);
        } else if (first.header().opCode() == WireMessage.OP_QUERY) {
            refuseConnection(null, MongoError.UNAUTHORIZED, transportRefusal, null);
            write(WireCodec.opReply(nextReplyId++, first.header().requestId(), MongoError.UNAUTHORIZED
                    .reply(transportRefusal).append("$err", new org.bson.BsonString(transportRefusal)), true));
        } else {
            refuseConnection(first.header().requestId(), MongoError.UNAUTHORIZED, transportRefusal, null);
        }
    }

    /** OP_QUERY serves only the legacy handshake, as on servers since 5.1; anything else ends the connection. */
    private boolean onQuery(OpQuery query) throws IOException {
        BsonDocument q = query.query().containsKey("$query") && query.query().get("$query").isDocument()
                ? query.query().getDocument("$query") : query.query();
        int id = query.header().requestId();
        if (!query.fullCollectionName().endsWith(".$cmd") || q.isEmpty()
                || !HelloReply.COMMANDS.contains(q.getFirstKey())) {
            write(WireCodec.opReply(nextReplyId++, id, MongoError.UNSUPPORTED_OP_QUERY.reply(
                    "OP_QUERY is accepted only for the initial hello").append("$err",
                    new org.bson.BsonString("OP_QUERY is accepted only for the initial hello")), true));
            endReason = "OP_QUERY other than hello";
            return false;
        }
        try {
            write(WireCodec.opReply(nextReplyId++, id, hello(q), false));
            return true;
        } catch (IOException e) {
            write(WireCodec.opReply(nextReplyId++, id, unreachable(e), true));
            return false;
        }
    }

    private boolean onMsg(Frame frame, OpMsg msg) throws IOException {
        int id = msg.header().requestId();
        Command command;
        try {
            command = CommandReader.read(msg);
        } catch (CommandException e) {
            if (!msg.moreToCome()) {
                replyError(id, e.error(), e.getMessage());
            }
            return true;
        }
        if (HelloReply.COMMANDS.contains(command.name())) {
            try {
                reply(id, hello(msg.body()));
                return true;
            } catch (IOException e) {
                reply(id, unreachable(e));
                return false;
            }
        }
        if (AUTHENTICATION.contains(command.name())) {
            if (identity != null) {
                replyError(id, MongoError.AUTHENTICATION_FAILED, "this connection is already authenticated");
                return true;
            }
            if (!command.name().equals("saslStart")) {
                return refuseConnection(id, MongoError.MECHANISM_UNAVAILABLE, command.name()
                        + ": phigate authenticates with saslStart and the PLAIN mechanism only", null);
            }
            return authenticate(msg, command);
        }
        if (identity == null) {
            if (!msg.moreToCome()) {
                replyError(id, MongoError.UNAUTHORIZED, "command " + command.name() + " requires authentication");
            }
            return true;
        }
        if (Instant.now().isAfter(expiresAt)) {
            endReason = "the agent token expired at " + identity.expiresAt();
            replyError(id, MongoError.UNAUTHORIZED, endReason);
            return false;
        }
        String ticket = CommandApprovals.ticketIn(msg.body());
        if (ticket != null) {
            msg = CommandApprovals.withoutTicket(msg);
            byte[] bytes = WireCodec.encode(msg);
            frame = new Frame(new MsgHeader(bytes.length, id, 0, WireMessage.OP_MSG), bytes);
            try {
                command = CommandReader.read(msg);
            } catch (CommandException e) {
                replyError(id, e.error(), e.getMessage());
                return true;
            }
        }
        try {
            forward(frame, msg, command, ticket);
        } finally {
            live.finished();
        }
        return true;
    }

    /**
     * SASL PLAIN in one step: the password is the agent's token (or a one-time credential), verified as on the
     * PostgreSQL side; any other mechanism (SCRAM, which a driver picks when no mechanism is named) is refused with
     * mongod's error for a mechanism it does not offer, naming PLAIN.
     */
    private boolean authenticate(OpMsg msg, Command command) throws IOException {
        int id = msg.header().requestId();
        PlainAuthentication.Authenticated authenticated;
        try {
            authenticated = door.authentication.authenticate(msg.body(), command.database(),
                    door.settings.upstreamName());
        } catch (PlainAuthentication.Refused e) {
            return refuseConnection(id, e.error(), e.getMessage(), e.who());
        }
        Identity verified = authenticated.identity();
        CommandMasking admitted = door.documents.forSession(verified, door.settings.upstreamName()).orElse(null);
        if (admitted == null) {
            return refuseConnection(id, MongoError.AUTHENTICATION_FAILED, "no role of the policy admits this identity"
                    + " to " + door.settings.upstreamName(), verified);
        }
        try {
            upstream = UpstreamConnection.open(door.settings.upstream(), door.settings.upstreamTls());
            door.learned(upstream.facts());
        } catch (IOException e) {
            return refuseConnection(id, new MongoError(6, "HostUnreachable"), "upstream "
                    + door.settings.upstreamName() + " is unreachable: " + e.getMessage(), verified);
        }
        try {
            door.audit.appendDurably(List.of(new AuditEvent.SessionStarted(Instant.now(), sessionId, clientAddress,
                    door.settings.upstreamName(), verified.issuer(), verified.subject(), verified.claimsDigest(),
                    authenticated.user(), java.util.Map.of(), tls, roleName(verified), authenticated.justification(),
                    null)));
        } catch (AuditUnavailableException e) {
            replyError(id, MongoError.INTERNAL_ERROR, "phigate could not record the session in its audit store");
            endReason = "audit store unavailable at session start";
            return false;
        }
        identity = verified;
        masking = admitted;
        expiresAt = verified.expiresAt().plus(door.settings.identity().clockSkew())
                .plus(door.settings.identity().sessionGrace());
        records = new CommandRecords(sessionId, clientAddress, door.settings.upstreamName(), verified);
        rules = new CommandApprovals(sessionId, verified, door.settings.upstreamName(), door.documents.roleOf(verified),
                door.documents.policy().rules(), door.approvals);
        live = new LiveMongoSession(sessionId, verified, door.settings.upstreamName(), clientAddress, socket);
        door.sessions.add(live);
        socket.setSoTimeout(0);
        reply(id, new BsonDocument("conversationId", new BsonInt32(1)).append("done", BsonBoolean.TRUE)
                .append("payload", new BsonBinary(new byte[0])).append("ok", new BsonDouble(1)));
        return true;
    }

    /**
     * The write-ahead rule: judged, recorded durably, then forwarded raw. A command that cannot be recorded is
     * answered with an error and never forwarded.
     */
    private void forward(Frame frame, OpMsg msg, Command command, String ticket) throws IOException {
        int id = msg.header().requestId();
        long statementId = ++statements;
        Long cursor = command.cursorIds().isEmpty() ? null : command.cursorIds().getFirst();
        Judgement judged = masking.judge(command, msg.body(), cursor == null ? null : cursors.plan(cursor));
        AuditEvent.StatementRequested requested = records.requested(statementId, msg, command,
                cursor == null ? null : cursors.origin(cursor), judged.phiFields());
        live.started(statementId, requested.text());
        Verdict verdict = judged instanceof Judgement.Refuse r
                ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + r.message())
                : door.gate.judge(identity, command);
        if (verdict instanceof Verdict.Forward && !cursors.ownsAll(command.cursorIds())) {
            verdict = new Verdict.Refuse(MongoError.CURSOR_NOT_FOUND, "cursor id " + command.cursorIds()
                    + " not found in this session");
        }
        if (verdict instanceof Verdict.Refuse refuse) {
            refuse(msg, command, requested, refuse.error(), refuse.message());
            return;
        }
        CommandApprovals.Outcome held = rules.judge(statementId, command, msg.body(), judged.phiTypes(),
                CommandRecords.approvalText(msg), requested.parameters(), ticket, socket, in);
        if (held instanceof CommandApprovals.Outcome.Refuse refuse) {
            refuse(msg, command, requested, refuse.error(), refuse.message());
            return;
        }
        try {
            door.audit.appendDurably(held instanceof CommandApprovals.Outcome.Release release
                    ? List.of(requested, release.used()) : List.of(requested));
        } catch (AuditUnavailableException e) {
            door.audit.appendUnobserved(List.of(records.completed(statementId, Outcome.REFUSED,
                    MongoError.INTERNAL_ERROR.code(), command, 0, 0, null)));
            if (!msg.moreToCome()) {
                replyError(id, MongoError.INTERNAL_ERROR, "phigate could not record this command in its audit"
                        + " store, so it was not forwarded");
            }
            return;
        }
        ReplyPlan plan = ((Judgement.Forward) judged).plan();
        long start = System.nanoTime();
        ResponseRecorder recorder = new ResponseRecorder(door.settings.responseCap());
        long documents = 0;
        ReplyFacts last = null;
        try {
            upstream.forward(frame.bytes());
            if (msg.moreToCome()) {
                door.audit.appendUnobserved(List.of(records.completed(statementId, Outcome.OK, null, command, 0,
                        micros(start), null)));
                return;
            }
            do {
                // One reply message at a time: each is held once, written on (masked as it is written), dropped.
                Frame reply = upstream.next();
                last = ReplyFacts.read(reply);
                deliver(reply, plan, recorder);
                documents += last.documents();
                cursors.update(command, last, plan);
            } while (last.moreToCome());
        } catch (IOException e) {
            door.audit.appendUnobserved(List.of(records.completed(statementId, Outcome.ABORTED, null, command,
                    documents, micros(start), recorder.finish(), plan.summary())));
            throw e;
        }
        door.audit.appendUnobserved(List.of(records.completed(statementId, last.ok() ? Outcome.OK : Outcome.ERROR,
                last.code(), command, documents, micros(start), recorder.finish(), plan.summary())));
    }

    /**
     * Writes one reply as the plan masks it. A reply the masking cannot read is not sent: the client gets an error
     * instead and the connection ends, since the server's state (an open cursor, an exhaust stream) no longer
     * matches what the client was told.
     */
    private void deliver(Frame reply, ReplyPlan plan, ResponseRecorder recorder) throws IOException {
        try {
            RecordedOutput.deliver(reply.bytes(), plan, out, recorder);
        } catch (ReplyMasker.Unmaskable e) {
            endReason = "a reply phigate could not read to mask: " + e.getMessage();
            replyError(reply.header().responseTo(), MongoError.INTERNAL_ERROR, "phigate could not read the"
                    + " server's reply to mask it, so it was withheld and the connection is closed");
            throw new IOException(endReason);
        }
    }

    /** A command refused before it went upstream: its request and its end recorded together, the client answered. */
    private void refuse(OpMsg msg, Command command, AuditEvent.StatementRequested requested, MongoError error,
                        String message) throws IOException {
        door.audit.appendUnobserved(List.of(requested, records.completed(requested.statementId(), Outcome.REFUSED,
                error.code(), command, 0, 0, null, "refused: " + message)));
        if (!msg.moreToCome()) {
            replyError(msg.header().requestId(), error, message);
        }
    }

    private String roleName(Identity who) {
        io.phigate.policy.Role role = door.documents.roleOf(who);
        return role == null ? null : role.name();
    }

    private BsonDocument hello(BsonDocument request) throws IOException {
        return HelloReply.answer(request, door.upstreamFacts(), door.settings.maxMessageBytes(), connectionId);
    }

    /**
     * The upstream could not be reached for a hello (its TLS did not verify, or it is down): the client is told why,
     * as the PostgreSQL side tells it, and the refusal is queued for the records without waiting, since no one has
     * authenticated yet.
     */
    private BsonDocument unreachable(IOException e) {
        endReason = "upstream " + door.settings.upstreamName() + " is unreachable: " + e.getMessage();
        log.warn("mongo: upstream {} unreachable: {}", door.settings.upstreamName(), e.toString());
        door.audit.appendUnobserved(List.of(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress,
                door.settings.upstreamName(), null, null, "6", endReason)));
        return new MongoError(6, "HostUnreachable").reply(endReason);
    }

    /** An authentication that failed: recorded (best effort, as on the PostgreSQL side), answered, and closed. */
    private boolean refuseConnection(Integer requestId, MongoError error, String message, Identity who)
            throws IOException {
        endReason = message;
        try {
            door.audit.appendDurably(List.of(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress,
                    door.settings.upstreamName(), who == null ? null : who.issuer(),
                    who == null ? null : who.subject(), String.valueOf(error.code()), message)));
        } catch (AuditUnavailableException e) {
            log.warn("could not record a refused connection: {}", e.getMessage());
        }
        if (requestId != null) {
            replyError(requestId, error, message);
        }
        return false;
    }

    private boolean refuseAndClose(int requestId, String message) throws IOException {
        endReason = message;
        replyError(requestId, MongoError.FAILED_TO_PARSE, message);
        return false;
    }

    private void replyError(int responseTo, MongoError error, String message) throws IOException {
        reply(responseTo, error.reply(message));
    }

    private void reply(int responseTo, BsonDocument body) throws IOException {
        write(WireCodec.reply(nextReplyId++, responseTo, body));
    }

    private void write(byte[] message) throws IOException {
        out.write(message);
        out.flush();
    }

    /** A request whose sender expects no reply: an OP_MSG with moreToCome, read off the raw flags. */
    private static boolean expectsNoReply(Frame frame) {
        byte[] b = frame.bytes();
        return frame.header().opCode() == WireMessage.OP_MSG && b.length >= 20
                && (b[16] & OpMsg.MORE_TO_COME) != 0;
    }

    private static long micros(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000;
    }
}
