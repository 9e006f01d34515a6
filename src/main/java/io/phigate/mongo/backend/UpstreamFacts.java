package io.phigate.mongo.backend;

import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What the upstream said of itself in its hello, as far as the gateway's own hello to clients repeats it: the wire
 * versions (so a driver sends only what the server speaks), its size limits, and whether it has sessions.
 * {@code logicalSessionTimeoutMinutes} is null when the server has no logical sessions.
 */
public record UpstreamFacts(int minWireVersion, int maxWireVersion, int maxBsonObjectSize, int maxMessageSizeBytes,
                            int maxWriteBatchSize, Integer logicalSessionTimeoutMinutes) {
    /** The server's defaults for limits a hello leaves out. */
    static UpstreamFacts of(BsonDocument hello) {
        return new UpstreamFacts(number(hello, "minWireVersion", 0), number(hello, "maxWireVersion", 0),
                number(hello, "maxBsonObjectSize", 16 * 1024 * 1024),
                number(hello, "maxMessageSizeBytes", 48_000_000),
                number(hello, "maxWriteBatchSize", 100_000),
                hello.containsKey("logicalSessionTimeoutMinutes")
                        ? number(hello, "logicalSessionTimeoutMinutes", 30) : null);
    }

    private static int number(BsonDocument d, String field, int otherwise) {
        BsonValue v = d.get(field);
        return v != null && v.isNumber() ? v.asNumber().intValue() : otherwise;
    }
}
