package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;

/** A connection to the front door speaking raw frames, for what no driver would send. */
final class RawMongoClient implements AutoCloseable {
    final Socket socket;
    final FrameReader in;
    private int nextId = 100;

    RawMongoClient(MongoHarness gateway) throws IOException {
        socket = new Socket("127.0.0.1", gateway.port());
        socket.setSoTimeout(10_000);
        in = new FrameReader(socket.getInputStream(), 64 * 1024 * 1024);
    }

    /** Sends {@code bytes}; returns the request id in their header. */
    int send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return MsgHeader.SIZE <= bytes.length ? ByteBuffer.wrap(bytes, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() : 0;
    }

    int command(String json) throws IOException {
        return command(BsonDocument.parse(json));
    }

    int command(BsonDocument body) throws IOException {
        return send(WireCodec.reply(nextId++, 0, body));
    }

    int command(BsonDocument body, int flags) throws IOException {
        return send(WireCodec.encode(new OpMsg(new MsgHeader(0, nextId++, 0, io.phigate.mongo.wire.WireMessage.OP_MSG),
                flags, WireCodec.raw(body), java.util.List.of())));
    }

    /** The body of the next OP_MSG reply, checking it answers {@code requestId}. */
    BsonDocument reply(int requestId) throws IOException {
        Frame f = in.next();
        assertThat(f).as("a reply").isNotNull();
        assertThat(f.header().responseTo()).isEqualTo(requestId);
        return ((OpMsg) WireCodec.decode(f)).body();
    }

    boolean closedByGateway() {
        try {
            return in.next() == null;
        } catch (IOException e) {
            return true;
        }
    }

    void authenticate(String token) throws IOException {
        byte[] plain = ("\0agent\0" + token).getBytes(StandardCharsets.UTF_8);
        BsonDocument start = new BsonDocument("saslStart", new BsonInt32(1))
                .append("mechanism", new BsonString("PLAIN")).append("payload", new BsonBinary(plain))
                .append("$db", new BsonString("$external"));
        assertThat(reply(command(start)).getBoolean("done").getValue()).isTrue();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
