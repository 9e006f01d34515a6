package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a hostile or broken client gets from the front door over a raw socket: an error reply or a close, no crash. */
class FrontDoorBadInputTest {
    @TempDir
    Path dir;
    MongoHarness gateway;

    @BeforeEach
    void start() throws Exception {
        gateway = new MongoHarness(dir);
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    @Test
    void theLegacyHandshakeIsAnsweredWithoutCompressionAndWithTheGatewaysLimit() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            byte[] query = WireCodec.encode(new WireMessage.OpQuery(new MsgHeader(0, 1, 0, WireMessage.OP_QUERY), 0,
                    "admin.$cmd", 0, -1, RawBsonDocument.parse("{isMaster: 1, helloOk: true,"
                    + " compression: ['zstd', 'snappy', 'zlib'], saslSupportedMechs: '$external.agent'}"), null));
            c.send(query);
            Frame f = c.in.next();
            WireMessage.OpReply reply = (WireMessage.OpReply) WireCodec.decode(f);
            BsonDocument hello = reply.documents().getFirst();
            assertThat(f.header().responseTo()).isEqualTo(1);
            assertThat(hello).doesNotContainKey("compression").doesNotContainKey("speculativeAuthenticate")
                    .doesNotContainKey("topologyVersion");
            assertThat(hello.getBoolean("ismaster").getValue()).isTrue();
            assertThat(hello.getInt32("maxMessageSizeBytes").getValue()).isEqualTo(48_000_000);
            assertThat(hello.getArray("saslSupportedMechs")).containsExactly(new BsonString("PLAIN"));
        }
    }

    @Test
    void commandsBeforeAuthenticationAreRefusedAndNeverForwarded() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            BsonDocument r = c.reply(c.command("{find: 'patients', $db: 'clinic'}"));
            assertThat(r.getInt32("code").getValue()).isEqualTo(13);
            assertThat(c.reply(c.command("{hello: 1, $db: 'admin'}")).getBoolean("isWritablePrimary").getValue())
                    .isTrue();
        }
        assertThat(gateway.relay.commands).doesNotContain("find");
    }

    @Test
    void aMessageAboveTheLimitGetsAClearErrorAndTheConnectionCloses() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            c.authenticate(gateway.token());
            byte[] header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(48_000_001).putInt(77).putInt(0).putInt(WireMessage.OP_MSG).array();
            c.send(header);
            BsonDocument r = c.reply(77);
            assertThat(r.getInt32("code").getValue()).isEqualTo(10334);
            assertThat(r.getString("errmsg").getValue()).contains("maxMessageSizeBytes");
            assertThat(c.closedByGateway()).isTrue();
        }
    }

    @Test
    void beforeAuthenticationOnlySmallMessagesAreRead() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            byte[] header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(MongoSession.MAX_UNAUTHENTICATED_MESSAGE + 1).putInt(78).putInt(0)
                    .putInt(WireMessage.OP_MSG).array();
            c.send(header);
            assertThat(c.reply(78).getString("errmsg").getValue()).contains("before authentication");
            assertThat(c.closedByGateway()).isTrue();
        }
    }

    @Test
    void aWrongChecksumIsRefusedAndTheConnectionCloses() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            byte[] msg = WireCodec.encode(new OpMsg(new MsgHeader(0, 5, 0, WireMessage.OP_MSG),
                    OpMsg.CHECKSUM_PRESENT, RawBsonDocument.parse("{hello: 1, $db: 'admin'}"), List.of()));
            msg[msg.length - 1] ^= 0x55;
            c.send(msg);
            assertThat(c.reply(5).getString("codeName").getValue()).isEqualTo("ChecksumMismatch");
            assertThat(c.closedByGateway()).isTrue();
        }
    }

    @Test
    void compressedMessagesAndOtherQueriesEndTheConnection() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            byte[] compressed = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN).putInt(30).putInt(9).putInt(0)
                    .putInt(WireMessage.OP_COMPRESSED).putInt(WireMessage.OP_MSG).putInt(100).put((byte) 2).array();
            c.send(compressed);
            assertThat(c.reply(9).getString("errmsg").getValue()).contains("OP_COMPRESSED");
            assertThat(c.closedByGateway()).isTrue();
        }
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            c.send(WireCodec.encode(new WireMessage.OpQuery(new MsgHeader(0, 3, 0, WireMessage.OP_QUERY), 0,
                    "clinic.patients", 0, 1, RawBsonDocument.parse("{}"), null)));
            WireMessage.OpReply reply = (WireMessage.OpReply) WireCodec.decode(c.in.next());
            assertThat(reply.responseFlags() & WireMessage.OpReply.QUERY_FAILURE).isNotZero();
            assertThat(c.closedByGateway()).isTrue();
        }
    }

    @Test
    void garbageNeverTakesTheListenerDown() throws Exception {
        Random random = new Random(21);
        for (int i = 0; i < 50; i++) {
            try (RawMongoClient c = new RawMongoClient(gateway)) {
                byte[] junk = new byte[16 + random.nextInt(200)];
                random.nextBytes(junk);
                ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).putInt(0, junk.length)
                        .putInt(12, i % 2 == 0 ? WireMessage.OP_MSG : random.nextInt());
                junk[16] &= ~OpMsg.MORE_TO_COME; // a request that wants its answer
                c.send(junk);
                Frame answer;
                try {
                    answer = c.in.next();
                } catch (IOException e) {
                    answer = null; // closed mid-frame: also a refusal
                }
                if (answer != null) {
                    assertThat(((OpMsg) WireCodec.decode(answer)).body().getDouble("ok").getValue()).isZero();
                }
            }
        }
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            assertThat(c.reply(c.command("{hello: 1, $db: 'admin'}")).getDouble("ok").getValue()).isEqualTo(1.0);
        }
    }

    @Test
    void aCursorThisSessionDidNotOpenIsRefusedAndNeverForwarded() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            c.authenticate(gateway.token());
            BsonDocument getMore = new BsonDocument("getMore", new BsonInt64(4242))
                    .append("collection", new BsonString("notes")).append("$db", new BsonString("clinic"));
            BsonDocument r = c.reply(c.command(getMore));
            assertThat(r.getString("codeName").getValue()).isEqualTo("CursorNotFound");
        }
        assertThat(gateway.relay.commands).doesNotContain("getMore");
        assertThat(gateway.auditEventually("kind = 'statement_completed' and command_tag = 'getMore'", 1))
                .singleElement().satisfies(row -> assertThat(row.get("outcome")).isEqualTo("refused"));
    }
}
