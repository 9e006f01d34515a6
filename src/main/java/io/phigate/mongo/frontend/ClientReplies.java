package io.phigate.mongo.frontend;

import io.phigate.mongo.wire.MongoError;
import io.phigate.mongo.wire.WireCodec;
import java.io.IOException;
import java.io.OutputStream;
import org.bson.BsonDocument;
import org.bson.BsonString;

/**
 * What the gateway itself writes to one client: its own replies (hello, authentication, refusals), numbered, each
 * flushed at once. Forwarded replies go to {@link #out} as they come. Used by the connection's thread only.
 */
public final class ClientReplies {
    private final OutputStream out;
    private int nextReplyId = 1;

    public ClientReplies(OutputStream out) {
        this.out = out;
    }

    /** The client's buffered stream, for replies forwarded from the upstream (flushed by their writer). */
    public OutputStream out() {
        return out;
    }

    public void reply(int responseTo, BsonDocument body) throws IOException {
        write(WireCodec.reply(nextReplyId++, responseTo, body));
    }

    public void error(int responseTo, MongoError error, String message) throws IOException {
        reply(responseTo, error.reply(message));
    }

    /** An OP_REPLY to a legacy OP_QUERY, flagged as a failure with {@code failure}. */
    public void opReply(int responseTo, BsonDocument document, boolean failure) throws IOException {
        write(WireCodec.opReply(nextReplyId++, responseTo, document, failure));
    }

    /** An OP_REPLY refusing a legacy OP_QUERY, with the {@code $err} such replies carry. */
    public void opReplyError(int responseTo, MongoError error, String message) throws IOException {
        opReply(responseTo, error.reply(message).append("$err", new BsonString(message)), true);
    }

    private void write(byte[] message) throws IOException {
        out.write(message);
        out.flush();
    }
}
