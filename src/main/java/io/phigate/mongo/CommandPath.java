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
import io.phigate.mongo.frontend.ClientReplies;
import io.phigate.mongo.masking.CommandMasking;
import io.phigate.mongo.masking.CommandMasking.Judgement;
import io.phigate.mongo.masking.DocumentBudget;
import io.phigate.mongo.masking.ReplyMasker;
import io.phigate.mongo.masking.ReplyPlan;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.MongoError;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.util.List;
import org.bson.BsonDocument;

/**
 * The commands of one authenticated session, from the client's message to the last reply: judged (masking, the
 * {@link CommandGate}, cursor ownership, the policy's rules and approvals), recorded durably, and only then
 * forwarded raw; replies stream back one message at a time, masked as they are written, and are recorded after
 * (decisions 0042, 0051, 0052). {@link MongoSession} owns the connection around it: transport, hello,
 * authentication, the end. Runs on the connection's thread.
 */
final class CommandPath implements AutoCloseable {
    private final MongoFrontDoor door;
    private final Identity identity;
    private final BufferedInputStream in;
    private final ClientReplies replies;
    private final UpstreamConnection upstream;
    private final CommandRecords records;
    private final CommandMasking masking;
    private final CommandApprovals rules;
    private final io.phigate.policy.Role role;
    private final String justification;
    private final LiveMongoSession live;
    private final OpenCursors cursors = new OpenCursors();
    private final ServerCommands server;
    private final RowLimit rowLimit;
    private final UniqueKeyWrites uniqueKeys;
    private long statements;

    /** Takes {@code upstream} over: {@link #close} closes it. */
    CommandPath(MongoFrontDoor door, String sessionId, String clientAddress, Identity identity,
                CommandMasking masking, UpstreamConnection upstream, BufferedInputStream in,
                ClientReplies replies, LiveMongoSession live, String justification) {
        this.door = door;
        this.justification = justification;
        this.identity = identity;
        this.in = in;
        this.replies = replies;
        this.upstream = upstream;
        this.masking = masking;
        this.live = live;
        String upstreamName = door.settings.upstreamName();
        this.server = new ServerCommands(door.logicalSessions, identity);
        this.records = new CommandRecords(sessionId, clientAddress, upstreamName, identity);
        this.role = door.documents.roleOf(identity);
        this.rowLimit = new RowLimit(role, sessionId);
        this.uniqueKeys = new UniqueKeyWrites(masking, upstream);
        this.rules = new CommandApprovals(sessionId, identity, upstreamName, role,
                door.documents.policy().rules(), door.approvals, live.ended());
    }

    /** Before the next read of the client: a held command's watch of the socket has ended ({@link CommandApprovals}). */
    void beforeNextRead() throws IOException {
        rules.settled();
    }

    /** Commands taken so far, forwarded or refused. */
    long statements() {
        return statements;
    }

    /**
     * Serves one command. A command naming an approval in its {@code comment} ({@link ApprovalMarker}) has the marker
     * cut out first: the gateway's word, like PostgreSQL's {@code SET phigate.approval}, is never forwarded.
     */
    void serve(Frame frame, OpMsg msg, Command command) throws IOException {
        int id = msg.header().requestId();
        ApprovalMarker.Named marker = ApprovalMarker.in(msg.body());
        String ticket = marker == null ? null : marker.id();
        if (marker != null) {
            msg = marker.applyTo(msg);
            byte[] bytes = WireCodec.encode(msg);
            frame = new Frame(new MsgHeader(bytes.length, id, 0, WireMessage.OP_MSG), bytes);
            Command named;
            try {
                named = CommandReader.read(msg);
            } catch (CommandException e) {
                replies.error(id, e.error(), e.getMessage());
                return;
            }
            if (!named.name().equals(command.name()) || command.name().equals("comment")) {
                // The marker was the first field: the command read before (hello, saslStart, logout ...) is one
                // the connection answers or refuses itself, and must not reach the store under another name.
                if (!msg.moreToCome()) {
                    replies.error(id, MongoError.FAILED_TO_PARSE, "phigate: the approval comment is the first field,"
                            + " so it names the command; put the command's name first");
                }
                return;
            }
            command = named;
        }
        try {
            forward(frame, msg, command, ticket);
        } finally {
            live.finished();
        }
    }

    /**
     * The write-ahead rule: judged, recorded durably, then forwarded raw. A command that cannot be recorded is
     * answered with an error and never forwarded.
     */
    private void forward(Frame frame, OpMsg msg, Command command, String ticket) throws IOException {
        int id = msg.header().requestId();
        long statementId = ++statements;
        Long cursor = command.cursorIds().isEmpty() ? null : command.cursorIds().getFirst();
        BsonDocument body = CommandReader.asServerReadsIt(msg); // sequences too: every check reads what mongod does
        Judgement judged = masking.judge(command, body, cursor == null ? null : cursors.plan(cursor));
        String origin = cursor == null ? null : cursors.origin(cursor);
        AuditEvent.StatementRequested requested = records.requested(statementId, msg, command, origin,
                judged.phiFields());
        live.started(statementId, requested.text());
        String serverRefusal = server.refusal(command, body); // always asked: it claims the command's lsid
        String unknownOption = CommandOptions.refusal(command, body);
        String forbiddenOption = CommandOptions.forbidden(body);
        String outOfScope = CommandScope.refusal(role, justification, command, body, java.time.Instant.now());
        String gathering = rowLimit.refusal(command, body);
        String listingProbe = ScopedListingFilters.refusal(role, command, body);
        Verdict verdict = unknownOption != null ? new Verdict.Refuse(MongoError.UNKNOWN_FIELD, unknownOption)
                : forbiddenOption != null ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + forbiddenOption)
                : outOfScope != null ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + outOfScope)
                : gathering != null ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + gathering)
                : listingProbe != null ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + listingProbe)
                : judged instanceof Judgement.Refuse r
                ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + r.message())
                : serverRefusal != null ? new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + serverRefusal)
                : door.gate.judge(identity, command);
        if (verdict instanceof Verdict.Forward && !cursors.ownsAll(command.cursorIds())) {
            verdict = new Verdict.Refuse(MongoError.CURSOR_NOT_FOUND, "cursor id " + command.cursorIds()
                    + " not found in this session");
        }
        String answersLookup = verdict instanceof Verdict.Forward ? uniqueKeys.refusal(command, body) : null;
        if (answersLookup != null) {
            verdict = new Verdict.Refuse(MongoError.UNAUTHORIZED, "phigate: " + answersLookup);
        }
        if (verdict instanceof Verdict.Refuse refuse) {
            refuse(msg, command, requested, refuse.error(), refuse.message());
            return;
        }
        CommandApprovals.Outcome held = rules.judge(statementId, command, body, judged.phiTypes(),
                CommandRecords.approvalText(msg), requested.parameters(), ticket, in);
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
                replies.error(id, MongoError.INTERNAL_ERROR, "phigate could not record this command in its audit"
                        + " store, so it was not forwarded");
            }
            return;
        }
        ReplyPlan plan = listing(command, cursor, ((Judgement.Forward) judged).plan());
        DocumentBudget budget = rowLimit.budgetFor(command, cursors);
        long before = budget == null ? 0 : budget.deliveredSoFar();
        if (budget != null && msg.exhaustAllowed()) {
            frame = RowLimit.withoutExhaust(msg);
        }
        long start = System.nanoTime();
        ResponseRecorder recorder = new ResponseRecorder(door.settings.responseCap());
        long documents = 0;
        ReplyFacts last = null;
        try {
            upstream.forward(frame.bytes());
            uniqueKeys.forwarded(command);
            if (msg.moreToCome()) {
                door.audit.appendUnobserved(List.of(records.completed(statementId, Outcome.OK, null, command, 0,
                        micros(start), null)));
                return;
            }
            do {
                // One reply message at a time: each is held once, written on (masked as it is written), dropped.
                Frame reply = upstream.next();
                last = ReplyFacts.read(reply);
                deliver(reply, plan, budget, recorder);
                documents = budget == null ? documents + last.documents() : budget.deliveredSoFar() - before;
                cursors.update(command, last, plan, budget);
            } while (last.moreToCome());
        } catch (IOException e) {
            door.audit.appendUnobserved(List.of(records.completed(statementId, Outcome.ABORTED, null, command,
                    documents, micros(start), recorder.finish(), summary(plan, budget))));
            throw e;
        }
        AuditEvent.StatementCompleted completed = records.completed(statementId, last.ok() ? Outcome.OK
                : Outcome.ERROR, last.code(), command, documents, micros(start), recorder.finish(),
                summary(plan, budget));
        if (budget == null || !budget.serverCursorLeftOpen() || last.cursorId() == 0) {
            door.audit.appendUnobserved(List.of(completed));
            return;
        }
        // The gateway's own killCursors reaches the store only once the record saying so is durable.
        try {
            door.audit.appendDurably(List.of(completed));
        } catch (AuditUnavailableException e) {
            return; // the server's cursor times out instead; the client was already told it ended
        }
        rowLimit.endOnServer(upstream, origin != null ? origin : command.namespace(), last.cursorId());
    }

    /**
     * {@code plan}, its listing's entries kept to what the role's scope names (a listCollections' getMore keeps the
     * plan of the listing that opened its cursor, even where the store declares no PHI).
     */
    private ReplyPlan listing(Command command, Long cursor, ReplyPlan plan) {
        java.util.function.Predicate<String> listed = CommandScope.listed(role, command);
        if (listed != null) {
            return plan.listing(listed);
        }
        ReplyPlan opened = cursor == null ? null : cursors.plan(cursor);
        return opened != null && opened.listed() != null ? opened : plan;
    }

    /** The completion's masking field: the plan's, and that the role's row limit cut the cursor, when it did. */
    private static String summary(ReplyPlan plan, DocumentBudget budget) {
        if (budget == null || !budget.cut()) {
            return plan.summary();
        }
        return plan.summary() == null ? RowLimit.note(budget) : plan.summary() + "; " + RowLimit.note(budget);
    }

    /**
     * Writes one reply as the plan masks it. A reply the masking cannot read is not sent: the client gets an error
     * instead and the connection ends, since the server's state (an open cursor, an exhaust stream) no longer
     * matches what the client was told.
     */
    private void deliver(Frame reply, ReplyPlan plan, DocumentBudget budget, ResponseRecorder recorder)
            throws IOException {
        try {
            RecordedOutput.deliver(reply.bytes(), plan, budget, replies.out(), recorder);
        } catch (ReplyMasker.Unmaskable e) {
            String why = "a reply phigate could not read to mask: " + e.getMessage();
            replies.error(reply.header().responseTo(), MongoError.INTERNAL_ERROR, "phigate could not read the"
                    + " server's reply to mask it, so it was withheld and the connection is closed");
            throw new IOException(why);
        }
    }

    /** A command refused before it went upstream: its request and its end recorded together, the client answered. */
    private void refuse(OpMsg msg, Command command, AuditEvent.StatementRequested requested, MongoError error,
                        String message) throws IOException {
        door.audit.appendUnobserved(List.of(requested, records.completed(requested.statementId(), Outcome.REFUSED,
                error.code(), command, 0, 0, null, "refused: " + message)));
        if (!msg.moreToCome()) {
            replies.error(msg.header().requestId(), error, message);
        }
    }

    private static long micros(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000;
    }

    @Override
    public void close() {
        upstream.close();
    }
}
