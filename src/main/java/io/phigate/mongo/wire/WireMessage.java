package io.phigate.mongo.wire;

import java.util.List;
import org.bson.RawBsonDocument;

/**
 * The messages of the document store's wire protocol the gateway reads or writes, one record per op code, named as in
 * the server's documentation. Decoded in one place ({@link WireCodec#decode}). Documents stay {@link RawBsonDocument}s
 * over the frame's bytes: nothing is copied or decoded until someone asks. Records holding documents never print them.
 */
public sealed interface WireMessage {
    int OP_REPLY = 1;
    int OP_QUERY = 2004;
    int OP_COMPRESSED = 2012;
    int OP_MSG = 2013;

    MsgHeader header();

    /**
     * OP_MSG: flag bits, exactly one kind-0 body, and any number of kind-1 document sequences (the driver sends an
     * insert's documents or an update's statements as one, beside the body).
     */
    record OpMsg(MsgHeader header, int flagBits, RawBsonDocument body, List<DocumentSequence> sequences)
            implements WireMessage {
        public static final int CHECKSUM_PRESENT = 1;
        public static final int MORE_TO_COME = 1 << 1;
        public static final int EXHAUST_ALLOWED = 1 << 16;
        /** Bits 0-15 must be understood by the receiver; of them only these two are defined. */
        static final int KNOWN_REQUIRED_BITS = CHECKSUM_PRESENT | MORE_TO_COME;

        public OpMsg {
            sequences = List.copyOf(sequences);
        }

        public boolean checksumPresent() {
            return (flagBits & CHECKSUM_PRESENT) != 0;
        }

        /** The sender expects no reply (a request), or another reply follows (a reply). */
        public boolean moreToCome() {
            return (flagBits & MORE_TO_COME) != 0;
        }

        public boolean exhaustAllowed() {
            return (flagBits & EXHAUST_ALLOWED) != 0;
        }

        @Override
        public String toString() {
            return "OpMsg[requestId=" + header.requestId() + ", flags=" + Integer.toHexString(flagBits)
                    + ", bodyBytes=" + body.getByteBuffer().remaining() + ", sequences=" + sequences + "]";
        }
    }

    /** A kind-1 section: documents under one identifier ({@code documents}, {@code updates}, {@code deletes}). */
    record DocumentSequence(String identifier, List<RawBsonDocument> documents) {
        public DocumentSequence {
            documents = List.copyOf(documents);
        }

        @Override
        public String toString() {
            return identifier + "[" + documents.size() + " documents]";
        }
    }

    /**
     * OP_QUERY, which the gateway reads only as the first {@code hello}/{@code isMaster} of a connection (drivers still
     * open with it); any other use is refused, as servers since 5.1 refuse it.
     */
    record OpQuery(MsgHeader header, int flags, String fullCollectionName, int numberToSkip, int numberToReturn,
                   RawBsonDocument query, RawBsonDocument returnFieldsSelector) implements WireMessage {
        @Override
        public String toString() {
            return "OpQuery[requestId=" + header.requestId() + ", collection=" + fullCollectionName + "]";
        }
    }

    /** OP_REPLY, the answer to an OP_QUERY. */
    record OpReply(MsgHeader header, int responseFlags, long cursorId, int startingFrom,
                   List<RawBsonDocument> documents) implements WireMessage {
        public static final int QUERY_FAILURE = 1 << 1;
        public static final int AWAIT_CAPABLE = 1 << 3;

        public OpReply {
            documents = List.copyOf(documents);
        }

        @Override
        public String toString() {
            return "OpReply[responseTo=" + header.responseTo() + ", documents=" + documents.size() + "]";
        }
    }

    /**
     * OP_COMPRESSED. The gateway never offers a compressor in its hello, so a client that sends one broke the
     * negotiation; it is decoded only far enough to say so.
     */
    record OpCompressed(MsgHeader header, int originalOpCode, int uncompressedSize, int compressorId)
            implements WireMessage {
    }

    /** Any other op code (the removed OP_INSERT, OP_GET_MORE, ... or garbage): refused, never forwarded. */
    record Unknown(MsgHeader header) implements WireMessage {
    }
}
