package io.phigate.mongo.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.MaskingKeys;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.ScalarMasking;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.policy.Policy;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import org.bson.BsonArray;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;

/** The streaming masking of reply messages, on messages built here: what comes out, and what never does. */
class ReplyMaskerTest {
    static final Map<PhiType, ScalarMasking> DEFAULTS = defaults();
    static final FieldTags PATIENTS = FieldTags.of(new DocumentCatalog(Map.of("c.p", Map.of("ssn", PhiType.SSN,
            "name.given", PhiType.NAME, "contacts.$.phone", PhiType.PHONE, "age", PhiType.AGE, "dob", PhiType.DOB,
            "mrn", PhiType.MRN))).paths("c.p"));

    static Map<PhiType, ScalarMasking> defaults() {
        MaskingKeys keys = MaskingKeys.derive("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        Map<PhiType, ScalarMasking> m = new EnumMap<>(PhiType.class);
        for (PhiType t : PhiType.values()) {
            m.put(t, new ScalarMasking(Operators.create(Policy.NONE.operatorFor(null, t), t, keys), t));
        }
        return m;
    }

    static BsonDocument patient() {
        return BsonDocument.parse("""
                {_id: 1, ssn: "123-45-6789", name: {given: "Ada", family: "Lovelace"}, ward: "cardio",
                 contacts: [{kind: "home", phone: "555-0101"}, {kind: "work", phone: "555-0102"}, "loose"],
                 age: 95, dob: {$date: "1931-05-17T00:00:00Z"}, mrn: {$numberLong: "4711"}, misc: {a: [1, 2]}}""");
    }

    static byte[] reply(BsonDocument body) {
        return WireCodec.reply(7, 3, body);
    }

    static BsonDocument masked(byte[] frame, FieldTags tags, boolean withholdErrors) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ReplyMasker.write(frame, ReplyPlan.documents("find", tags, DEFAULTS::get, withholdErrors), out);
        byte[] b = out.toByteArray();
        assertThat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(b.length);
        assertThat(Arrays.copyOfRange(b, 4, 16)).isEqualTo(Arrays.copyOfRange(frame, 4, 16));
        RawBsonDocument body = new RawBsonDocument(b, 21, b.length - 21);
        return BsonDocument.parse(body.toJson());
    }

    @Test
    void aCursorBatchLeavesWithEveryTaggedValueMaskedAndEverythingElseAsItWas() throws Exception {
        BsonDocument body = new BsonDocument("cursor", new BsonDocument("firstBatch",
                new BsonArray(java.util.List.of(patient(), patient()))).append("id", new BsonInt64(0))
                .append("ns", new BsonString("c.p"))).append("ok", new BsonInt32(1));

        BsonDocument out = masked(reply(body), PATIENTS, true);

        BsonDocument d = out.getDocument("cursor").getArray("firstBatch").get(1).asDocument();
        assertThat(d.getString("ssn").getValue()).isEqualTo("[SSN]");
        assertThat(d.getDocument("name").getString("given").getValue()).isEqualTo("[NAME]");
        assertThat(d.getDocument("name").getString("family").getValue()).isEqualTo("Lovelace");
        assertThat(d.getArray("contacts").get(0).asDocument().getString("phone").getValue()).isEqualTo("[PHONE]");
        assertThat(d.getArray("contacts").get(1).asDocument().getString("kind").getValue()).isEqualTo("work");
        assertThat(d.getArray("contacts").get(2).asString().getValue()).isEqualTo("loose");
        assertThat(d.getInt32("age").getValue()).isEqualTo(90);
        assertThat(d.getDateTime("dob").getValue()).isEqualTo(BsonDateTime.class.cast(
                BsonDocument.parse("{d: {$date: \"1931-01-01T00:00:00Z\"}}").get("d")).getValue());
        // token keeps an integer an integer: a keyed stand-in, the same for the same MRN in every reply
        assertThat(d.get("mrn")).isNotEqualTo(new BsonInt64(4711)).isEqualTo(out.getDocument("cursor")
                .getArray("firstBatch").get(0).asDocument().get("mrn"));
        assertThat(d.getString("ward").getValue()).isEqualTo("cardio");
        assertThat(d.getDocument("misc")).isEqualTo(patient().getDocument("misc"));
        assertThat(out.getDocument("cursor").getString("ns").getValue()).isEqualTo("c.p");
        assertThat(out.toJson()).doesNotContain("123-45-6789", "Ada", "555-01", "1931-05");
    }

    @Test
    void aTaggedPathHoldingADocumentOrAnArrayIsMaskedThroughAndThrough() throws Exception {
        BsonDocument doc = BsonDocument.parse("""
                {ssn: {"123-45-6789": true, old: "987-65-4321"}, name: {given: ["Ada", "Augusta", {x: "Byron"}]}}""");
        BsonDocument body = new BsonDocument("value", doc).append("ok", new BsonInt32(1));

        BsonDocument out = masked(reply(body), PATIENTS, false);

        assertThat(out.getDocument("value").getString("ssn").getValue()).isEqualTo("[SSN]");
        assertThat(out.getDocument("value").getDocument("name").getArray("given"))
                .containsExactly(new BsonString("[NAME]"), new BsonString("[NAME]"), new BsonString("[NAME]"));
    }

    @Test
    void theServersErrorMessageIsWithheldButItsCodeKept() throws Exception {
        BsonDocument body = BsonDocument.parse("""
                {ok: 0, errmsg: "Failed to parse number '123-45-6789' in $convert", code: 241,
                 codeName: "ConversionFailure"}""");

        BsonDocument out = masked(reply(body), FieldTags.EMPTY, true);

        assertThat(out.getString("errmsg").getValue()).isEqualTo("[FREE_TEXT]");
        assertThat(out.getInt32("code").getValue()).isEqualTo(241);
        assertThat(out.getString("codeName").getValue()).isEqualTo("ConversionFailure");
    }

    /**
     * Decision 0073: the server's words come under names the plan does not list ($err from servers speaking the
     * legacy protocol, getLastError's err, anything a server adds), so every top-level text, document or array of a
     * reply touching PHI is withheld but for the fields drivers read; numbers, booleans and timestamps stay.
     */
    @Test
    void theServersWordsAreWithheldUnderAnyNameButTheFieldsDriversRead() throws Exception {
        BsonDocument body = BsonDocument.parse("""
                {$err: "Cannot create field 'x' in element {ssn: \\"123-45-6789\\"}", errmsg: "same",
                 err: "123-45-6789", later: {detail: "123-45-6789"}, notes: ["123-45-6789"], code: 28,
                 codeName: "PathNotViable", errorLabels: ["TransientTransactionError"], n: 0, ok: 0,
                 $clusterTime: {clusterTime: {$timestamp: {t: 1, i: 1}}}, operationTime: {$timestamp: {t: 1, i: 1}}}""");

        BsonDocument out = masked(reply(body), FieldTags.EMPTY, true);

        assertThat(out.toJson()).doesNotContain("123-45");
        assertThat(out.getString("$err").getValue()).isEqualTo("[FREE_TEXT]");
        assertThat(out.getString("codeName").getValue()).isEqualTo("PathNotViable");
        assertThat(out.getArray("errorLabels")).containsExactly(new BsonString("TransientTransactionError"));
        assertThat(out.getInt32("code").getValue()).isEqualTo(28);
        assertThat(out.getInt32("n").getValue()).isZero();
        assertThat(out.getDocument("$clusterTime")).isEqualTo(body.getDocument("$clusterTime"));
        assertThat(out.get("operationTime")).isEqualTo(body.get("operationTime"));
    }

    /**
     * Decision 0076: while PHI is declared no reply passes as sent. A command the masking found reaching no PHI keeps
     * the server's message (its words are about data the session sees), but a field no list names is withheld.
     */
    @Test
    void aCommandReachingNoPhiKeepsTheServersMessageButNotFieldsNoListNames() throws Exception {
        BsonDocument body = BsonDocument.parse("""
                {errmsg: "E11000 duplicate key", $err: "123-45-6789", code: 11000, ok: 0,
                 writeErrors: [{index: 0, code: 11000, errmsg: "dup", reason: "123-45-6789"}]}""");

        BsonDocument out = masked(reply(body), FieldTags.EMPTY, false);

        assertThat(ReplyPlan.documents("find", FieldTags.EMPTY, DEFAULTS::get, false).passes()).isFalse();
        assertThat(out.toJson()).doesNotContain("123-45");
        assertThat(out.getString("errmsg").getValue()).isEqualTo("E11000 duplicate key");
        assertThat(out.getArray("writeErrors").get(0).asDocument().getString("errmsg").getValue()).isEqualTo("dup");
    }

    @Test
    void aWriteErrorsKeyValueIsWithheld() throws Exception {
        BsonDocument body = BsonDocument.parse("""
                {ok: 1, n: 0, writeErrors: [{index: 0, code: 11000, errmsg: "E11000 dup key: { ssn: \\"1\\" }",
                 keyValue: {ssn: "123-45-6789"}}]}""");

        BsonDocument out = masked(reply(body), PATIENTS, true);

        assertThat(out.toJson()).doesNotContain("123-45-6789", "dup key");
        assertThat(out.getArray("writeErrors").get(0).asDocument().getInt32("code").getValue()).isEqualTo(11000);
    }

    /**
     * Second read of decision 0073: the allow list held at the top level only. Inside a write error, a write concern
     * error, a cursor and lastErrorObject, whatever the server adds beside the fields drivers read passed as sent.
     */
    @Test
    void theServersWordsAreWithheldUnderAnyNameInsideTheDocumentsOfAReplyToo() throws Exception {
        BsonDocument body = BsonDocument.parse("""
                {ok: 1, n: 0, writeErrors: [{index: 0, code: 11000, codeName: "DuplicateKey",
                 $err: "dup key 123-45-6789", keyPattern: {ssn: 1}, errInfo: {failingDocumentId: "123-45-6789"}}],
                 writeConcernError: {code: 64, codeName: "WriteConcernFailed", reason: "123-45-6789",
                 errInfo: {writeConcern: {w: 2}}},
                 cursor: {id: {$numberLong: "0"}, ns: "c.p", firstBatch: [{_id: 1, ssn: "123-45-6789"}],
                 note: "plan over 123-45-6789", postBatchResumeToken: {_data: "123-45-6789"}},
                 lastErrorObject: {n: 1, updatedExisting: false, upserted: 7, detail: "123-45-6789"},
                 upserted: [{index: 0, _id: 7, why: "123-45-6789"}]}""");

        BsonDocument out = masked(reply(body), PATIENTS, true);

        assertThat(out.toJson()).doesNotContain("123-45");
        BsonDocument error = out.getArray("writeErrors").get(0).asDocument();
        assertThat(error.getInt32("index").getValue()).isZero();
        assertThat(error.getInt32("code").getValue()).isEqualTo(11000);
        assertThat(error.getString("codeName").getValue()).isEqualTo("DuplicateKey");
        assertThat(out.getDocument("writeConcernError").getString("codeName").getValue())
                .isEqualTo("WriteConcernFailed");
        assertThat(out.getDocument("cursor").getString("ns").getValue()).isEqualTo("c.p");
        assertThat(out.getDocument("cursor").get("id").asNumber().longValue()).isZero();
        assertThat(out.getDocument("cursor").getArray("firstBatch").get(0).asDocument().getInt32("_id").getValue())
                .isEqualTo(1);
        assertThat(out.getDocument("lastErrorObject").getInt32("upserted").getValue()).isEqualTo(7);
        assertThat(out.getDocument("lastErrorObject").getBoolean("updatedExisting").getValue()).isFalse();
        assertThat(out.getArray("upserted").get(0).asDocument().getInt32("_id").getValue()).isEqualTo(7);
        BsonDocument untagged = masked(reply(BsonDocument.parse("""
                {ok: 1, cursor: {id: {$numberLong: "0"}, ns: "c.p", firstBatch: [{_id: 1, ward: "cardio"}],
                 note: "123-45-6789"}}""")), FieldTags.EMPTY, true);
        assertThat(untagged.toJson()).as("a reply touching PHI whose documents carry no tag").doesNotContain("123-45")
                .contains("cardio");
    }

    /** An SSN kept as the document's _id is masked like any tagged path, in a batch and in findAndModify's value. */
    @Test
    void anIdTaggedAsPhiIsMaskedWhereverADocumentComesBack() throws Exception {
        FieldTags byId = FieldTags.of(new DocumentCatalog(Map.of("c.p", Map.of("_id", PhiType.SSN))).paths("c.p"));
        BsonDocument body = BsonDocument.parse("""
                {ok: 1, cursor: {id: {$numberLong: "0"}, ns: "c.p", firstBatch: [{_id: "123-45-6789", ward: "x"}]},
                 value: {_id: "123-45-6789"}}""");

        BsonDocument out = masked(reply(body), byId, true);

        assertThat(out.toJson()).doesNotContain("123-45-6789").contains("\"ward\": \"x\"");
    }

    @Test
    void aChecksumIsDroppedSinceMaskingInvalidatesIt() throws Exception {
        byte[] plain = reply(new BsonDocument("value", patient()).append("ok", new BsonInt32(1)));
        byte[] withSum = Arrays.copyOf(plain, plain.length + 4);
        ByteBuffer.wrap(withSum).order(ByteOrder.LITTLE_ENDIAN).putInt(0, withSum.length).putInt(16, 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        ReplyMasker.write(withSum, ReplyPlan.documents("find", PATIENTS, DEFAULTS::get, false), out);

        ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(16)).isZero();
        assertThat(21 + b.getInt(21)).isEqualTo(out.size());
    }

    @Test
    void everyTruncationOrCorruptionOfAReplyIsUnmaskableNeverAnotherFailure() {
        byte[] frame = reply(new BsonDocument("cursor", new BsonDocument("firstBatch", new BsonArray(
                java.util.List.of(patient()))).append("id", new BsonInt64(0))).append("ok", new BsonInt32(1)));
        java.util.Random random = new java.util.Random(21);
        ReplyPlan plan = ReplyPlan.documents("find", PATIENTS, DEFAULTS::get, true);
        for (int i = 0; i < 5_000; i++) {
            byte[] bad = frame.clone();
            int at = 21 + random.nextInt(frame.length - 21);
            bad[at] = (byte) random.nextInt(256);
            if (random.nextBoolean()) {
                bad[21 + random.nextInt(frame.length - 21)] = 0;
            }
            try {
                ReplyMasker.write(bad, plan, java.io.OutputStream.nullOutputStream());
            } catch (ReplyMasker.Unmaskable expected) {
                // withheld: the only way a reply may fail
            } catch (Exception e) {
                throw new AssertionError("byte " + at + " changed: " + e, e);
            }
        }
    }

    @Test
    void aReplyWhoseLengthsDoNotFitIsNeverWritten() {
        byte[] frame = reply(new BsonDocument("value", patient()).append("ok", new BsonInt32(1)));
        // The patient document (at 21 + 4 + 1 + "value".length + 1) claims more bytes than the body holds.
        int doc = 21 + 4 + 1 + 6;
        ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN).putInt(doc, 100_000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        assertThatThrownBy(() -> ReplyMasker.write(frame, ReplyPlan.documents("find", PATIENTS, DEFAULTS::get, false), out))
                .isInstanceOf(ReplyMasker.Unmaskable.class);
        assertThat(out.size()).isZero();
    }

    private static BsonDocument limited(BsonDocument body, ReplyPlan plan, DocumentBudget budget) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] frame = reply(body);
        ReplyMasker.write(frame, plan, budget, out);
        byte[] b = out.toByteArray();
        assertThat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(b.length);
        return BsonDocument.parse(new RawBsonDocument(b, 21, b.length - 21).toJson());
    }

    private static BsonDocument batch(String name, int from, int count, long id) {
        BsonArray docs = new BsonArray();
        for (int i = from; i < from + count; i++) {
            docs.add(patient().append("_id", new BsonInt32(i)));
        }
        // the id before the batch: the cut is known before the batch is walked only because it takes two walks
        return new BsonDocument("cursor", new BsonDocument("id", new BsonInt64(id)).append(name, docs)
                .append("ns", new BsonString("c.p"))).append("ok", new BsonInt32(1));
    }

    /** Decision 0096: a row limit counts a cursor's documents across its replies, masked or not, and ends it. */
    @Test
    void aRowLimitCutsTheBatchesOfACursorAndEndsIt() throws Exception {
        for (ReplyPlan plan : java.util.List.of(ReplyPlan.PASS,
                ReplyPlan.documents("find", PATIENTS, DEFAULTS::get, true))) {
            DocumentBudget budget = new DocumentBudget(5);
            BsonDocument first = limited(batch("firstBatch", 0, 3, 42), plan, budget);
            assertThat(first.getDocument("cursor").getArray("firstBatch")).hasSize(3);
            assertThat(first.getDocument("cursor").getNumber("id").longValue()).isEqualTo(42);
            assertThat(budget.reached()).isFalse();

            BsonDocument next = limited(batch("nextBatch", 3, 3, 42), plan, budget);
            BsonArray kept = next.getDocument("cursor").getArray("nextBatch");
            assertThat(kept).extracting(v -> v.asDocument().getInt32("_id").getValue()).containsExactly(3, 4);
            assertThat(next.getDocument("cursor").getNumber("id").longValue()).isZero();
            assertThat(budget.reached()).isTrue();
            assertThat(budget.cut()).isTrue();
            assertThat(budget.serverCursorLeftOpen()).isTrue();
            assertThat(budget.deliveredSoFar()).isEqualTo(5);
            String ssn = kept.get(0).asDocument().getString("ssn").getValue();
            assertThat(ssn).isEqualTo(plan.passes() ? "123-45-6789" : "[SSN]");
        }
    }

    @Test
    void aRowLimitCutsDistinctValuesAndLeavesAnExhaustedCursorUncut() throws Exception {
        DocumentBudget values = new DocumentBudget(2);
        BsonDocument body = new BsonDocument("values", new BsonArray(java.util.List.of(new BsonString("a"),
                new BsonString("b"), new BsonString("c")))).append("ok", new BsonInt32(1));
        assertThat(limited(body, ReplyPlan.PASS, values).getArray("values")).hasSize(2);

        DocumentBudget exact = new DocumentBudget(3);
        BsonDocument out = limited(batch("firstBatch", 0, 3, 0), ReplyPlan.PASS, exact);
        assertThat(out.getDocument("cursor").getArray("firstBatch")).hasSize(3);
        assertThat(exact.cut()).as("the server had nothing more: nothing was withheld").isFalse();
        assertThat(exact.serverCursorLeftOpen()).isFalse();
    }

    /** Decision 0096: a scoped role's listing keeps the entries its rules name, renumbered, and no sizes. */
    @Test
    void aScopedListingKeepsTheEntriesItsRulesNameAndWritesSizesAsZero() throws Exception {
        BsonDocument body = BsonDocument.parse("""
                {databases: [{name: "billing", sizeOnDisk: {$numberLong: "81920"}, empty: false},
                             {name: "clinic", sizeOnDisk: 40960.0, empty: false}, "stray"],
                 totalSize: {$numberLong: "122880"}, totalSizeMb: 0, ok: 1}""");
        for (ReplyPlan plan : java.util.List.of(ReplyPlan.PASS, ReplyPlan.withoutDocuments("listDatabases"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ReplyMasker.write(reply(body), plan.listing("clinic"::equals), out);
            byte[] b = out.toByteArray();
            RawBsonDocument raw = new RawBsonDocument(b, 21, b.length - 21);
            BsonArray databases = raw.getArray("databases");
            assertThat(databases).hasSize(1);
            assertThat(databases.get(0).asDocument().getString("name").getValue()).isEqualTo("clinic");
            assertThat(databases.get(0).asDocument().getNumber("sizeOnDisk").doubleValue()).isZero();
            assertThat(raw.getNumber("totalSize").longValue()).isZero();
            assertThat(new String(b, StandardCharsets.ISO_8859_1)).doesNotContain("billing");
        }
    }
}
