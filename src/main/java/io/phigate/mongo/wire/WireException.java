package io.phigate.mongo.wire;

import java.io.IOException;

/**
 * Input the gateway will not take: a frame too large, malformed, with a wrong checksum, of a kind it does not
 * speak. {@code requestId} is the offending request's id when the header was read (so that the error reply answers
 * it), else 0; {@code fatal} means the byte stream can no longer be trusted, so the connection closes after the
 * reply.
 */
public final class WireException extends IOException {
    private final transient MongoError error;
    private final int requestId;
    private final boolean fatal;

    public WireException(MongoError error, String message, int requestId, boolean fatal) {
        super(message);
        this.error = error;
        this.requestId = requestId;
        this.fatal = fatal;
    }

    public MongoError error() {
        return error;
    }

    public int requestId() {
        return requestId;
    }

    public boolean fatal() {
        return fatal;
    }
}
