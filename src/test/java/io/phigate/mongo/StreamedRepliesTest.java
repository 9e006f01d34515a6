package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replies that are not one-for-one: the server's exhaust stream, and the client's fire-and-forget writes. */
class StreamedRepliesTest {
    @TempDir
    Path dir;

    /** Commands the scripted upstream received with moreToCome, which it does not answer. */
    private static final List<String> unanswered = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * A scripted upstream (mongo-java-server refuses moreToCome and has no exhaust cursors): answers isMaster, a find
     * with two replies, the first flagged moreToCome, as a server streams an exhaust cursor, a moreToCome request with
     * nothing, and anything else with ok.
     */
    private static ServerSocket scriptedUpstream() throws IOException {
        ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    private static void serve(Socket s) {
        try (s) {
            FrameReader in = new FrameReader(s.getInputStream(), 1 << 20);
            OutputStream out = s.getOutputStream();
            Frame f;
            while ((f = in.next()) != null) {
                OpMsg m = (OpMsg) WireCodec.decode(f);
                int id = f.header().requestId();
                if (m.moreToCome()) {
                    unanswered.add(m.body().getFirstKey());
                } else if (m.body().getFirstKey().equals("isMaster")) {
                    out.write(WireCodec.reply(1, id, BsonDocument.parse("{ismaster: true, minWireVersion: 0,"
                            + " maxWireVersion: 8, maxMessageSizeBytes: 48000000, ok: 1}")));
                } else if (m.body().getFirstKey().equals("find")) {
                    out.write(msg(id, OpMsg.MORE_TO_COME,
                            "{cursor: {id: {$numberLong: '7'}, ns: 'd.c', firstBatch: [{a: 1}, {a: 2}]}, ok: 1}"));
                    out.write(msg(id, 0, "{cursor: {id: {$numberLong: '0'}, ns: 'd.c', nextBatch: [{a: 3}]}, ok: 1}"));
                } else {
                    out.write(msg(id, 0, "{ok: 1}"));
                }
                out.flush();
            }
        } catch (IOException e) {
            // the gateway closed
        }
    }

    private static byte[] msg(int responseTo, int flags, String body) {
        return WireCodec.encode(new OpMsg(new MsgHeader(0, 2, responseTo, WireMessage.OP_MSG), flags,
                WireCodec.raw(BsonDocument.parse(body)), List.of()));
    }

    @Test
    void anExhaustStreamIsForwardedWholeAndRecordedAsOneCommand() throws Exception {
        try (ServerSocket upstream = scriptedUpstream();
             MongoHarness gateway = new MongoHarness(dir, new InetSocketAddress("127.0.0.1", upstream.getLocalPort()));
             RawMongoClient c = new RawMongoClient(gateway)) {
            c.authenticate(gateway.token());
            int id = c.command(BsonDocument.parse("{find: 'c', $db: 'd'}"), OpMsg.EXHAUST_ALLOWED);
            Frame first = c.in.next();
            Frame second = c.in.next();
            assertThat(List.of(first.header().responseTo(), second.header().responseTo())).containsOnly(id);
            assertThat(((OpMsg) WireCodec.decode(first)).moreToCome()).isTrue();
            assertThat(((OpMsg) WireCodec.decode(second)).moreToCome()).isFalse();

            List<Map<String, Object>> done = gateway.auditEventually(
                    "kind = 'statement_completed' and command_tag = 'find'", 1);
            assertThat(done).singleElement().satisfies(r -> {
                assertThat(r.get("row_count")).isEqualTo(3);
                assertThat(((Number) r.get("response_bytes")).longValue())
                        .isEqualTo(first.bytes().length + second.bytes().length);
            });
        }
    }

    @Test
    void anUnacknowledgedWriteIsRecordedForwardedAndGetsNoReply() throws Exception {
        try (ServerSocket upstream = scriptedUpstream();
             MongoHarness gateway = new MongoHarness(dir, new InetSocketAddress("127.0.0.1", upstream.getLocalPort()));
             RawMongoClient c = new RawMongoClient(gateway)) {
            c.authenticate(gateway.token());
            c.command(BsonDocument.parse("{insert: 'c', documents: [{a: 1}], writeConcern: {w: 0}, $db: 'd'}"),
                    OpMsg.MORE_TO_COME);
            int ping = c.command("{ping: 1, $db: 'admin'}");
            // The first reply the client reads answers the ping: nothing was sent for the insert.
            assertThat(c.reply(ping).getNumber("ok").intValue()).isEqualTo(1);
            assertThat(unanswered).contains("insert");
            assertThat(gateway.sink.violations).isEmpty();
            assertThat(gateway.auditEventually("kind = 'statement_completed' and command_tag = 'insert'", 1))
                    .singleElement().satisfies(r -> {
                        assertThat(r.get("outcome")).isEqualTo("ok");
                        assertThat(r.get("response_digest")).isNull();
                    });
        }
    }
}
