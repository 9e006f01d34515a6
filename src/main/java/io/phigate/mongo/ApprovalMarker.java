package io.phigate.mongo;

import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.bson.BsonBinaryReader;
import org.bson.BsonType;
import org.bson.RawBsonDocument;

/**
 * How a command names the approval it redeems, in its {@code comment} (decisions 0052, 0059), and the command once
 * the marker is cut out: what is judged, recorded, digested and forwarded. Two forms:
 * <ul>
 * <li>{@code comment: "phigate-approval:ID"}: the command had no comment; the field is cut out.</li>
 * <li>{@code comment: {"phigate-approval": "ID", comment: VALUE}}: the command had its own comment {@code VALUE}
 * (any BSON value, as drivers allow); the field keeps its place and takes {@code VALUE}'s type and bytes, so the
 * store receives the command exactly as it was held, comment included. Without its {@code comment} field the
 * document form is the string form.</li>
 * </ul>
 * Anything else (another shape, another field in the document, a field in it twice, a marker below the top level) is
 * an ordinary comment: it names nothing and is forwarded as sent. The rewrite works on the bytes, so every other
 * field keeps its order, type and any repeat, and the approval's digest (over the bytes the store will receive)
 * matches only the command that was held. Pure.
 */
final class ApprovalMarker {
    /** How a command names its approval: this prefix and the request's id, as the command's {@code comment}. */
    static final String PREFIX = "phigate-approval:";
    /** The document form's field naming the approval. */
    static final String FIELD = "phigate-approval";
    private static final String COMMENT = "comment";

    /** The approval {@code id} a command names, and its body with the marker cut out. */
    record Named(String id, RawBsonDocument body) {
        /** {@code msg} with this body: re-encoded, so a checksum over the old bytes is dropped. */
        OpMsg applyTo(OpMsg msg) {
            return new OpMsg(msg.header(), msg.flagBits() & ~OpMsg.CHECKSUM_PRESENT, body, msg.sequences());
        }
    }

    private ApprovalMarker() {
    }

    /** The approval {@code body} names at its top level, or null when it names none. */
    static Named in(RawBsonDocument body) {
        org.bson.BsonValue comment = body.get(COMMENT);
        if (!(comment != null && (comment.isDocument() || comment.isString()
                && comment.asString().getValue().startsWith(PREFIX)))) {
            return null; // most commands: no copy of the body is made
        }
        byte[] in = bytes(body);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
        out.writeBytes(new byte[4]);
        String id = null;
        try (BsonBinaryReader reader = new BsonBinaryReader(ByteBuffer.wrap(in))) {
            reader.readStartDocument();
            while (true) {
                int start = reader.getBsonInput().getPosition();
                BsonType type = reader.readBsonType();
                if (type == BsonType.END_OF_DOCUMENT) {
                    break;
                }
                String name = reader.readName();
                int valueStart = reader.getBsonInput().getPosition();
                Marker marker = null;
                if (id == null && name.equals(COMMENT) && type == BsonType.STRING) {
                    String s = reader.readString();
                    marker = s.startsWith(PREFIX) ? new Marker(s.substring(PREFIX.length()).strip(), null, 0, 0) : null;
                } else {
                    reader.skipValue();
                }
                int end = reader.getBsonInput().getPosition();
                if (id == null && name.equals(COMMENT) && type == BsonType.DOCUMENT) {
                    marker = inDocument(in, valueStart, end);
                }
                if (marker == null) {
                    out.write(in, start, end - start);
                    continue;
                }
                id = marker.id();
                if (marker.keptType() != null) {
                    out.write(marker.keptType().getValue());
                    out.writeBytes((COMMENT + "\0").getBytes(StandardCharsets.UTF_8));
                    out.write(in, marker.keptStart(), marker.keptEnd() - marker.keptStart());
                }
            }
        }
        if (id == null) {
            return null;
        }
        out.write(0);
        byte[] copy = out.toByteArray();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(0, copy.length);
        return new Named(id, new RawBsonDocument(copy));
    }

    /**
     * A comment's value read as a marker: the id, and where in {@code in} the comment it carries lies (type null:
     * none); null when the value is no marker.
     */
    private record Marker(String id, BsonType keptType, int keptStart, int keptEnd) {
    }

    /** {@code {"phigate-approval": ID, comment: VALUE}} (the comment optional) at {@code in[start, end)}. */
    private static Marker inDocument(byte[] in, int start, int end) {
        String id = null;
        Marker kept = null;
        try (BsonBinaryReader reader = new BsonBinaryReader(ByteBuffer.wrap(in, start, end - start).slice())) {
            reader.readStartDocument();
            while (true) {
                BsonType t = reader.readBsonType();
                if (t == BsonType.END_OF_DOCUMENT) {
                    break;
                }
                String name = reader.readName();
                int valueStart = start + reader.getBsonInput().getPosition();
                if (name.equals(FIELD) && id == null && t == BsonType.STRING) {
                    id = reader.readString().strip();
                } else if (name.equals(COMMENT) && kept == null) {
                    reader.skipValue();
                    kept = new Marker(null, t, valueStart, start + reader.getBsonInput().getPosition());
                } else {
                    return null; // another field, or one twice: an ordinary comment
                }
            }
        }
        if (id == null || id.isEmpty()) {
            return null;
        }
        return kept == null ? new Marker(id, null, 0, 0) : new Marker(id, kept.keptType(), kept.keptStart(),
                kept.keptEnd());
    }

    private static byte[] bytes(RawBsonDocument d) {
        ByteBuffer b = d.getByteBuffer().asNIO();
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        return copy;
    }
}
