package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCursorNotFoundException;
import com.mongodb.MongoQueryException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0096: a role's {@code row_limit} holds on the document store as on PostgreSQL. A cursor delivers at most
 * that many documents across its first batch and every getMore, whatever batch size the client asks; then the
 * client is told the cursor is exhausted (id 0) and the gateway kills it on the store. Before, the limit was not
 * read for a command at all: a role limited to 5 rows read all 12 documents through the Java driver.
 */
class DocumentRowLimitTest {
    static final DocumentCatalog CATALOG = new DocumentCatalog(Map.of("clinic.patients", Map.of("ssn", PhiType.SSN)));

    @TempDir
    Path dir;
    MongoHarness gateway;

    private void start(DocumentCatalog catalog) throws Exception {
        Role sampler = new Role("sampler", new Match(null, "*", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 5, List.of(), null);
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(sampler));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(catalog, policy, null));
        MongoDatabase clinic = gateway.direct().getDatabase("clinic");
        clinic.getCollection("patients").insertMany(IntStream.range(0, 12).mapToObj(i -> new Document("_id", i)
                .append("ssn", "123-45-" + String.format("%04d", i)).append("ward", "w" + i)).toList());
        for (int i = 0; i < 7; i++) {
            clinic.getCollection("c" + i).insertOne(new Document("_id", i));
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }


    @Test
    void aCursorDeliversNoMoreThanTheRowLimitAcrossItsBatches() throws Exception {
        start(DocumentCatalog.EMPTY);
        try (MongoClient client = gateway.as("agent")) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            // batchSize 2: two whole batches, a third cut to one document, then the driver stops (no getMore after).
            assertThat(patients.find().sort(Sorts.ascending("_id")).batchSize(2).into(new ArrayList<>()))
                    .extracting(d -> d.getInteger("_id")).containsExactly(0, 1, 2, 3, 4);
            // The default batch (101): one batch, cut.
            assertThat(patients.find().into(new ArrayList<>())).hasSize(5);
            // singleBatch, a $limit above the limit, an aggregate, distinct: each a result of its own, each cut.
            assertThat(patients.find().limit(-100).into(new ArrayList<>())).hasSize(5);
            assertThat(patients.aggregate(List.of(Aggregates.limit(100))).batchSize(3).into(new ArrayList<>()))
                    .hasSize(5);
            assertThat(patients.distinct("ward", String.class).into(new ArrayList<>())).hasSize(5);
            // Below the limit nothing is cut; counts are not documents; a listing is not counted.
            assertThat(patients.find(Filters.lt("_id", 3)).into(new ArrayList<>())).hasSize(3);
            assertThat(patients.countDocuments()).isEqualTo(12);
            assertThat(client.getDatabase("clinic").listCollectionNames().into(new ArrayList<>())).hasSize(8);
        }
        assertThat(gateway.sink.violations).isEmpty();
        // The store's cursors the client was told were exhausted were killed by the gateway.
        assertThat(gateway.relay.commands).contains("killCursors");

        List<Map<String, Object>> cut = gateway.auditEventually("kind = 'statement_completed'"
                + " and json_extract(detail, '$.masking') like 'row_limit 5 reached%'", 5);
        assertThat(cut).hasSize(5);
        // The first cursor: its find delivered 2, its getMores 2 and 1; the record of the cut says so.
        List<Map<String, Object>> first = gateway.audit("kind = 'statement_completed' and command_tag in"
                + " ('find', 'getMore')").subList(0, 3);
        assertThat(first).extracting(r -> ((Number) r.get("row_count")).longValue()).containsExactly(2L, 2L, 1L);
        assertThat(String.valueOf(first.get(2).get("detail")))
                .contains("row_limit 5 reached: 5 documents delivered, the cursor ended and killed on the store");
        assertThat(gateway.audit("kind = 'statement_completed' and command_tag = 'find' and row_count = 3")).hasSize(1);
    }

    @Test
    void aGetMoreOfACursorTheLimitEndedIsNotFound() throws Exception {
        start(DocumentCatalog.EMPTY);
        try (MongoClient client = gateway.as("agent")) {
            MongoDatabase clinic = client.getDatabase("clinic");
            Document first = clinic.runCommand(new Document("find", "patients").append("batchSize", 5));
            Document cursor = first.get("cursor", Document.class);
            assertThat(cursor.getList("firstBatch", Document.class)).hasSize(5);
            assertThat(cursor.getLong("id")).as("the client is told the cursor is exhausted").isZero();
            // Another find opens another cursor with a count of its own.
            Document second = clinic.runCommand(new Document("find", "patients").append("batchSize", 2));
            long id = second.get("cursor", Document.class).getLong("id");
            assertThat(id).isNotZero();
            Document more = clinic.runCommand(new Document("getMore", id).append("collection", "patients")
                    .append("batchSize", 10));
            assertThat(more.get("cursor", Document.class).getList("nextBatch", Document.class)).hasSize(3);
            assertThat(more.get("cursor", Document.class).getLong("id")).isZero();
            assertThatThrownBy(() -> clinic.runCommand(new Document("getMore", id).append("collection", "patients")))
                    .hasMessageContaining("not found");
        }
    }

    @Test
    void theLimitHoldsWhereTheReplyIsMaskedToo() throws Exception {
        start(CATALOG);
        List<Document> found;
        try (MongoClient client = gateway.as("agent")) {
            found = client.getDatabase("clinic").getCollection("patients").find().batchSize(3)
                    .into(new ArrayList<>());
        }
        assertThat(found).hasSize(5).allSatisfy(d -> assertThat(d.getString("ssn")).isEqualTo("[SSN]"));
        assertThat(gateway.auditEventually("kind = 'statement_completed' and json_extract(detail, '$.masking') like"
                + " 'ssn(ssn)=%; row_limit 5 reached: 5 documents delivered%'", 1)).hasSize(1);
        assertThat(gateway.sink.violations).isEmpty();
    }

    /**
     * An attacker's review of 0096: stages that gather many documents into one ({@code $group} with {@code $push},
     * {@code $facet}, a {@code $lookup} left as an array, a view the agent makes of them) delivered all 12 patients
     * as one counted document. Under a row limit they are refused; a join unwound at once is rows again, counted.
     */
    @Test
    void stagesThatGatherDocumentsIntoOneAreRefusedUnderALimit() throws Exception {
        start(DocumentCatalog.EMPTY);
        try (MongoClient client = gateway.as("agent")) {
            MongoDatabase clinic = client.getDatabase("clinic");
            MongoCollection<Document> patients = clinic.getCollection("patients");
            List<List<Document>> gathering = List.of(
                    List.of(Document.parse("{$group: {_id: null, all: {$push: '$$ROOT'}}}")),
                    List.of(Document.parse("{$group: {_id: null, all: {$addToSet: '$ssn'}}}")),
                    List.of(Document.parse("{$bucket: {groupBy: '$_id', boundaries: [0, 100],"
                            + " output: {all: {$push: '$ssn'}}}}")),
                    List.of(Document.parse("{$facet: {all: [{$match: {}}]}}")),
                    List.of(Document.parse("{$limit: 1}"), Document.parse("{$lookup: {from: 'patients',"
                            + " pipeline: [], as: 'all'}}")),
                    List.of(Document.parse("{$limit: 1}"), Document.parse("{$unionWith: {coll: 'c0', pipeline:"
                            + " [{$group: {_id: null, all: {$push: '$$ROOT'}}}]}}")),
                    // every document given one key, merged field by field into one stored document
                    List.of(Document.parse("{$replaceRoot: {newRoot: {k: 1, p: '$$ROOT'}}}"),
                            Document.parse("{$merge: {into: 'folded', on: 'k'}}")),
                    List.of(Document.parse("{$merge: {into: 'folded', on: 'k', whenMatched: [{$set: {all:"
                            + " {$concatArrays: ['$all', ['$$new']]}}}]}}")));
            for (List<Document> pipeline : gathering) {
                assertThatThrownBy(() -> patients.aggregate(pipeline).into(new ArrayList<>()))
                        .as(pipeline.toString()).hasMessageContaining("row_limit");
            }
            assertThatThrownBy(() -> clinic.runCommand(Document.parse("{create: 'everyone', viewOn: 'patients',"
                    + " pipeline: [{$group: {_id: null, all: {$push: '$$ROOT'}}}]}")))
                    .hasMessageContaining("row_limit");
            // A merge keeping one source document per stored one runs; so do aggregates computing one value, and a
            // join unwound at once is one row per pair, counted.
            patients.aggregate(List.of(Document.parse("{$merge: {into: 'copied', whenMatched: 'replace'}}")))
                    .toCollection();
            assertThat(patients.aggregate(List.of(Document.parse("{$group: {_id: null, n: {$sum: 1}}}")))
                    .into(new ArrayList<>())).hasSize(1);
            assertThat(patients.aggregate(List.of(Document.parse("{$lookup: {from: 'patients', pipeline: [],"
                    + " as: 'other'}}"), Document.parse("{$unwind: '$other'}"))).into(new ArrayList<>())).hasSize(5);
        }
        assertThat(gateway.sink.violations).isEmpty();
    }
}
