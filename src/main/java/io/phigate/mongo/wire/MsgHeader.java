package io.phigate.mongo.wire;

/**
 * The 16 bytes every message of the document store's protocol starts with, little-endian. {@code messageLength}
 * counts the header itself; {@code responseTo} names the request a reply answers.
 */
public record MsgHeader(int messageLength, int requestId, int responseTo, int opCode) {
    public static final int SIZE = 16;

    static MsgHeader read(byte[] b, int off) {
        return new MsgHeader(Le.int32(b, off), Le.int32(b, off + 4), Le.int32(b, off + 8), Le.int32(b, off + 12));
    }
}
