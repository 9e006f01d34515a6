package io.phigate.mongo.wire;

import java.nio.ByteBuffer;
import org.bson.BsonBinaryReader;
import org.bson.BsonType;

/**
 * Checks that bytes are one well-formed BSON document before anything reads values out of it: lengths agree at every
 * level, every element type is known, nesting is at most {@link #MAX_DEPTH} deep (the server's own limit), and the
 * document ends where its length says. Reads without building anything.
 */
final class BsonCheck {
    /** The server's default {@code maxBSONDepth}. */
    static final int MAX_DEPTH = 200;

    private BsonCheck() {
    }

    static void validate(byte[] bytes, int offset, int length, int requestId) throws WireException {
        try (BsonBinaryReader reader = new BsonBinaryReader(ByteBuffer.wrap(bytes, offset, length).slice())) {
            reader.readStartDocument();
            walkDocument(reader, 1, requestId);
            if (reader.getBsonInput().getPosition() != length) {
                throw invalid("the document ends before its declared length", requestId);
            }
        } catch (WireException e) {
            throw e;
        } catch (RuntimeException e) {
            // The library's reader throws BSONException and its subclasses on malformed input, but a bad length can
            // surface as an IndexOutOfBounds or IllegalArgument from the buffer below it: all mean "malformed".
            throw invalid(e.getClass().getSimpleName() + ": " + e.getMessage(), requestId);
        }
    }

    private static void walkDocument(BsonBinaryReader reader, int depth, int requestId) throws WireException {
        while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
            reader.skipName();
            walkValue(reader, depth, requestId);
        }
        reader.readEndDocument();
    }

    private static void walkArray(BsonBinaryReader reader, int depth, int requestId) throws WireException {
        while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
            walkValue(reader, depth, requestId);
        }
        reader.readEndArray();
    }

    private static void walkValue(BsonBinaryReader reader, int depth, int requestId) throws WireException {
        BsonType type = reader.getCurrentBsonType();
        if (type == BsonType.DOCUMENT || type == BsonType.ARRAY) {
            if (depth >= MAX_DEPTH) {
                throw invalid("nesting deeper than " + MAX_DEPTH + " levels", requestId);
            }
            if (type == BsonType.DOCUMENT) {
                reader.readStartDocument();
                walkDocument(reader, depth + 1, requestId);
            } else {
                reader.readStartArray();
                walkArray(reader, depth + 1, requestId);
            }
        } else {
            reader.skipValue();
        }
    }

    private static WireException invalid(String why, int requestId) {
        return new WireException(MongoError.INVALID_BSON, "invalid BSON: " + why, requestId, false);
    }
}
