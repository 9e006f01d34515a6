package io.phigate.mongo.backend;

import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.WireMessage;
import java.nio.ByteBuffer;
import org.bson.BsonBinaryReader;
import org.bson.BsonType;

/**
 * What the audit and the cursor bookkeeping need of one upstream reply, read straight off the frame's bytes without
 * building a document: success, the error code, how many documents it returns, the cursor it leaves open.
 *
 * @param ok          {@code ok: 1} and no write errors
 * @param code        the error's code (or the first write error's), null when none was given
 * @param documents   the cursor batch's length; 1 for findAndModify's {@code value}; else a write's {@code n}
 * @param cursorId    {@code cursor.id}, 0 when none (or exhausted)
 * @param moreToCome  another reply to the same request follows (exhaust)
 */
public record ReplyFacts(boolean ok, Integer code, long documents, long cursorId, boolean moreToCome) {
    private static final ReplyFacts UNREADABLE = new ReplyFacts(false, null, 0, 0, false);

    public static ReplyFacts read(Frame frame) {
        byte[] b = frame.bytes();
        if (frame.header().opCode() != WireMessage.OP_MSG || b.length < 26 || b[20] != 0) {
            return UNREADABLE;
        }
        int flags = (b[16] & 0xFF) | (b[17] & 0xFF) << 8;
        boolean moreToCome = (flags & WireMessage.OpMsg.MORE_TO_COME) != 0;
        int length = ByteBuffer.wrap(b, 21, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        if (length < 5 || length > b.length - 21) {
            return UNREADABLE;
        }
        try (BsonBinaryReader r = new BsonBinaryReader(ByteBuffer.wrap(b, 21, length).slice())) {
            return read(r, moreToCome);
        } catch (RuntimeException e) {
            // The client receives the reply as the server sent it; the record can only say it could not be read.
            return new ReplyFacts(false, null, 0, 0, moreToCome);
        }
    }

    private static ReplyFacts read(BsonBinaryReader r, boolean moreToCome) {
        boolean ok = false;
        boolean writeErrors = false;
        Integer code = null;
        long documents = 0;
        long n = 0;
        long cursorId = 0;
        r.readStartDocument();
        while (r.readBsonType() != BsonType.END_OF_DOCUMENT) {
            String name = r.readName();
            BsonType type = r.getCurrentBsonType();
            switch (name) {
                case "ok" -> ok = number(r, type) == 1;
                case "code" -> code = (int) number(r, type);
                case "n" -> n = number(r, type);
                case "value" -> {
                    documents = type == BsonType.NULL ? 0 : 1;
                    r.skipValue();
                }
                case "cursor" -> {
                    if (type != BsonType.DOCUMENT) {
                        r.skipValue();
                        break;
                    }
                    r.readStartDocument();
                    while (r.readBsonType() != BsonType.END_OF_DOCUMENT) {
                        String field = r.readName();
                        if (field.equals("id") && r.getCurrentBsonType() == BsonType.INT64) {
                            cursorId = r.readInt64();
                        } else if ((field.equals("firstBatch") || field.equals("nextBatch"))
                                && r.getCurrentBsonType() == BsonType.ARRAY) {
                            documents = count(r);
                        } else {
                            r.skipValue();
                        }
                    }
                    r.readEndDocument();
                }
                case "writeErrors", "writeConcernError" -> {
                    writeErrors = true;
                    if (code == null) {
                        code = firstCode(r, type);
                    } else {
                        r.skipValue();
                    }
                }
                default -> r.skipValue();
            }
        }
        boolean cursor = cursorId != 0 || documents > 0;
        return new ReplyFacts(ok && !writeErrors, code, cursor || documents > 0 ? documents : n, cursorId,
                moreToCome);
    }

    private static long count(BsonBinaryReader r) {
        long count = 0;
        r.readStartArray();
        while (r.readBsonType() != BsonType.END_OF_DOCUMENT) {
            r.skipValue();
            count++;
        }
        r.readEndArray();
        return count;
    }

    /** The {@code code} of a write error: the first array element's, or the document's own. */
    private static Integer firstCode(BsonBinaryReader r, BsonType type) {
        Integer code = null;
        if (type == BsonType.ARRAY) {
            r.readStartArray();
            while (r.readBsonType() != BsonType.END_OF_DOCUMENT) {
                if (code == null && r.getCurrentBsonType() == BsonType.DOCUMENT) {
                    code = codeIn(r);
                } else {
                    r.skipValue();
                }
            }
            r.readEndArray();
        } else if (type == BsonType.DOCUMENT) {
            code = codeIn(r);
        } else {
            r.skipValue();
        }
        return code;
    }

    private static Integer codeIn(BsonBinaryReader r) {
        Integer code = null;
        r.readStartDocument();
        while (r.readBsonType() != BsonType.END_OF_DOCUMENT) {
            if (r.readName().equals("code")) {
                code = (int) number(r, r.getCurrentBsonType());
            } else {
                r.skipValue();
            }
        }
        r.readEndDocument();
        return code;
    }

    private static long number(BsonBinaryReader r, BsonType type) {
        return switch (type) {
            case INT32 -> r.readInt32();
            case INT64 -> r.readInt64();
            case DOUBLE -> (long) r.readDouble();
            default -> {
                r.skipValue();
                yield Long.MIN_VALUE;
            }
        };
    }
}
