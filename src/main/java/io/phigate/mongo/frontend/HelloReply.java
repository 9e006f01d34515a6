package io.phigate.mongo.frontend;

import io.phigate.mongo.backend.UpstreamFacts;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;

/**
 * The gateway's own answer to {@code hello}/{@code isMaster}, before and after authentication. It presents a
 * standalone server with the upstream's wire versions and the smaller of the two sides' size limits, and leaves out
 * what the gateway does not offer: no {@code compression} (so no driver ever sends OP_COMPRESSED), no
 * {@code speculativeAuthenticate} (authentication is a separate round trip the gateway sees), no
 * {@code topologyVersion} (so monitors poll instead of holding an exhaust stream), and as mechanism only PLAIN.
 */
public final class HelloReply {
    /** The command names the gateway answers itself, as the server spells them. */
    public static final Set<String> COMMANDS = Set.of("hello", "isMaster", "ismaster");

    private HelloReply() {
    }

    public static BsonDocument answer(BsonDocument request, UpstreamFacts upstream, int maxMessageBytes,
                                      long connectionId) {
        String name = request.getFirstKey();
        BsonDocument reply = new BsonDocument();
        if (request.containsKey("helloOk")) {
            reply.append("helloOk", BsonBoolean.TRUE);
        }
        reply.append(name.equals("hello") ? "isWritablePrimary" : "ismaster", BsonBoolean.TRUE)
                .append("maxBsonObjectSize", new BsonInt32(upstream.maxBsonObjectSize()))
                .append("maxMessageSizeBytes", new BsonInt32(Math.min(maxMessageBytes, upstream.maxMessageSizeBytes())))
                .append("maxWriteBatchSize", new BsonInt32(upstream.maxWriteBatchSize()))
                .append("localTime", new BsonDateTime(System.currentTimeMillis()));
        if (upstream.logicalSessionTimeoutMinutes() != null) {
            reply.append("logicalSessionTimeoutMinutes", new BsonInt32(upstream.logicalSessionTimeoutMinutes()));
        }
        reply.append("connectionId", new BsonInt64(connectionId))
                .append("minWireVersion", new BsonInt32(upstream.minWireVersion()))
                .append("maxWireVersion", new BsonInt32(upstream.maxWireVersion()))
                .append("readOnly", BsonBoolean.FALSE);
        if (request.containsKey("saslSupportedMechs")) {
            reply.append("saslSupportedMechs", new BsonArray(java.util.List.of(new BsonString("PLAIN"))));
        }
        return reply.append("ok", new BsonDouble(1));
    }
}
