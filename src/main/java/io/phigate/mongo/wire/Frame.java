package io.phigate.mongo.wire;

/**
 * One whole message as it crossed the wire, header included: what the gateway forwards raw and what a checksum
 * covers. Carries documents: never printed.
 */
public record Frame(MsgHeader header, byte[] bytes) {
    @Override
    public String toString() {
        return "Frame[opCode=" + header.opCode() + ", requestId=" + header.requestId() + ", bytes=" + bytes.length + "]";
    }
}
