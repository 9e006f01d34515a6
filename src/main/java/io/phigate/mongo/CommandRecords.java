package io.phigate.mongo;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.identity.Identity;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.bson.BsonBinaryReader;
import org.bson.BsonDocument;
import org.bson.BsonType;
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
     * retried later, on another connection, has the same digest. The parameters are {@code requested}'s. Relaxed
     * JSON is for the approver's eyes and is not one-to-one (an int32 and an int64 print alike, and so do a date and
     * a document holding a {@code $date} string), so the text ends with a SHA-256 of the exact bytes it was read
     * from: the body less those fields, then each sequence's name and documents. Nothing is decoded into a map on
     * the way, so a repeated field name is neither hidden from the approver nor collapsed out of the digest.
     */
    static String approvalText(OpMsg msg) {
        RawBsonDocument kept = without(msg.body(), PER_SEND);
        StringBuilder text = text(kept, msg.sequences(), new ArrayList<>());
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        sha.update(bytes(kept));
        for (DocumentSequence s : msg.sequences()) {
            sha.update((s.identifier() + "\0").getBytes(StandardCharsets.UTF_8));
            for (RawBsonDocument d : s.documents()) {
                sha.update(bytes(d));
            }
        }
        return text.append("\n-- phigate: BSON sha-256 ").append(HexFormat.of().formatHex(sha.digest())).toString();
    }

    /**
     * A copy of {@code body} without the top-level fields {@code left} names, cut out of its bytes: the others keep
     * their order, their types and any repeat, as the client sent them.
     */
    static RawBsonDocument without(RawBsonDocument body, Set<String> left) {
        byte[] in = bytes(body);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
        out.writeBytes(new byte[4]);
        try (BsonBinaryReader reader = new BsonBinaryReader(ByteBuffer.wrap(in))) {
            reader.readStartDocument();
            while (true) {
                int start = reader.getBsonInput().getPosition();
                if (reader.readBsonType() == BsonType.END_OF_DOCUMENT) {
                    break;
                }
                String name = reader.readName();
                reader.skipValue();
                if (!left.contains(name)) {
                    out.write(in, start, reader.getBsonInput().getPosition() - start);
                }
            }
        }
        out.write(0);
        byte[] copy = out.toByteArray();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(0, copy.length);
        return new RawBsonDocument(copy);
    }

    private static byte[] bytes(RawBsonDocument d) {
        ByteBuffer b = d.getByteBuffer().asNIO();
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
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
