package io.phigate.mongo.wire;

import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;

/** Builds frames for codec tests from JSON, as a driver would send them. */
final class Frames {
    private Frames() {
    }

    static RawBsonDocument doc(String json) {
        return RawBsonDocument.parse(json);
    }

    static byte[] msg(int flags, String body, DocumentSequence... sequences) {
        return WireCodec.encode(new OpMsg(new MsgHeader(0, 7, 0, WireMessage.OP_MSG), flags, doc(body),
                List.of(sequences)));
    }

    static WireMessage decode(byte[] bytes) throws WireException {
        return WireCodec.decode(new Frame(MsgHeader.read(bytes, 0), bytes));
    }

    static BsonDocument body(WireMessage m) {
        return ((OpMsg) m).body();
    }
}
