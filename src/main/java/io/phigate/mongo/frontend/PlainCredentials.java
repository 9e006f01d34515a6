package io.phigate.mongo.frontend;

import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.wire.MongoError;
import java.nio.charset.StandardCharsets;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * A SASL PLAIN initial response (RFC 4616: {@code [authzid] NUL authcid NUL passwd}) taken from a {@code saslStart}.
 * The password is the agent's token (or a one-time credential, by the user name); the user name is the connection
 * string's, kept as evidence, as the PostgreSQL user name is. Never printed.
 */
public record PlainCredentials(String user, String token) {
    /** As PostgreSQL's password message: a token longer than this is not one. */
    static final int MAX_PAYLOAD = 16 * 1024;
    /** PLAIN's credentials live outside the server's own users, in the database of that name. */
    public static final String EXTERNAL = "$external";

    /** Reads a {@code saslStart} addressed to {@code database}; refuses any other mechanism or shape. */
    public static PlainCredentials read(BsonDocument saslStart, String database) throws CommandException {
        BsonValue mechanism = saslStart.get("mechanism");
        if (mechanism == null || !mechanism.isString() || !mechanism.asString().getValue().equals("PLAIN")) {
            // mongod's words for a mechanism it does not offer, then why: SCRAM proves a password the server
            // already holds a key for, and a token is new each time (decision 0052).
            String named = mechanism != null && mechanism.isString() ? mechanism.asString().getValue() : "(none)";
            throw new CommandException(MongoError.MECHANISM_UNAVAILABLE, "Received authentication for mechanism "
                    + named + " which is unknown or not enabled: phigate accepts PLAIN only, with the agent's token"
                    + " as the password (authMechanism=PLAIN&authSource=$external); SCRAM cannot carry a token");
        }
        if (!EXTERNAL.equals(database)) {
            throw new CommandException(MongoError.AUTHENTICATION_FAILED, "PLAIN authenticates against $external,"
                    + " not " + database + " (authSource=$external)");
        }
        BsonValue payload = saslStart.get("payload");
        if (payload == null || !payload.isBinary()) {
            throw new CommandException(MongoError.FAILED_TO_PARSE, "saslStart needs a binary payload");
        }
        byte[] b = payload.asBinary().getData();
        if (b.length > MAX_PAYLOAD) {
            throw new CommandException(MongoError.AUTHENTICATION_FAILED, "PLAIN payload of " + b.length
                    + " bytes exceeds the " + MAX_PAYLOAD + " bytes a token may take");
        }
        int first = indexOf(b, 0);
        int second = first < 0 ? -1 : indexOf(b, first + 1);
        if (second < 0) {
            throw new CommandException(MongoError.AUTHENTICATION_FAILED, "malformed PLAIN payload");
        }
        String user = new String(b, first + 1, second - first - 1, StandardCharsets.UTF_8);
        if (first > 0 && !new String(b, 0, first, StandardCharsets.UTF_8).equals(user)) {
            // As mongod's PLAIN: one may not authenticate as one name and act as another.
            throw new CommandException(MongoError.AUTHENTICATION_FAILED, "SASL authorization identity must match"
                    + " authentication identity");
        }
        String token = new String(b, second + 1, b.length - second - 1, StandardCharsets.UTF_8).strip();
        return new PlainCredentials(user, token);
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "PlainCredentials[user=" + user + "]";
    }
}
