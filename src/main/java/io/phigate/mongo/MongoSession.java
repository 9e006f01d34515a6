package io.phigate.mongo;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;
import io.phigate.mongo.backend.UpstreamConnection;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.command.CommandReader;
import io.phigate.mongo.frontend.ClientReplies;
import io.phigate.mongo.frontend.ClientTls;
import io.phigate.mongo.frontend.HelloReply;
import io.phigate.mongo.frontend.PlainAuthentication;
import io.phigate.mongo.masking.CommandMasking;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.MongoError;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireException;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.mongo.wire.WireMessage.OpQuery;
import io.phigate.net.ReadDeadline;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
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
 * leaves either side unread while it waits (decision 0042). This class owns the connection: its transport (TLS,
 * decision 0052), the gateway's own hello, authentication, and the session's start and end; once authenticated,
 * each command goes through the session's {@link CommandPath}.
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
    private final ClientReplies replies;
    /** The TLS protocol and cipher toward the client, or {@code none}. */
    private final String tls;
    /** Why this connection is refused before anything is read (cleartext where TLS is required), or null. */
    private final String transportRefusal;
    private final long started = System.nanoTime();
    private Identity identity;
    private Instant expiresAt;
    private LiveMongoSession live;
    /** The session's commands, once authenticated. */
    private CommandPath commands;
    private String endReason = "client closed the connection";

    /** Bounds each message's reading until the client authenticates. */
    private final UnauthenticatedReads reads;

    /**
     * {@code opened}'s socket is opened by the caller, which closes it whatever happens here; {@code accepted} is the
     * socket as accepted (under TLS, the one {@code opened} is layered on), with {@code first} armed over it.
     */
    MongoSession(MongoFrontDoor door, ClientTls.Opened opened, Socket accepted, ReadDeadline first, long connectionId)
            throws IOException {
        this.door = door;
        this.socket = opened.socket();
        this.connectionId = connectionId;
        this.tls = opened.description();
        this.transportRefusal = opened.refusal();
        this.clientAddress = socket.getRemoteSocketAddress() instanceof InetSocketAddress isa
                ? isa.getAddress().getHostAddress() : String.valueOf(socket.getRemoteSocketAddress());
        socket.setTcpNoDelay(true);
        this.reads = new UnauthenticatedReads(opened.in(), accepted, door.settings.unauthenticatedIdle(), first);
        this.in = new BufferedInputStream(reads, 16 * 1024);
        this.unauthenticated = new FrameReader(in, MAX_UNAUTHENTICATED_MESSAGE, "the limit before authentication");
        this.client = new FrameReader(in, door.settings.maxMessageBytes());
        this.replies = new ClientReplies(new BufferedOutputStream(socket.getOutputStream(), 16 * 1024));
    }

    void run() {
        try {
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
            reads.stop();
            if (commands != null) {
                commands.close();
            }
            if (live != null) {
                door.sessions.remove(live);
                if (live.terminatedFor() != null) {
                    endReason = "terminated: " + live.terminatedFor();
                }
            }
            if (identity != null) {
                door.audit.appendUnobserved(List.of(new AuditEvent.SessionEnded(Instant.now(), sessionId, endReason,
                        commands == null ? 0 : commands.statements(), (System.nanoTime() - started) / 1_000_000)));
            }
        }
    }

    /** Reads and answers one message; false when the connection must close. */
    private boolean serveOne() throws IOException {
        Frame frame;
        try {
            if (identity == null) {
                reads.awaitMessage();
                frame = unauthenticated.next();
                reads.messageRead();
            } else {
                commands.beforeNextRead();
                frame = client.next();
            }
        } catch (WireException e) {
            endReason = e.getMessage();
            replies.error(e.requestId(), e.error(), e.getMessage());
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
                replies.error(e.requestId(), e.error(), e.getMessage());
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
            replies.opReplyError(first.header().requestId(), MongoError.UNAUTHORIZED, transportRefusal);
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
            replies.opReplyError(id, MongoError.UNSUPPORTED_OP_QUERY, "OP_QUERY is accepted only for the initial"
                    + " hello");
            endReason = "OP_QUERY other than hello";
            return false;
        }
        try {
            replies.opReply(id, hello(q), false);
            return true;
        } catch (IOException e) {
            replies.opReply(id, unreachable(e), true);
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
                replies.error(id, e.error(), e.getMessage());
            }
            return true;
        }
        if (HelloReply.COMMANDS.contains(command.name())) {
            try {
                replies.reply(id, hello(msg.body()));
                return true;
            } catch (IOException e) {
                replies.reply(id, unreachable(e));
                return false;
            }
        }
        if (AUTHENTICATION.contains(command.name())) {
            if (identity != null) {
                replies.error(id, MongoError.AUTHENTICATION_FAILED, "this connection is already authenticated");
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
                replies.error(id, MongoError.UNAUTHORIZED, "command " + command.name() + " requires authentication");
            }
            return true;
        }
        if (Instant.now().isAfter(expiresAt)) {
            endReason = "the agent token expired at " + identity.expiresAt();
            replies.error(id, MongoError.UNAUTHORIZED, endReason);
            return false;
        }
        commands.serve(frame, msg, command);
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
        String closed = io.phigate.policy.Admission.outsideWindows(door.documents.roleOf(verified), Instant.now());
        if (closed != null) {
            return refuseConnection(id, MongoError.UNAUTHORIZED, closed, verified); // as PostgreSQL's admission
        }
        UpstreamConnection upstream;
        try {
            upstream = UpstreamConnection.open(door.settings.upstream(), door.settings.upstreamTls(),
                    door.settings.upstreamLogin());
            door.learned(upstream.facts());
        } catch (UpstreamConnection.LoginRefused e) {
            // The agent's own credentials were fine: the gateway's to the store were not (or the store's proof).
            return refuseConnection(id, new MongoError(6, "HostUnreachable"), "upstream "
                    + door.settings.upstreamName() + " refused the gateway's login: " + e.getMessage(), verified);
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
            upstream.close();
            replies.error(id, MongoError.INTERNAL_ERROR, "phigate could not record the session in its audit store");
            endReason = "audit store unavailable at session start";
            return false;
        }
        identity = verified;
        expiresAt = verified.expiresAt().plus(door.settings.identity().clockSkew())
                .plus(door.settings.identity().sessionGrace());
        live = new LiveMongoSession(sessionId, verified, door.settings.upstreamName(), clientAddress, socket);
        commands = new CommandPath(door, sessionId, clientAddress, verified, admitted, upstream, in, replies,
                live, authenticated.justification());
        door.sessions.add(live);
        reads.lift();
        replies.reply(id, new BsonDocument("conversationId", new BsonInt32(1)).append("done", BsonBoolean.TRUE)
                .append("payload", new BsonBinary(new byte[0])).append("ok", new BsonDouble(1)));
        return true;
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
            replies.error(requestId, error, message);
        }
        return false;
    }

    private boolean refuseAndClose(int requestId, String message) throws IOException {
        endReason = message;
        replies.error(requestId, MongoError.FAILED_TO_PARSE, message);
        return false;
    }

    /** A request whose sender expects no reply: an OP_MSG with moreToCome, read off the raw flags. */
    private static boolean expectsNoReply(Frame frame) {
        byte[] b = frame.bytes();
        return frame.header().opCode() == WireMessage.OP_MSG && b.length >= 20
                && (b[16] & OpMsg.MORE_TO_COME) != 0;
    }
}
