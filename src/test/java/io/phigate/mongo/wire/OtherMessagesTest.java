package io.phigate.mongo.wire;

import static io.phigate.mongo.wire.Frames.decode;
import static io.phigate.mongo.wire.Frames.doc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mongo.wire.WireMessage.OpCompressed;
import io.phigate.mongo.wire.WireMessage.OpQuery;
import io.phigate.mongo.wire.WireMessage.OpReply;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

/** OP_QUERY, OP_REPLY, OP_COMPRESSED and unknown op codes. */
class OtherMessagesTest {
    @Test
    void theLegacyHandshakeQueryRoundTripsWithAndWithoutAFieldSelector() throws Exception {
        OpQuery q = new OpQuery(new MsgHeader(0, 3, 0, WireMessage.OP_QUERY), 0, "admin.$cmd", 0, -1,
                doc("{isMaster: 1, helloOk: true, compression: ['zstd']}"), null);
        byte[] bytes = WireCodec.encode(q);
        OpQuery back = (OpQuery) decode(bytes);
        assertThat(back.fullCollectionName()).isEqualTo("admin.$cmd");
        assertThat(back.numberToReturn()).isEqualTo(-1);
        assertThat(back.query().getFirstKey()).isEqualTo("isMaster");
        assertThat(back.returnFieldsSelector()).isNull();

        OpQuery withSelector = new OpQuery(q.header(), 0, "admin.$cmd", 0, 1, q.query(), doc("{a: 1}"));
        assertThat(((OpQuery) decode(WireCodec.encode(withSelector))).returnFieldsSelector()).isEqualTo(doc("{a: 1}"));
    }

    @Test
    void aQueryWithBytesAfterItsDocumentsIsRefused() {
        byte[] bytes = WireCodec.encode(new OpQuery(new MsgHeader(0, 3, 0, WireMessage.OP_QUERY), 0, "admin.$cmd",
                0, -1, doc("{isMaster: 1}"), null));
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 3);
        Le.putInt32(longer, 0, longer.length);
        assertThatThrownBy(() -> decode(longer)).isInstanceOf(WireException.class);
    }

    @Test
    void theReplyToTheHandshakeCarriesOneDocumentAndAnswersTheRequest() throws Exception {
        byte[] bytes = WireCodec.opReply(9, 3, BsonDocument.parse("{ismaster: true, ok: 1}"), false);
        OpReply r = (OpReply) decode(bytes);
        assertThat(r.header().responseTo()).isEqualTo(3);
        assertThat(r.header().requestId()).isEqualTo(9);
        assertThat(r.documents()).containsExactly(doc("{ismaster: true, ok: 1}"));
        assertThat(r.responseFlags() & OpReply.QUERY_FAILURE).isZero();
        assertThat(((OpReply) decode(WireCodec.opReply(9, 3, BsonDocument.parse("{ok: 0}"), true)))
                .responseFlags() & OpReply.QUERY_FAILURE).isNotZero();
    }

    @Test
    void aReplyWhoseCountDisagreesWithItsDocumentsIsRefused() {
        byte[] bytes = WireCodec.opReply(9, 3, BsonDocument.parse("{ok: 1}"), false);
        Le.putInt32(bytes, 32, 2);
        assertThatThrownBy(() -> decode(bytes)).hasMessageContaining("says 2 documents and holds 1");
    }

    @Test
    void compressedMessagesAreRecognisedOnlyToBeRefused() throws Exception {
        byte[] bytes = new byte[16 + 9 + 4];
        Le.putInt32(bytes, 0, bytes.length);
        Le.putInt32(bytes, 4, 5);
        Le.putInt32(bytes, 12, WireMessage.OP_COMPRESSED);
        Le.putInt32(bytes, 16, WireMessage.OP_MSG);
        Le.putInt32(bytes, 20, 100);
        bytes[24] = 3;
        assertThat(decode(bytes)).isEqualTo(new OpCompressed(MsgHeader.read(bytes, 0), WireMessage.OP_MSG, 100, 3));
    }

    @Test
    void anyOtherOpCodeIsAnUnknownMessageNotAnError() throws Exception {
        byte[] bytes = new byte[20];
        Le.putInt32(bytes, 0, 20);
        Le.putInt32(bytes, 12, 2002); // the removed OP_INSERT
        assertThat(decode(bytes)).isInstanceOf(WireMessage.Unknown.class);
    }

    @Test
    void encodedRepliesAreWholeFramesTheReaderAccepts() throws Exception {
        byte[] a = WireCodec.reply(1, 7, BsonDocument.parse("{ok: 1}"));
        byte[] b = WireCodec.reply(2, 8, BsonDocument.parse("{ok: 0, errmsg: 'x'}"));
        byte[] stream = new byte[a.length + b.length];
        System.arraycopy(a, 0, stream, 0, a.length);
        System.arraycopy(b, 0, stream, a.length, b.length);
        FrameReader reader = new FrameReader(new java.io.ByteArrayInputStream(stream), 1024);
        assertThat(List.of(reader.next().header().responseTo(), reader.next().header().responseTo()))
                .containsExactly(7, 8);
        assertThat(reader.next()).isNull();
    }
}
