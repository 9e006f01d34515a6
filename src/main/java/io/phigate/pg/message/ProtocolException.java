package io.phigate.pg.message;

import java.io.IOException;

/**
 * A peer broke the wire protocol: a malformed or oversize frame, an unexpected message. Answered to a client
 * with SQLSTATE 08P01 (protocol_violation) and the connection is closed.
 */
public final class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }
}
