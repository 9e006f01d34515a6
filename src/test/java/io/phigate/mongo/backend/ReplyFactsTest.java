package io.phigate.mongo.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class ReplyFactsTest {
    private static ReplyFacts read(String body) {
        return read(body, 0);
    }

    private static ReplyFacts read(String body, int flags) {
        byte[] b = WireCodec.encode(new WireMessage.OpMsg(new MsgHeader(0, 1, 2, WireMessage.OP_MSG), flags,
                WireCodec.raw(BsonDocument.parse(body)), List.of()));
        return ReplyFacts.read(new Frame(new MsgHeader(b.length, 1, 2, WireMessage.OP_MSG), b));
    }

    @Test
    void aCursorBatchCountsItsDocumentsAndNamesItsCursor() {
        ReplyFacts f = read("{cursor: {firstBatch: [{a: 1}, {a: 2}, {b: {c: [1, 2]}}], id: {$numberLong: '99'},"
                + " ns: 'd.c'}, ok: 1.0}");
        assertThat(f).isEqualTo(new ReplyFacts(true, null, 3, 99, false));
        assertThat(read("{cursor: {id: {$numberLong: '0'}, ns: 'd.c', nextBatch: [{a: 1}]}, ok: 1}").cursorId())
                .isZero();
    }

    @Test
    void writesCountWhatTheyTouchedAndWriteErrorsAreErrors() {
        assertThat(read("{n: 4, nModified: 3, ok: 1}").documents()).isEqualTo(4);
        ReplyFacts dup = read("{n: 0, writeErrors: [{index: 0, code: 11000, errmsg: 'dup'}], ok: 1}");
        assertThat(dup.ok()).isFalse();
        assertThat(dup.code()).isEqualTo(11000);
    }

    @Test
    void findAndModifyReturnsOneDocumentOrNone() {
        assertThat(read("{lastErrorObject: {n: 1}, value: {a: 1}, ok: 1}").documents()).isEqualTo(1);
        assertThat(read("{lastErrorObject: {n: 0}, value: null, ok: 1}").documents()).isZero();
    }

    @Test
    void anErrorCarriesItsCodeAndAnExhaustReplySaysMoreFollows() {
        ReplyFacts e = read("{ok: 0, errmsg: 'no', code: 13, codeName: 'Unauthorized'}");
        assertThat(e.ok()).isFalse();
        assertThat(e.code()).isEqualTo(13);
        assertThat(read("{cursor: {id: {$numberLong: '5'}, nextBatch: []}, ok: 1}",
                WireMessage.OpMsg.MORE_TO_COME).moreToCome()).isTrue();
    }

    @Test
    void aReplyThatCannotBeReadIsAnErrorNotAnException() {
        byte[] b = WireCodec.reply(1, 2, BsonDocument.parse("{ok: 1, cursor: {firstBatch: [{a: 1}]}}"));
        b[b.length - 18] = 0x55; // the type byte of the batch's first element: no such type
        assertThat(ReplyFacts.read(new Frame(new MsgHeader(b.length, 1, 2, WireMessage.OP_MSG), b)).ok()).isFalse();
        byte[] reply = WireCodec.opReply(1, 2, BsonDocument.parse("{ok: 1}"), false);
        assertThat(ReplyFacts.read(new Frame(new MsgHeader(reply.length, 1, 2, WireMessage.OP_REPLY), reply)).ok())
                .isFalse();
    }
}
