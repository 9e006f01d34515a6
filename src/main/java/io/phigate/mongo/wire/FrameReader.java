package io.phigate.mongo.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Cuts a byte stream into whole messages, separately from decoding them. The length word is checked against the
 * limit before any of the body is read, so a peer cannot make the gateway hold more than {@code maxMessageBytes}
 * by declaring it. Never assumes a read boundary is a message boundary.
 */
public final class FrameReader {
    private final InputStream in;
    private final int maxMessageBytes;
    private final String limitName;

    public FrameReader(InputStream in, int maxMessageBytes) {
        this(in, maxMessageBytes, "maxMessageSizeBytes");
    }

    /** {@code limitName} is how the error names the limit, so a client can tell which one it met. */
    public FrameReader(InputStream in, int maxMessageBytes, String limitName) {
        this.in = in;
        this.maxMessageBytes = maxMessageBytes;
        this.limitName = limitName;
    }

    /**
     * The next whole message, or null at a clean end of stream (between messages). A stream that ends inside a
     * message throws {@link EOFException}; a length below the header's size or above the limit throws a fatal
     * {@link WireException}: nothing after it can be framed.
     */
    public Frame next() throws IOException {
        byte[] head = in.readNBytes(MsgHeader.SIZE);
        if (head.length == 0) {
            return null;
        }
        if (head.length < MsgHeader.SIZE) {
            throw new EOFException("the stream ended inside a message header");
        }
        MsgHeader header = MsgHeader.read(head, 0);
        int length = header.messageLength();
        if (length < MsgHeader.SIZE) {
            throw new WireException(MongoError.FAILED_TO_PARSE, "message length " + length
                    + " is shorter than the header", header.requestId(), true);
        }
        if (length > maxMessageBytes) {
            throw new WireException(MongoError.BSON_OBJECT_TOO_LARGE, "message of " + length
                    + " bytes exceeds " + limitName + " (" + maxMessageBytes + ")", header.requestId(), true);
        }
        byte[] frame = new byte[length];
        System.arraycopy(head, 0, frame, 0, MsgHeader.SIZE);
        int n = in.readNBytes(frame, MsgHeader.SIZE, length - MsgHeader.SIZE);
        if (n < length - MsgHeader.SIZE) {
            throw new EOFException("the stream ended inside a message of " + length + " bytes");
        }
        return new Frame(header, frame);
    }
}
