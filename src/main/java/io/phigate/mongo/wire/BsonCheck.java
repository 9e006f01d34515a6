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

    private final byte[] bytes;
    private final int offset;
    private final int length;
    private final int requestId;

    private BsonCheck(byte[] bytes, int offset, int length, int requestId) {
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
        this.requestId = requestId;
    }

    static void validate(byte[] bytes, int offset, int length, int requestId) throws WireException {
        try (BsonBinaryReader reader = new BsonBinaryReader(ByteBuffer.wrap(bytes, offset, length).slice())) {
            reader.readStartDocument();
            new BsonCheck(bytes, offset, length, requestId).walkDocument(reader, 1);
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

    private void walkDocument(BsonBinaryReader reader, int depth) throws WireException {
        while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
            reader.skipName();
            walkValue(reader, depth);
        }
        reader.readEndDocument();
    }

    private void walkArray(BsonBinaryReader reader, int depth) throws WireException {
        while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
            walkValue(reader, depth);
        }
        reader.readEndArray();
    }

    private void walkValue(BsonBinaryReader reader, int depth) throws WireException {
        BsonType type = reader.getCurrentBsonType();
        if (type == BsonType.DOCUMENT || type == BsonType.ARRAY) {
            if (depth >= MAX_DEPTH) {
                throw invalid("nesting deeper than " + MAX_DEPTH + " levels", requestId);
            }
            if (type == BsonType.DOCUMENT) {
                reader.readStartDocument();
                walkDocument(reader, depth + 1);
            } else {
                reader.readStartArray();
                walkArray(reader, depth + 1);
            }
        } else if (type == BsonType.JAVASCRIPT_WITH_SCOPE) {
            declaredLengthFits(reader);
            if (depth >= MAX_DEPTH) {
                throw invalid("nesting deeper than " + MAX_DEPTH + " levels", requestId);
            }
            reader.readJavaScriptWithScope();
            reader.readStartDocument();
            walkDocument(reader, depth + 1);
        } else {
            if (type == BsonType.STRING || type == BsonType.JAVASCRIPT || type == BsonType.SYMBOL
                    || type == BsonType.DB_POINTER || type == BsonType.BINARY) {
                declaredLengthFits(reader);
            }
            readScalar(reader, type);
        }
    }

    /**
     * The library allocates a string's or a binary's declared length before it checks the bytes are there, so a
     * 30-byte document could make it allocate 2 GiB: the length is checked against what remains first.
     */
    private void declaredLengthFits(BsonBinaryReader reader) throws WireException {
        int at = reader.getBsonInput().getPosition();
        if (length - at < 4 || Le.int32(bytes, offset + at) < 0 || Le.int32(bytes, offset + at) > length - at - 4) {
            throw invalid("a value's length runs past the document's end", requestId);
        }
    }

    /**
     * Reads a value rather than skipping it wherever skipping would trust a length: skipping a string does not check
     * its terminating NUL, and a reader later would throw on it.
     */
    private static void readScalar(BsonBinaryReader reader, BsonType type) {
        switch (type) {
            case BOOLEAN -> reader.readBoolean();
            case STRING -> reader.readString();
            case JAVASCRIPT -> reader.readJavaScript();
            case SYMBOL -> reader.readSymbol();
            case DB_POINTER -> reader.readDBPointer();
            case BINARY -> reader.readBinaryData();
            case REGULAR_EXPRESSION -> reader.readRegularExpression();
            default -> reader.skipValue();
        }
    }

    private static WireException invalid(String why, int requestId) {
        return new WireException(MongoError.INVALID_BSON, "invalid BSON: " + why, requestId, false);
    }
}
