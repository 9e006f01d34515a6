package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.util.List;
import java.util.UUID;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.junit.jupiter.api.Test;

/** How a command names its approval, and what the approval is bound to. */
class ApprovalTicketTest {
    private static OpMsg delete(BsonDocument extra, String mrn) {
        BsonDocument body = new BsonDocument("delete", new BsonString("patients"))
                .append("ordered", BsonBoolean.TRUE).append("$db", new BsonString("clinic"));
        body.putAll(extra);
        BsonDocument statement = new BsonDocument("q", mrn == null ? new BsonDocument()
                : new BsonDocument("mrn", new BsonString(mrn))).append("limit", new BsonInt32(0));
        return new OpMsg(new MsgHeader(0, 7, 0, WireMessage.OP_MSG), OpMsg.CHECKSUM_PRESENT, WireCodec.raw(body),
                List.of(new DocumentSequence("deletes", List.of(WireCodec.raw(statement)))));
    }

    private static BsonDocument session() {
        return new BsonDocument("lsid", new BsonDocument("id", new BsonBinary(UUID.randomUUID())))
                .append("$clusterTime", new BsonDocument("clusterTime", new BsonTimestamp(System.nanoTime())));
    }

    @Test
    void theDigestIgnoresWhatADriverSetsPerSendAndNothingElse() {
        // The statements (the sequence's documents) are the digest's parameters, compared apart from this text.
        assertThat(CommandRecords.approvalText(delete(session(), null)))
                .isEqualTo(CommandRecords.approvalText(delete(session(), null)))
                .isEqualTo(CommandRecords.approvalText(delete(new BsonDocument(), null)))
                .isNotEqualTo(CommandRecords.approvalText(delete(new BsonDocument("ordered", BsonBoolean.FALSE),
                        null)));
    }

    @Test
    void theMarkerIsReadAndTakenOffAndAnyOtherCommentStays() {
        OpMsg marked = delete(new BsonDocument("comment", new BsonString("phigate-approval: abc-123 ")), null);
        ApprovalMarker.Named named = ApprovalMarker.in(marked.body());
        assertThat(named.id()).isEqualTo("abc-123");
        OpMsg stripped = named.applyTo(marked);
        assertThat(stripped.body()).doesNotContainKey("comment").containsKeys("delete", "ordered", "$db");
        assertThat(stripped.checksumPresent()).isFalse();
        assertThat(stripped.sequences()).isEqualTo(marked.sequences());
        assertThat(CommandRecords.approvalText(stripped)).isEqualTo(CommandRecords.approvalText(delete(session(),
                null)));

        assertThat(ApprovalMarker.in(delete(new BsonDocument("comment", new BsonString("nightly")), null).body()))
                .isNull();
        assertThat(ApprovalMarker.in(delete(new BsonDocument("comment", new BsonInt32(1)), null).body())).isNull();
    }

    @Test
    void aCommandWithItsOwnCommentNamesTheApprovalBesideItAndKeepsItsExactBytes() {
        for (org.bson.BsonValue own : List.of(new BsonString("nightly"), new BsonInt32(7),
                new BsonDocument("job", new BsonString("purge")).append("n", new org.bson.BsonInt64(2)))) {
            OpMsg held = delete(new BsonDocument("comment", own).append("let", new BsonDocument()), null);
            OpMsg retried = delete(new BsonDocument("comment", new BsonDocument(ApprovalMarker.FIELD,
                    new BsonString("apr-1")).append("comment", own)).append("let", new BsonDocument()), null);
            ApprovalMarker.Named named = ApprovalMarker.in(retried.body());
            assertThat(named.id()).isEqualTo("apr-1");
            OpMsg forwarded = named.applyTo(retried);
            assertThat(forwarded.body().getByteBuffer().asNIO()).as("the bytes the store receives, for %s", own)
                    .isEqualTo(held.body().getByteBuffer().asNIO());
            assertThat(CommandRecords.approvalText(forwarded)).isEqualTo(CommandRecords.approvalText(held));
        }
        // Without its comment, the document form is the string form.
        OpMsg bare = delete(new BsonDocument("comment", new BsonDocument(ApprovalMarker.FIELD,
                new BsonString("apr-2"))), null);
        assertThat(ApprovalMarker.in(bare.body()).body()).doesNotContainKey("comment");
    }

    @Test
    void aMarkerDocumentWithAnythingElseInItIsAnOrdinaryComment() {
        for (String comment : List.of("{'phigate-approval': 'apr-1', note: 'x'}",
                "{'phigate-approval': 'apr-1', comment: true, comment: false}",
                "{'phigate-approval': 'apr-1', 'phigate-approval': 'apr-2'}",
                "{'phigate-approval': 1}", "{comment: true}", "{nested: {'phigate-approval': 'apr-1'}}",
                "['phigate-approval:apr-1']")) {
            org.bson.RawBsonDocument body = org.bson.RawBsonDocument.parse("{delete: 'patients', comment: " + comment
                    + ", $db: 'clinic'}");
            assertThat(ApprovalMarker.in(body)).as("%s", comment).isNull();
        }
    }

    private static OpMsg insertInBody(org.bson.BsonValue value) {
        BsonDocument body = new BsonDocument("insert", new BsonString("patients"))
                .append("documents", new org.bson.BsonArray(List.of(new BsonDocument("dob", value))))
                .append("$db", new BsonString("clinic"));
        return new OpMsg(new MsgHeader(0, 7, 0, WireMessage.OP_MSG), 0, WireCodec.raw(body), List.of());
    }

    @Test
    void commandsThatDifferOnlyInTheTypesJsonPrintsAlikeHaveDifferentDigests() {
        // Relaxed JSON prints an int32 and an int64 alike, and a date like a document holding a $date string.
        assertThat(CommandRecords.approvalText(insertInBody(new BsonInt32(1))))
                .isNotEqualTo(CommandRecords.approvalText(insertInBody(new org.bson.BsonInt64(1))));
        String date = CommandRecords.approvalText(insertInBody(new org.bson.BsonDateTime(0)));
        assertThat(date).isNotEqualTo(CommandRecords.approvalText(insertInBody(new BsonDocument("$date",
                new BsonString("1970-01-01T00:00:00Z")))));
    }
}
