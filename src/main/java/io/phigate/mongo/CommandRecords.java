package io.phigate.mongo;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.identity.Identity;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * The audit records of one session's commands, in the store's protocol-neutral shapes. The command's body is kept
 * as relaxed extended JSON (what mongosh prints, so an auditor reads it as the agent wrote it) and each document of a
 * kind-1 sequence as one parameter, as the PostgreSQL side keeps Bind values; the namespace goes where a
 * statement's tables go, so a search by collection finds it.
 */
final class CommandRecords {
    private static final JsonWriterSettings JSON = JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();
    /** Fields a driver sets per send rather than per command: an approval's digest leaves them out. */
    private static final Set<String> PER_SEND = Set.of("lsid", "$clusterTime", "txnNumber");

    private final String sessionId;
    private final String clientAddress;
    private final String upstream;
    private final Identity identity;

    CommandRecords(String sessionId, String clientAddress, String upstream, Identity identity) {
        this.sessionId = sessionId;
        this.clientAddress = clientAddress;
        this.upstream = upstream;
        this.identity = identity;
    }

    /** {@code phiFields}: the PHI fields it reads ({@code db.coll.path} to type), kept as a statement's columns. */
    AuditEvent.StatementRequested requested(long statementId, OpMsg msg, Command command, String cursorOrigin,
                                            java.util.Map<String, String> phiFields) {
        List<String> parameters = new ArrayList<>();
        StringBuilder text = text(msg.body(), msg.sequences(), parameters);
        if (cursorOrigin != null) {
            text.append("\n-- phigate: cursor of ").append(cursorOrigin);
        }
        return new AuditEvent.StatementRequested(Instant.now(), sessionId, statementId, clientAddress, upstream,
                identity.issuer(), identity.subject(), Protocol.OP_MSG, text.toString(), parameters, null, null, null,
                List.of(cursorOrigin != null ? cursorOrigin : command.namespace()),
                phiFields == null || phiFields.isEmpty() ? null : phiFields);
    }

    /**
     * What an approval is granted for: the command as recorded, less the fields a driver sets afresh on every send
     * (its session id, the cluster time it gossips, a retryable write's number), so that the identical command
     * retried later, on another connection, has the same digest. The parameters are {@code requested}'s.
     */
    static String approvalText(OpMsg msg) {
        return text(without(msg.body(), PER_SEND), msg.sequences(), new ArrayList<>()).toString();
    }

    /** A copy of {@code body} without the fields {@code left} names, in the order the others came. */
    static BsonDocument without(BsonDocument body, Set<String> left) {
        BsonDocument copy = new BsonDocument();
        for (var field : body.entrySet()) {
            if (!left.contains(field.getKey())) {
                copy.append(field.getKey(), field.getValue());
            }
        }
        return copy;
    }

    /** The body as relaxed JSON and a line per kind-1 sequence; the sequences' documents go to {@code parameters}. */
    private static StringBuilder text(BsonDocument body, List<DocumentSequence> sequences, List<String> parameters) {
        StringBuilder text = new StringBuilder(body.toJson(JSON));
        for (DocumentSequence s : sequences) {
            text.append("\n-- phigate: ").append(s.identifier()).append(": parameters ").append(parameters.size() + 1)
                    .append(" to ").append(parameters.size() + s.documents().size());
            for (RawBsonDocument d : s.documents()) {
                parameters.add(d.toJson(JSON));
            }
        }
        return text;
    }

    AuditEvent.StatementCompleted completed(long statementId, Outcome outcome, Integer code, Command command,
                                            long documents, long durationMicros, AuditEvent.RecordedResponse reply) {
        return completed(statementId, outcome, code, command, documents, durationMicros, reply, null);
    }

    /**
     * {@code masking}: the masked fields as {@code path(type)=operator, ...}, or {@code refused: why}; what the
     * PostgreSQL side's completion keeps, so that {@code audit.MaskingSummary} reads both.
     */
    AuditEvent.StatementCompleted completed(long statementId, Outcome outcome, Integer code, Command command,
                                            long documents, long durationMicros, AuditEvent.RecordedResponse reply,
                                            String masking) {
        return new AuditEvent.StatementCompleted(Instant.now(), sessionId, statementId, outcome,
                code == null ? null : String.valueOf(code), command.name(), documents, durationMicros, reply,
                masking);
    }
}
