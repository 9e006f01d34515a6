package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.sql.Operation;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.BsonDocument;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacker's review of decision 0073: the rules and the server-command checks read a command as the server
 * does, whether its fields come in the body or in document sequences beside it, and whatever collections a command
 * reads for others later (a view's source and pipeline, a capped clone's source) are read now. Raw frames and the
 * Java driver through the gateway to mongo-java-server; the relay says what reached the store.
 */
class CommandsAsTheServerReadsThemTest {
    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient agent;

    @BeforeEach
    void start() throws Exception {
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(),
                Map.of("stewards", new Policy.ApproverGroup(new Match(null, "*@hospital.example", Map.of()), null)),
                List.of(new RiskRule("patients-are-read-only", when(Set.of(Operation.INSERT, Operation.UPDATE,
                                Operation.DELETE), "clinic.patients"), null, "agents only read patients"),
                        new RiskRule("no-reads-of-notes", when(Set.of(Operation.SELECT), "clinic.notes"), null,
                                "notes are read by clinicians only")));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(DocumentCatalog.EMPTY, policy, null));
        agent = gateway.driver("serverSelectionTimeoutMS=5000&retryWrites=false");
    }

    private static RiskRule.When when(Set<Operation> operations, String table) {
        return new RiskRule.When(operations, List.of(table), List.of(), false, false, List.of());
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        gateway.close();
    }

    /** The commands that reached the store since {@code before}, but the gateway's own hellos as it connects. */
    private List<String> reachedSince(int before) {
        return gateway.relay.commands.subList(before, gateway.relay.commands.size()).stream()
                .filter(c -> !c.equals("isMaster") && !c.equals("hello")).toList();
    }

    private static OpMsg msg(String body, DocumentSequence... sequences) {
        return new OpMsg(new MsgHeader(0, 7, 0, WireMessage.OP_MSG), 0, RawBsonDocument.parse(body),
                List.of(sequences));
    }

    private static DocumentSequence sequence(String identifier, String... documents) {
        return new DocumentSequence(identifier, java.util.Arrays.stream(documents).map(RawBsonDocument::parse)
                .toList());
    }

    /**
     * A client-level bulkWrite (mongod 8.0) as the drivers send it: {@code ops} and {@code nsInfo} as document
     * sequences, not body arrays. Read from the body alone, it had no operation and no namespace but admin, so a
     * deny rule on deleting clinic.patients passed it, and so did a namespace in admin's or local's collections.
     */
    @Test
    void aBulkWriteWhoseOperationsComeAsDocumentSequencesMeetsTheRulesAndChecksOfItsNamespaces() throws Exception {
        OpMsg asSequences = msg("{bulkWrite: 1, $db: 'admin'}",
                sequence("ops", "{delete: 0, filter: {mrn: 'A1'}, multi: false}"),
                sequence("nsInfo", "{ns: 'clinic.patients'}"));
        OpMsg intoUsers = msg("{bulkWrite: 1, $db: 'admin'}",
                sequence("ops", "{insert: 0, document: {_id: 'admin.backdoor', user: 'backdoor', db: 'admin'}}"),
                sequence("nsInfo", "{ns: 'admin.system.users'}"));
        OpMsg intoOplog = msg("{bulkWrite: 1, $db: 'admin'}",
                sequence("ops", "{insert: 0, document: {op: 'n'}}"), sequence("nsInfo", "{ns: 'local.oplog.rs'}"));
        int before = gateway.relay.commands.size();
        try (RawMongoClient raw = new RawMongoClient(gateway)) {
            raw.authenticate(gateway.token());
            for (OpMsg attack : List.of(asSequences, intoUsers, intoOplog)) {
                BsonDocument reply = raw.reply(raw.send(WireCodec.encode(attack)));
                assertThat(reply.getNumber("ok").intValue()).as("%s", attack).isZero();
                assertThat(reply.getInt32("code").getValue()).isEqualTo(13);
                assertThat(reply.getString("errmsg").getValue()).startsWith("phigate: ");
            }
            assertThat(reply(raw, msg("{bulkWrite: 1, ops: [{delete: 0, filter: {mrn: 'A1'}}], nsInfo:"
                    + " [{ns: 'clinic.patients'}], $db: 'admin'}")).getString("errmsg").getValue())
                    .as("the same operations as body arrays").contains("patients-are-read-only");
            assertThat(reply(raw, asSequences).getString("errmsg").getValue()).contains("patients-are-read-only");
        }
        assertThat(reachedSince(before)).as("no refused command reached the store").isEmpty();
    }

    /**
     * {@code $merge: "patients"} is $merge's short form for {@code into: "patients"}; the rules looked for a
     * collection under {@code into} only, so a read-only rule on clinic.patients let the agent write into it from
     * any other collection, and a system collection could be written the same way.
     */
    @Test
    void aMergeNamingItsTargetInItsShortFormMeetsTheRulesAndChecksOfThatTarget() throws Exception {
        agent.getDatabase("clinic").getCollection("patients").find().first(); // the agent's pool is open
        int before = gateway.relay.commands.size();
        for (List<String> attack : List.of(
                List.of("patients-are-read-only", "{aggregate: 'scratch', pipeline: [{$merge: 'patients'}],"
                        + " cursor: {}}"),
                List.of("patients-are-read-only", "{aggregate: 1, pipeline: [{$documents: [{mrn: 'Z9'}]},"
                        + " {$merge: 'patients'}], cursor: {}}"),
                List.of("system collection", "{aggregate: 'scratch', pipeline: [{$merge: 'system.js'}],"
                        + " cursor: {}}"))) {
            assertThatThrownBy(() -> agent.getDatabase("clinic").runCommand(Document.parse(attack.get(1))))
                    .as(attack.get(1)).isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(13);
                        assertThat(e.getErrorMessage()).startsWith("phigate").contains(attack.get(0));
                    });
        }
        assertThat(reachedSince(before)).as("no refused command reached the store").isEmpty();
    }

    private static BsonDocument reply(RawMongoClient raw, OpMsg m) throws Exception {
        return raw.reply(raw.send(WireCodec.encode(m)));
    }

    /**
     * A view runs its pipeline for whoever reads it later, under its own name: the collections it reads are read
     * when it is made; a capped clone copies its source; explain runs what it wraps (its counts tell what matched). A rule on reads of clinic.notes was passed by a view on notes (the view's name is no rule's),
     * and system.profile (every agent's commands with their values) was read through a view's $unionWith.
     */
    @Test
    void aViewACappedCloneOrAnExplainReadsItsSourcesWhenItIsSent() throws Exception {
        int before = gateway.relay.commands.size();
        for (List<String> attack : List.of(
                List.of("no-reads-of-notes", "{create: 'mine', viewOn: 'notes', pipeline: []}"),
                List.of("no-reads-of-notes", "{create: 'mine', viewOn: 'visits', pipeline: [{$unionWith: 'notes'}]}"),
                List.of("no-reads-of-notes", "{create: 'mine', viewOn: 'visits', pipeline: [{$lookup: {from: 'notes',"
                        + " localField: 'a', foreignField: 'a', as: 'n'}}]}"),
                List.of("no-reads-of-notes", "{collMod: 'mine', viewOn: 'notes', pipeline: []}"),
                List.of("no-reads-of-notes", "{cloneCollectionAsCapped: 'notes', toCollection: 'copy', size: 1e6}"),
                List.of("no-reads-of-notes", "{explain: {count: 'notes', query: {text: {$regex: '^cancer'}}},"
                        + " verbosity: 'executionStats'}"),
                List.of("system collection", "{create: 'queries', viewOn: 'visits', pipeline:"
                        + " [{$unionWith: 'system.profile'}]}"),
                List.of("system collection", "{collMod: 'queries', viewOn: 'visits', pipeline:"
                        + " [{$lookup: {from: 'system.js', pipeline: [], as: 'code'}}]}"))) {
            assertThatThrownBy(() -> agent.getDatabase("clinic").runCommand(Document.parse(attack.get(1))))
                    .as(attack.get(1)).isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(13);
                        assertThat(e.getErrorMessage()).startsWith("phigate").contains(attack.get(0));
                    });
        }
        assertThat(reachedSince(before)).as("no refused command reached the store").isEmpty();

        // A view over what no rule holds is still made.
        try {
            agent.getDatabase("clinic").runCommand(Document.parse("{create: 'recent', viewOn: 'visits', pipeline:"
                    + " [{$match: {year: 2026}}]}"));
        } catch (MongoCommandException e) {
            assertThat(e.getErrorMessage()).doesNotStartWith("phigate"); // mongo-java-server may not make views
        }
        assertThat(reachedSince(before)).containsExactly("create");
    }

    /**
     * {@code phi_without_limit} holds a read of PHI that no limit bounds. A $limit bounds a pipeline's documents,
     * not what a later (or any) stage gathers into them: one ward looking up every patient, or every patient pushed
     * into one group, came back as one document under a $limit, and distinct has no limit at all.
     */
    @Test
    void aLimitBoundsAPipelineOnlyWhereNothingGathersDocumentsIntoTheFewItKeeps() throws Exception {
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(), Map.of(),
                List.of(new RiskRule("bulk-phi", new RiskRule.When(Set.of(), List.of(), List.of(), false, false,
                        List.of(), -1, true, null), null, "PHI is read a few documents at a time")));
        DocumentCatalog catalog = new DocumentCatalog(Map.of("clinic.patients", Map.of("ssn",
                io.phigate.mask.PhiType.SSN)));
        try (MongoHarness phi = new MongoHarness(dir.resolve("phi"), null, new DocumentPolicy(catalog, policy, null));
             MongoClient client = phi.driver("serverSelectionTimeoutMS=5000&retryWrites=false")) {
            var clinic = client.getDatabase("clinic");
            for (String json : List.of("{find: 'patients'}",
                    "{aggregate: 'wards', pipeline: [{$limit: 1}, {$lookup: {from: 'patients', pipeline: [],"
                            + " as: 'all'}}], cursor: {}}",
                    "{aggregate: 'patients', pipeline: [{$group: {_id: null, all: {$push: '$$ROOT'}}}, {$limit: 1}],"
                            + " cursor: {}}",
                    "{aggregate: 'wards', pipeline: [{$limit: 1}, {$unionWith: 'patients'}], cursor: {}}",
                    "{aggregate: 'patients', pipeline: [{$limit: 1}, {$facet: {a: []}}], cursor: {}}",
                    "{distinct: 'patients', key: 'ward'}")) {
                assertThatThrownBy(() -> clinic.runCommand(Document.parse(json))).as(json)
                        .isInstanceOfSatisfying(MongoCommandException.class, e ->
                                assertThat(e.getErrorMessage()).contains("bulk-phi"));
            }
            for (String json : List.of("{find: 'patients', limit: 5}",
                    "{aggregate: 'patients', pipeline: [{$match: {ward: 'cardio'}}, {$unwind: '$visits'},"
                            + " {$limit: 5}, {$project: {ssn: 1}}], cursor: {}}")) {
                assertThat(clinic.runCommand(Document.parse(json)).get("ok", Number.class).intValue()).as(json)
                        .isEqualTo(1);
            }
        }
    }

    /**
     * The server's own words in an error reply are withheld wherever a command touches PHI, in every field that
     * carries them: mongo-java-server (and servers speaking the legacy protocol) repeat errmsg as {@code $err}, and
     * "Cannot create field 'x' in element {ssn: ...}" quotes the stored value the update ran into.
     */
    @Test
    void anErrorReplyCarriesNoneOfTheServersWordsInAnyField() throws Exception {
        DocumentCatalog catalog = new DocumentCatalog(Map.of("clinic.patients", Map.of("ssn",
                io.phigate.mask.PhiType.SSN)));
        try (MongoHarness phi = new MongoHarness(dir.resolve("err"), null, new DocumentPolicy(catalog,
                Policy.NONE, null));
             MongoClient direct = com.mongodb.client.MongoClients.create("mongodb://127.0.0.1:"
                     + phi.storeAddress.getPort());
             MongoClient client = phi.driver("serverSelectionTimeoutMS=5000&retryWrites=false")) {
            direct.getDatabase("clinic").getCollection("patients").insertOne(new Document("_id", 0)
                    .append("ssn", "123-45-6789"));
            assertThatThrownBy(() -> client.getDatabase("clinic").runCommand(Document.parse("{findAndModify:"
                    + " 'patients', query: {_id: 0}, update: {$set: {'ssn.x': 1}}}")))
                    .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getResponse().toJson()).doesNotContain("123-45", "Cannot");
                        assertThat(e.getErrorMessage()).isEqualTo("[FREE_TEXT]");
                    });
        }
    }

    /**
     * A rule on commands touching PHI ({@code phi: true}) reads what a collection change acts on: a drop of
     * clinic.patients, or of its whole database, removes PHI though no document comes back, and an $out or $merge
     * into it replaces or changes PHI; each passed such a rule as touching none.
     */
    @Test
    void droppingOrReplacingACollectionThatHoldsPhiTouchesPhi() throws Exception {
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(), Map.of(),
                List.of(new RiskRule("phi-ddl", new RiskRule.When(Set.of(Operation.DDL, Operation.UPDATE), List.of(),
                        List.of(), false, true, List.of()), null, "collections holding PHI are changed by people")));
        DocumentCatalog catalog = new DocumentCatalog(Map.of("clinic.patients", Map.of("ssn",
                io.phigate.mask.PhiType.SSN)));
        try (MongoHarness phi = new MongoHarness(dir.resolve("ddl"), null, new DocumentPolicy(catalog, policy, null));
             MongoClient client = phi.driver("serverSelectionTimeoutMS=5000&retryWrites=false")) {
            var clinic = client.getDatabase("clinic");
            clinic.getCollection("wards").insertOne(new Document("_id", "icu"));
            for (String json : List.of("{drop: 'patients'}", "{dropIndexes: 'patients', index: '*'}",
                    "{dropDatabase: 1}", "{aggregate: 'wards', pipeline: [{$out: 'patients'}], cursor: {}}",
                    "{aggregate: 'wards', pipeline: [{$merge: 'patients'}], cursor: {}}",
                    "{aggregate: 'wards', pipeline: [{$merge: {into: 'patients', whenMatched: 'merge'}}],"
                            + " cursor: {}}")) {
                assertThatThrownBy(() -> clinic.runCommand(Document.parse(json))).as(json)
                        .isInstanceOfSatisfying(MongoCommandException.class, e ->
                                assertThat(e.getErrorMessage()).contains("phi-ddl"));
            }
            assertThat(clinic.runCommand(Document.parse("{aggregate: 'wards', pipeline: [{$out: 'copy'}],"
                    + " cursor: {}}")).get("ok", Number.class).intValue()).isEqualTo(1);
            assertThat(clinic.runCommand(Document.parse("{drop: 'wards'}")).get("ok", Number.class).intValue())
                    .isEqualTo(1);
            assertThat(client.getDatabase("archive").runCommand(Document.parse("{dropDatabase: 1}"))
                    .get("ok", Number.class).intValue()).isEqualTo(1);
        }
    }
}
