package io.phigate.mongo.backend;

import io.phigate.config.DocumentsConfig;
import io.phigate.credentials.ScramSha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * The gateway's own SCRAM-SHA-256 login to the document store, as MongoDB's drivers hold it: {@code saslStart} with
 * the client-first message, {@code saslContinue} with the client-final, the server's signature checked before the
 * connection is trusted, and one empty {@code saslContinue} more for a server that ignores {@code skipEmptyExchange}.
 * Any failure is an {@link IOException} naming the step (never the password); the caller refuses the session.
 */
final class ScramLogin {
    /** Sends one command of the gateway's own and returns the reply's body. */
    interface Commands {
        BsonDocument run(BsonDocument command) throws IOException;
    }

    private ScramLogin() {
    }

    static void run(DocumentsConfig.Credentials login, String password, Commands commands) throws IOException {
        ScramSha256 scram = ScramSha256.mongo(login.user(), password);
        String step = "saslStart";
        try {
            BsonDocument start = commands.run(new BsonDocument("saslStart", new BsonInt32(1))
                    .append("mechanism", new BsonString(ScramSha256.MECHANISM))
                    .append("payload", payload(scram.clientFirstMessage()))
                    .append("options", new BsonDocument("skipEmptyExchange", BsonBoolean.TRUE))
                    .append("$db", new BsonString(login.source())));
            BsonValue conversation = accepted(start, false);
            String clientFinal = scram.clientFinalMessage(text(start));
            step = "saslContinue";
            BsonDocument proof = commands.run(next(conversation, clientFinal, login.source()));
            accepted(proof, null);
            step = "the server's signature";
            scram.verifyServerFinal(text(proof));
            if (!done(proof)) {
                // A server that ignores skipEmptyExchange waits for an empty message before it says done.
                step = "the closing saslContinue";
                accepted(commands.run(next(conversation, "", login.source())), true);
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new UpstreamConnection.LoginRefused("SCRAM-SHA-256 as " + login.user() + " (source "
                    + login.source() + ") failed at " + step + ": " + e.getMessage(), e);
        }
    }

    /**
     * The reply's conversation id once it says ok, and {@code done} is as expected (null: either). A refusal
     * carries the server's own words, which name no secret ("Authentication failed.").
     */
    private static BsonValue accepted(BsonDocument reply, Boolean expectDone) throws IOException {
        BsonValue ok = reply.get("ok");
        if (ok == null || !ok.isNumber() || ok.asNumber().doubleValue() != 1) {
            BsonValue message = reply.get("errmsg");
            throw new IOException("refused: " + (message != null && message.isString()
                    ? message.asString().getValue() : "no reason given") + codeName(reply));
        }
        if (expectDone != null && done(reply) != expectDone) {
            throw new IOException("answered done: " + done(reply) + ", expected " + expectDone);
        }
        BsonValue id = reply.get("conversationId");
        if (id == null || !id.isNumber()) {
            throw new IOException("answered without a conversationId");
        }
        return id;
    }

    private static String codeName(BsonDocument reply) {
        BsonValue name = reply.get("codeName");
        return name != null && name.isString() ? " (" + name.asString().getValue() + ")" : "";
    }

    private static boolean done(BsonDocument reply) {
        BsonValue done = reply.get("done");
        return done != null && done.isBoolean() && done.asBoolean().getValue();
    }

    private static String text(BsonDocument reply) throws IOException {
        BsonValue payload = reply.get("payload");
        if (payload == null || !payload.isBinary()) {
            throw new IOException("answered without a binary payload");
        }
        return new String(payload.asBinary().getData(), StandardCharsets.UTF_8);
    }

    private static BsonDocument next(BsonValue conversation, String message, String source) {
        return new BsonDocument("saslContinue", new BsonInt32(1)).append("conversationId", conversation)
                .append("payload", payload(message)).append("$db", new BsonString(source));
    }

    private static BsonBinary payload(String message) {
        return new BsonBinary(message.getBytes(StandardCharsets.UTF_8));
    }
}
