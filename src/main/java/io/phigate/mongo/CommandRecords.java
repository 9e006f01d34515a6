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
        StringBuilder text = new StringBuilder(msg.body().toJson(JSON));
        List<String> parameters = new ArrayList<>();
        for (DocumentSequence s : msg.sequences()) {
            text.append("\n-- phigate: ").append(s.identifier()).append(": parameters ").append(parameters.size() + 1)
                    .append(" to ").append(parameters.size() + s.documents().size());
            for (RawBsonDocument d : s.documents()) {
                parameters.add(d.toJson(JSON));
            }
        }
        if (cursorOrigin != null) {
            text.append("\n-- phigate: cursor of ").append(cursorOrigin);
        }
        return new AuditEvent.StatementRequested(Instant.now(), sessionId, statementId, clientAddress, upstream,
                identity.issuer(), identity.subject(), Protocol.OP_MSG, text.toString(), parameters, null, null, null,
                List.of(cursorOrigin != null ? cursorOrigin : command.namespace()),
                phiFields == null || phiFields.isEmpty() ? null : phiFields);
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
