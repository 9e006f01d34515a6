package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.ServerApi;
import com.mongodb.ServerApiVersion;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Collation;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.InsertOneOptions;
import com.mongodb.client.model.Updates;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0076: the options of every forwarded command are an allow list. An option phigate does not read (an
 * internal one, one a later server adds) is refused with mongod's error for an unknown field, recorded, and never
 * reaches the store; what drivers send (sessions, concerns, time limits, the declared API, collation, let, hint)
 * still does. Through the official Java driver against mongo-java-server.
 */
class CommandOptionsTest {
    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient agent;

    @BeforeEach
    void start() throws Exception {
        gateway = new MongoHarness(dir);
        // The declared API makes the driver add apiVersion, apiStrict and apiDeprecationErrors to every command.
        agent = MongoClients.create(com.mongodb.MongoClientSettings.builder()
                .applyConnectionString(new com.mongodb.ConnectionString("mongodb://127.0.0.1:" + gateway.port()
                        + "/?serverSelectionTimeoutMS=5000"))
                .credential(com.mongodb.MongoCredential.createPlainCredential("triage-agent", "$external",
                        gateway.token().toCharArray()))
                .serverApi(ServerApi.builder().version(ServerApiVersion.V1).strict(false).deprecationErrors(true)
                        .build())
                .build());
        agent.getDatabase("clinic").getCollection("wards").insertOne(new Document("_id", 1).append("ward", "cardio"));
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        gateway.close();
    }

    private List<String> reachedSince(int before) {
        return gateway.relay.commands.subList(before, gateway.relay.commands.size());
    }

    @Test
    void anOptionPhigateDoesNotReadIsRefusedAsAnUnknownFieldRecordedAndNeverForwarded() throws Exception {
        List<String> attacks = List.of(
                "{find: 'wards', filter: {}, $_requestResumeToken: true, hint: {$natural: 1}}",
                "{aggregate: 'wards', pipeline: [], cursor: {}, $_generateV2ResumeTokens: true}",
                "{count: 'wards', query: {}, readOnce: true}",
                "{update: 'wards', updates: [{q: {}, u: {$set: {x: 1}}, upsertSupplied: true}]}",
                "{delete: 'wards', deletes: [{q: {}, limit: 0, sampleId: 1}]}",
                "{listIndexes: 'wards', includeBuildUUIDs: true}",
                "{explain: {find: 'wards', filter: {}, term: 1}}",
                // attacker's read of 0076: an explained statement, and the fields inside an option's value
                "{explain: {update: 'wards', updates: [{q: {}, u: {$set: {x: 1}}, upsertSupplied: true}]}}",
                "{explain: {delete: 'wards', deletes: [{q: {}, limit: 0, sampleId: 1}]}}",
                "{find: 'wards', filter: {}, readConcern: {level: 'local', allowTransactionTableSnapshot: true}}",
                "{insert: 'wards', documents: [{_id: 9}], writeConcern: {w: 1, provenance: 'clientSupplied'}}",
                "{aggregate: 'wards', pipeline: [], cursor: {batchSize: 1, $_internal: 1}}");
        int before = gateway.relay.commands.size();
        for (String json : attacks) {
            assertThatThrownBy(() -> agent.getDatabase("clinic").runCommand(Document.parse(json))).as(json)
                    .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).as(json).isEqualTo(40415);
                        assertThat(e.getErrorCodeName()).isEqualTo("Location40415");
                        assertThat(e.getErrorMessage()).as(json).contains("is an unknown field");
                    });
        }

        assertThat(reachedSince(before)).as("no refused command reached the store").isEmpty();
        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", attacks.size()))
                .hasSize(attacks.size());
    }

    @Test
    void bypassingTheStoresValidatorsIsRefusedAndItsOffFormPasses() {
        MongoCollection<Document> wards = agent.getDatabase("clinic").getCollection("wards");
        int before = gateway.relay.commands.size();

        assertThatThrownBy(() -> wards.insertOne(new Document("_id", 2), new InsertOneOptions()
                .bypassDocumentValidation(true))).isInstanceOfSatisfying(MongoCommandException.class,
                        e -> assertThat(e.getErrorCode()).isEqualTo(13));
        wards.insertOne(new Document("_id", 3), new InsertOneOptions().bypassDocumentValidation(false));

        assertThat(reachedSince(before)).containsExactly("insert");
    }

    @Test
    void theOptionsDriversSendStillReachTheStore() {
        MongoCollection<Document> wards = agent.getDatabase("clinic").getCollection("wards");
        int before = gateway.relay.commands.size();

        List<Document> found = wards.find(Filters.eq("ward", "cardio")).sort(new Document("_id", 1))
                .projection(new Document("ward", 1)).skip(0).limit(5).batchSize(2).comment("triage")
                .maxTime(5, TimeUnit.SECONDS).collation(Collation.builder().locale("simple").build())
                .noCursorTimeout(false).into(new ArrayList<>());
        wards.aggregate(List.of(new Document("$match", new Document("ward", "cardio")))).allowDiskUse(true)
                .comment("triage").maxTime(5, TimeUnit.SECONDS).into(new ArrayList<>());
        wards.countDocuments(Filters.eq("ward", "cardio"));
        wards.estimatedDocumentCount();
        wards.distinct("ward", String.class).into(new ArrayList<>());
        wards.findOneAndUpdate(Filters.eq("_id", 1), Updates.set("seen", true),
                new FindOneAndUpdateOptions().upsert(false).comment("triage"));
        wards.updateMany(Filters.eq("ward", "cardio"), Updates.set("beds", 4));
        wards.deleteMany(Filters.eq("ward", "none"));
        try {
            // What a driver adds inside a transaction, and the concerns, by hand: mongo-java-server has no
            // transactions, so only that it was forwarded matters.
            agent.getDatabase("clinic").runCommand(Document.parse("{find: 'wards', filter: {}, txnNumber: 1,"
                    + " autocommit: false, startTransaction: true, readConcern: {level: 'snapshot'},"
                    + " $readPreference: {mode: 'primary'}, let: {x: 1}}"));
        } catch (MongoCommandException e) {
            assertThat(e.getErrorCode()).isNotEqualTo(40415);
        }
        try {
            agent.getDatabase("admin").runCommand(Document.parse("{commitTransaction: 1, txnNumber: 1,"
                    + " autocommit: false, writeConcern: {w: 'majority'}}"));
        } catch (MongoCommandException e) {
            assertThat(e.getErrorCode()).isNotEqualTo(40415);
        }

        assertThat(found).hasSize(1);
        assertThat(reachedSince(before)).contains("find", "aggregate", "count", "distinct", "findAndModify",
                "update", "delete", "commitTransaction");
    }

    /** A forwarded command without a table here would have its options forwarded unread: deny by default. */
    @Test
    void everyCommandPhigateForwardsHasItsOptionsListed() {
        assertThat(CommandOptions.commands()).containsAll(ServerCommands.FORWARDED);
    }
}
