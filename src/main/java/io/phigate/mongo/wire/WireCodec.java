package io.phigate.mongo.wire;

import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpCompressed;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.mongo.wire.WireMessage.OpQuery;
import io.phigate.mongo.wire.WireMessage.OpReply;
import io.phigate.mongo.wire.WireMessage.Unknown;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * Decodes a whole frame into its {@link WireMessage} with one switch on the op code, and encodes the messages the
 * gateway writes. Every length is checked against the frame before it is followed, so any bytes give a message or a
 * {@link WireException}, never another exception. Documents are checked well-formed ({@link BsonCheck}) here, once,
 * so code above can read them without guarding.
 */
public final class WireCodec {
    private static final BsonDocumentCodec DOCUMENTS = new BsonDocumentCodec();

    private WireCodec() {
    }

    public static WireMessage decode(Frame frame) throws WireException {
        byte[] b = frame.bytes();
        MsgHeader h = frame.header();
        return switch (h.opCode()) {
            case WireMessage.OP_MSG -> decodeMsg(h, b);
            case WireMessage.OP_QUERY -> decodeQuery(h, b);
            case WireMessage.OP_REPLY -> decodeReply(h, b);
            case WireMessage.OP_COMPRESSED -> {
                need(h, b, MsgHeader.SIZE, 9);
                yield new OpCompressed(h, Le.int32(b, 16), Le.int32(b, 20), b[24] & 0xFF);
            }
            default -> new Unknown(h);
        };
    }

    private static OpMsg decodeMsg(MsgHeader h, byte[] b) throws WireException {
        need(h, b, MsgHeader.SIZE, 4);
        int flags = Le.int32(b, MsgHeader.SIZE);
        int unknownRequired = flags & 0xFFFF & ~OpMsg.KNOWN_REQUIRED_BITS;
        if (unknownRequired != 0) {
            throw malformed(h, "unknown required OP_MSG flag bits 0x" + Integer.toHexString(unknownRequired));
        }
        int end = b.length;
        if ((flags & OpMsg.CHECKSUM_PRESENT) != 0) {
            need(h, b, MsgHeader.SIZE + 4, 4);
            end -= 4;
            CRC32C crc = new CRC32C();
            crc.update(b, 0, end);
            if ((int) crc.getValue() != Le.int32(b, end)) {
                throw new WireException(MongoError.CHECKSUM_MISMATCH, "OP_MSG checksum does not match its bytes",
                        h.requestId(), true);
            }
        }
        RawBsonDocument body = null;
        List<DocumentSequence> sequences = new ArrayList<>();
        int pos = MsgHeader.SIZE + 4;
        while (pos < end) {
            int kind = b[pos++];
            if (kind == 0) {
                if (body != null) {
                    throw malformed(h, "OP_MSG has more than one body section");
                }
                body = document(h, b, pos, end);
                pos += Le.int32(b, pos);
            } else if (kind == 1) {
                need(h, b, pos, 4);
                int size = Le.int32(b, pos);
                if (size < 5 || size > end - pos) {
                    throw malformed(h, "document sequence of " + size + " bytes does not fit the message");
                }
                int sectionEnd = pos + size;
                int nul = cstringEnd(h, b, pos + 4, sectionEnd);
                String identifier = new String(b, pos + 4, nul - pos - 4, StandardCharsets.UTF_8);
                List<RawBsonDocument> docs = new ArrayList<>();
                int p = nul + 1;
                while (p < sectionEnd) {
                    docs.add(document(h, b, p, sectionEnd));
                    p += Le.int32(b, p);
                }
                sequences.add(new DocumentSequence(identifier, docs));
                pos = sectionEnd;
            } else {
                throw malformed(h, "unknown OP_MSG section kind " + kind);
            }
        }
        if (body == null) {
            throw malformed(h, "OP_MSG has no body section");
        }
        return new OpMsg(h, flags, body, sequences);
    }

    private static OpQuery decodeQuery(MsgHeader h, byte[] b) throws WireException {
        need(h, b, MsgHeader.SIZE, 4);
        int flags = Le.int32(b, MsgHeader.SIZE);
        int nul = cstringEnd(h, b, MsgHeader.SIZE + 4, b.length);
        String collection = new String(b, MsgHeader.SIZE + 4, nul - MsgHeader.SIZE - 4, StandardCharsets.UTF_8);
        int pos = nul + 1;
        need(h, b, pos, 8);
        int skip = Le.int32(b, pos);
        int limit = Le.int32(b, pos + 4);
        pos += 8;
        RawBsonDocument query = document(h, b, pos, b.length);
        pos += Le.int32(b, pos);
        RawBsonDocument selector = null;
        if (pos < b.length) {
            selector = document(h, b, pos, b.length);
            pos += Le.int32(b, pos);
        }
        if (pos != b.length) {
            throw malformed(h, "OP_QUERY has bytes after its documents");
        }
        return new OpQuery(h, flags, collection, skip, limit, query, selector);
    }

    private static OpReply decodeReply(MsgHeader h, byte[] b) throws WireException {
        need(h, b, MsgHeader.SIZE, 20);
        int flags = Le.int32(b, 16);
        long cursorId = Le.int64(b, 20);
        int startingFrom = Le.int32(b, 28);
        int numberReturned = Le.int32(b, 32);
        List<RawBsonDocument> docs = new ArrayList<>();
        int pos = 36;
        while (pos < b.length) {
            docs.add(document(h, b, pos, b.length));
            pos += Le.int32(b, pos);
        }
        if (docs.size() != numberReturned) {
            throw malformed(h, "OP_REPLY says " + numberReturned + " documents and holds " + docs.size());
        }
        return new OpReply(h, flags, cursorId, startingFrom, docs);
    }

    private static RawBsonDocument document(MsgHeader h, byte[] b, int off, int limit) throws WireException {
        need(h, b, off, 4);
        int len = Le.int32(b, off);
        if (len < 5 || len > limit - off) {
            throw malformed(h, "document of " + len + " bytes does not fit its section");
        }
        BsonCheck.validate(b, off, len, h.requestId());
        return new RawBsonDocument(b, off, len);
    }

    private static int cstringEnd(MsgHeader h, byte[] b, int from, int limit) throws WireException {
        for (int i = from; i < limit; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        throw malformed(h, "unterminated string");
    }

    private static void need(MsgHeader h, byte[] b, int off, int n) throws WireException {
        if (off < 0 || n > b.length - off) {
            throw malformed(h, "message ends before its fields do");
        }
    }

    private static WireException malformed(MsgHeader h, String why) {
        return new WireException(MongoError.FAILED_TO_PARSE, why, h.requestId(), false);
    }

    // ---- encoding ----

    /** An OP_MSG with {@code body} and no sequences, as the gateway answers commands it handles itself. */
    public static byte[] reply(int requestId, int responseTo, BsonDocument body) {
        MsgHeader h = new MsgHeader(0, requestId, responseTo, WireMessage.OP_MSG);
        return encode(new OpMsg(h, 0, raw(body), List.of()));
    }

    /** An OP_REPLY holding one document, the answer to the OP_QUERY handshake. */
    public static byte[] opReply(int requestId, int responseTo, BsonDocument document, boolean failure) {
        MsgHeader h = new MsgHeader(0, requestId, responseTo, WireMessage.OP_REPLY);
        return encode(new OpReply(h, failure ? OpReply.QUERY_FAILURE : OpReply.AWAIT_CAPABLE, 0, 0,
                List.of(raw(document))));
    }

    public static RawBsonDocument raw(BsonDocument d) {
        return d instanceof RawBsonDocument r ? r : new RawBsonDocument(d, DOCUMENTS);
    }

    /** Encodes {@code m}; the header's length is computed, and a checksum appended when its flags ask for one. */
    public static byte[] encode(OpMsg m) {
        int length = MsgHeader.SIZE + 4 + 1 + size(m.body());
        for (DocumentSequence s : m.sequences()) {
            length += 1 + 4 + s.identifier().getBytes(StandardCharsets.UTF_8).length + 1;
            for (RawBsonDocument d : s.documents()) {
                length += size(d);
            }
        }
        if (m.checksumPresent()) {
            length += 4;
        }
        ByteBuffer out = start(length, m.header(), WireMessage.OP_MSG);
        out.putInt(m.flagBits());
        out.put((byte) 0);
        put(out, m.body());
        for (DocumentSequence s : m.sequences()) {
            out.put((byte) 1);
            int sizeAt = out.position();
            out.putInt(0);
            out.put(s.identifier().getBytes(StandardCharsets.UTF_8)).put((byte) 0);
            for (RawBsonDocument d : s.documents()) {
                put(out, d);
            }
            out.putInt(sizeAt, out.position() - sizeAt);
        }
        if (m.checksumPresent()) {
            CRC32C crc = new CRC32C();
            crc.update(out.array(), 0, out.position());
            out.putInt((int) crc.getValue());
        }
        return out.array();
    }

    public static byte[] encode(OpQuery q) {
        byte[] name = q.fullCollectionName().getBytes(StandardCharsets.UTF_8);
        int length = MsgHeader.SIZE + 4 + name.length + 1 + 8 + size(q.query())
                + (q.returnFieldsSelector() == null ? 0 : size(q.returnFieldsSelector()));
        ByteBuffer out = start(length, q.header(), WireMessage.OP_QUERY);
        out.putInt(q.flags()).put(name).put((byte) 0).putInt(q.numberToSkip()).putInt(q.numberToReturn());
        put(out, q.query());
        if (q.returnFieldsSelector() != null) {
            put(out, q.returnFieldsSelector());
        }
        return out.array();
    }

    public static byte[] encode(OpReply r) {
        int length = MsgHeader.SIZE + 20;
        for (RawBsonDocument d : r.documents()) {
            length += size(d);
        }
        ByteBuffer out = start(length, r.header(), WireMessage.OP_REPLY);
        out.putInt(r.responseFlags()).putLong(r.cursorId()).putInt(r.startingFrom()).putInt(r.documents().size());
        for (RawBsonDocument d : r.documents()) {
            put(out, d);
        }
        return out.array();
    }

    private static ByteBuffer start(int length, MsgHeader h, int opCode) {
        ByteBuffer out = ByteBuffer.allocate(length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return out.putInt(length).putInt(h.requestId()).putInt(h.responseTo()).putInt(opCode);
    }

    static int size(RawBsonDocument d) {
        return d.getByteBuffer().remaining();
    }

    private static void put(ByteBuffer out, RawBsonDocument d) {
        out.put(d.getByteBuffer().asNIO());
    }
}
