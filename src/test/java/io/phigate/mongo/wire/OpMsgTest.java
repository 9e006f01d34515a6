package io.phigate.mongo.wire;

import static io.phigate.mongo.wire.Frames.decode;
import static io.phigate.mongo.wire.Frames.doc;
import static io.phigate.mongo.wire.Frames.msg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.util.Arrays;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class OpMsgTest {
    @Test
    void bodyAndDocumentSequencesRoundTrip() throws Exception {
        byte[] bytes = msg(0, "{insert: 'patients', $db: 'clinic'}",
                new DocumentSequence("documents", List.of(doc("{mrn: 'A1'}"), doc("{mrn: 'B2'}"))));
        OpMsg m = (OpMsg) decode(bytes);
        assertThat(m.body()).isEqualTo(BsonDocument.parse("{insert: 'patients', $db: 'clinic'}"));
        assertThat(m.sequences()).singleElement().satisfies(s -> {
            assertThat(s.identifier()).isEqualTo("documents");
            assertThat(s.documents()).containsExactly(doc("{mrn: 'A1'}"), doc("{mrn: 'B2'}"));
        });
        assertThat(m.header().requestId()).isEqualTo(7);
        assertThat(WireCodec.encode(m)).isEqualTo(bytes);
    }

    @Test
    void flagBitsAreReadAsTheProtocolDefinesThem() throws Exception {
        OpMsg m = (OpMsg) decode(msg(OpMsg.MORE_TO_COME | OpMsg.EXHAUST_ALLOWED, "{ping: 1, $db: 'admin'}"));
        assertThat(m.moreToCome()).isTrue();
        assertThat(m.exhaustAllowed()).isTrue();
        assertThat(m.checksumPresent()).isFalse();
    }

    @Test
    void aChecksumIsVerifiedAndAWrongOneClosesTheConnection() throws Exception {
        byte[] bytes = msg(OpMsg.CHECKSUM_PRESENT, "{ping: 1, $db: 'admin'}");
        assertThat(((OpMsg) decode(bytes)).checksumPresent()).isTrue();
        byte[] tampered = bytes.clone();
        tampered[tampered.length - 10] ^= 1;
        assertThatThrownBy(() -> decode(tampered)).isInstanceOfSatisfying(WireException.class, e -> {
            assertThat(e.error()).isEqualTo(MongoError.CHECKSUM_MISMATCH);
            assertThat(e.fatal()).isTrue();
            assertThat(e.requestId()).isEqualTo(7);
        });
    }

    @Test
    void unknownRequiredFlagBitsAreRefusedAndUnknownOptionalOnesIgnored() throws Exception {
        assertThatThrownBy(() -> decode(msg(1 << 5, "{ping: 1, $db: 'admin'}")))
                .hasMessageContaining("unknown required OP_MSG flag bits");
        assertThat(decode(msg(1 << 20, "{ping: 1, $db: 'admin'}"))).isInstanceOf(OpMsg.class);
    }

    @Test
    void aMessageWithoutABodyOrWithTwoIsRefused() {
        byte[] one = msg(0, "{ping: 1, $db: 'admin'}");
        byte[] two = Arrays.copyOf(one, one.length + (one.length - 20));
        System.arraycopy(one, 20, two, one.length, one.length - 20);
        Le.putInt32(two, 0, two.length);
        assertThatThrownBy(() -> decode(two)).hasMessageContaining("more than one body");

        byte[] none = Arrays.copyOf(one, 20);
        Le.putInt32(none, 0, 20);
        assertThatThrownBy(() -> decode(none)).hasMessageContaining("no body");
    }

    @Test
    void anUnknownSectionKindIsRefused() {
        byte[] bytes = msg(0, "{ping: 1, $db: 'admin'}");
        bytes[20] = 2;
        assertThatThrownBy(() -> decode(bytes)).hasMessageContaining("unknown OP_MSG section kind 2");
    }

    @Test
    void aDocumentWhoseLengthOverrunsItsSectionIsRefusedWithoutReadingPastIt() {
        byte[] bytes = msg(0, "{ping: 1, $db: 'admin'}");
        Le.putInt32(bytes, 21, 1 << 30);
        assertThatThrownBy(() -> decode(bytes)).isInstanceOf(WireException.class)
                .hasMessageContaining("does not fit");
    }

    @Test
    void malformedBsonInsideADocumentIsRefusedAsInvalidBson() {
        byte[] bytes = msg(0, "{ping: 'abc', $db: 'admin'}");
        // the string's own length word (after type 0x02, "ping\0") now claims more than the document holds
        int at = 21 + 4 + 1 + 5;
        Le.putInt32(bytes, at, 1000);
        assertThatThrownBy(() -> decode(bytes)).isInstanceOfSatisfying(WireException.class,
                e -> assertThat(e.error()).isEqualTo(MongoError.INVALID_BSON));
    }

    @Test
    void nestingDeeperThanTheServerAllowsIsRefused() {
        String deep = "{a: ".repeat(BsonCheck.MAX_DEPTH) + "1" + "}".repeat(BsonCheck.MAX_DEPTH);
        assertThatThrownBy(() -> decode(msg(0, "{find: 'x', filter: " + deep + ", $db: 'd'}")))
                .hasMessageContaining("nesting deeper than");
        String fine = "{a: ".repeat(50) + "1" + "}".repeat(50);
        assertThat(Frames.body(assertDecodes(msg(0, "{find: 'x', filter: " + fine + ", $db: 'd'}"))))
                .containsKey("filter");
    }

    private static WireMessage assertDecodes(byte[] bytes) {
        try {
            return decode(bytes);
        } catch (WireException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aRecordNeverPrintsItsDocuments() throws Exception {
        OpMsg m = (OpMsg) decode(msg(0, "{insert: 'patients', $db: 'clinic'}",
                new DocumentSequence("documents", List.of(doc("{ssn: '123-45-6789'}")))));
        assertThat(m.toString()).doesNotContain("123-45-6789").contains("documents[1 documents]");
    }
}
