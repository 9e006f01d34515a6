package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.MongoClient;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Policy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0076: while the store declares PHI no reply is forwarded as sent. The catalog listings keep names, types
 * and key patterns, not what an administrator wrote into a view, a validator or a partial index; a transaction's end
 * and every other reply pass the reply allow list. The store is mongo-java-server, made to answer the listings and
 * the transaction commands as mongod would with PHI constants in them (it has no views, validators or transactions),
 * through the official Java driver.
 */
class RepliesAsAllowListsTest {
    static final String SSN = "123-45-0007";

    /** mongo-java-server answering the commands mongod has and it lacks, as mongod would with a PHI constant in them. */
    static final class Mongod extends MemoryBackend {
        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            return switch (command) {
                case "listCollections" -> cursor(database + ".$cmd.listCollections", List.of(
                        new Document("name", "cardio_view").append("type", "view").append("options", new Document(
                                "viewOn", "patients").append("pipeline", List.of(new Document("$match",
                                new Document("ssn", SSN))))).append("info", new Document("readOnly", true)),
                        new Document("name", "patients").append("type", "collection").append("options", new Document(
                                "validator", new Document("$jsonSchema", new Document("properties", new Document(
                                        "ssn", new Document("not", new Document("enum", List.of(SSN)))))))
                                .append("validationLevel", "strict")
                                .append("collation", new Document("locale", "en").append("strength", 2)))
                                .append("info", new Document("readOnly", false))
                                .append("idIndex", new Document("v", 2).append("key", new Document("_id", 1))
                                        .append("name", "_id_"))));
                case "listIndexes" -> cursor(database + ".patients", List.of(
                        new Document("v", 2).append("key", new Document("_id", 1)).append("name", "_id_"),
                        new Document("v", 2).append("key", new Document("ward", 1)).append("name", "ward_1")
                                .append("partialFilterExpression", new Document("ssn", SSN))
                                .append("unique", true)));
                case "commitTransaction", "abortTransaction" -> new Document("ok", 1.0)
                        .append("writeConcernError", new Document("code", 64).append("codeName",
                                "WriteConcernFailed").append("errmsg", "waiting for " + SSN))
                        .append("$err", "the write of {ssn: \"" + SSN + "\"} conflicted");
                // Shapes mongod does not send, as a server that adds fields might: its words as a regular
                // expression, as bytes, or as a text where drivers read a document.
                case "dropIndexes" -> new Document("ok", 1.0).append("nIndexesWas", 2)
                        .append("pattern", new de.bwaldvogel.mongo.bson.BsonRegularExpression("^" + SSN + "$", ""))
                        .append("detail", new de.bwaldvogel.mongo.bson.BinData(
                                SSN.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                        .append("writeConcernError", "waiting for the write of " + SSN)
                        .append("lastErrorObject", "the write of " + SSN)
                        .append("upserted", List.of("the write of " + SSN))
                        .append("collectionUUID", java.util.UUID.randomUUID());
                default -> super.handleCommand(channel, database, command, query);
            };
        }

        private static Document cursor(String ns, List<Document> batch) {
            return new Document("cursor", new Document("id", 0L).append("ns", ns).append("firstBatch", batch))
                    .append("ok", 1.0);
        }
    }

    @TempDir
    Path dir;
    MongoServer store;
    MongoHarness gateway;
    MongoClient client;

    @BeforeEach
    void start() throws Exception {
        store = new MongoServer(new Mongod());
        gateway = new MongoHarness(dir, store.bind(), new DocumentPolicy(DocumentMaskingThroughGatewayTest.CATALOG,
                Policy.NONE, null));
        client = gateway.driver("serverSelectionTimeoutMS=5000&connectTimeoutMS=5000");
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        gateway.close();
        store.shutdownNow();
    }

    @Test
    void listCollectionsShowsNamesTypesAndOptionsWithoutValuesButNotAViewsPipelineOrAValidator() {
        List<org.bson.Document> listed = client.getDatabase("clinic").listCollections().into(new ArrayList<>());

        assertThat(listed.toString()).doesNotContain(SSN);
        org.bson.Document view = listed.getFirst();
        assertThat(view.getString("name")).isEqualTo("cardio_view");
        assertThat(view.getString("type")).isEqualTo("view");
        assertThat(view.get("options", org.bson.Document.class).getString("viewOn")).isEqualTo("patients");
        assertThat(view.get("options", org.bson.Document.class).get("pipeline")).isEqualTo(List.of("[FREE_TEXT]"));
        assertThat(view.get("info", org.bson.Document.class).getBoolean("readOnly")).isTrue();
        org.bson.Document patients = listed.get(1);
        org.bson.Document options = patients.get("options", org.bson.Document.class);
        assertThat(options.get("validator")).isEqualTo("[FREE_TEXT]");
        assertThat(options.getString("validationLevel")).isEqualTo("strict");
        assertThat(options.get("collation", org.bson.Document.class)).isEqualTo(new org.bson.Document("locale", "en")
                .append("strength", 2));
        assertThat(patients.get("idIndex", org.bson.Document.class).getString("name")).isEqualTo("_id_");
    }

    @Test
    void aListCollectionsFilterOverWhatTheReplyWithholdsIsRefusedAndNeverForwarded() {
        int before = gateway.relay.commands.size();
        for (String filter : List.of("{'options.pipeline.0.$match.ssn': '" + SSN + "'}",
                "{$or: [{name: 'x'}, {'options.validator.$jsonSchema.properties.ssn.not.enum': /^123/}]}",
                "{$expr: {$eq: ['$options.pipeline', []]}}")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.getDatabase("clinic")
                    .listCollections().filter(org.bson.Document.parse(filter)).into(new ArrayList<>()))
                    .as(filter).isInstanceOfSatisfying(com.mongodb.MongoCommandException.class,
                            e -> assertThat(e.getErrorCode()).isEqualTo(13));
        }
        assertThat(gateway.relay.commands.subList(before, gateway.relay.commands.size()))
                .doesNotContain("listCollections");

        assertThat(client.getDatabase("clinic").listCollections().filter(org.bson.Document.parse(
                "{name: {$in: ['patients', 'visits']}, type: 'collection'}")).into(new ArrayList<>())).isNotEmpty();
    }

    @Test
    void listIndexesShowsNamesKeysAndFlagsButNotAPartialFilterAnAdministratorWrote() {
        List<org.bson.Document> indexes = client.getDatabase("clinic").getCollection("patients").listIndexes()
                .into(new ArrayList<>());

        assertThat(indexes.toString()).doesNotContain(SSN);
        assertThat(indexes).extracting(d -> d.getString("name")).containsExactly("_id_", "ward_1");
        assertThat(indexes.get(1).get("key")).isEqualTo(new org.bson.Document("ward", 1));
        assertThat(indexes.get(1).getBoolean("unique")).isTrue();
        assertThat(indexes.get(1).get("partialFilterExpression")).isEqualTo("[FREE_TEXT]");
    }

    @Test
    void theEndOfATransactionPassesTheReplyAllowListLikeEveryOtherReply() {
        for (String end : List.of("commitTransaction", "abortTransaction")) {
            org.bson.Document reply = client.getDatabase("admin").runCommand(new org.bson.Document(end, 1));

            assertThat(reply.toJson()).as(end).doesNotContain(SSN);
            assertThat(reply.get("$err")).isEqualTo("[FREE_TEXT]");
            org.bson.Document concern = reply.get("writeConcernError", org.bson.Document.class);
            assertThat(concern.getString("codeName")).isEqualTo("WriteConcernFailed");
            assertThat(concern.getString("errmsg")).isEqualTo("[FREE_TEXT]");
        }
    }

    @Test
    void untaggedCommandsStillShowTheServersErrorMessage() {
        var wards = client.getDatabase("clinic").getCollection("wards");
        wards.insertOne(new org.bson.Document("_id", "cardio"));
        String message = null;
        try {
            wards.insertOne(new org.bson.Document("_id", "cardio"));
        } catch (com.mongodb.MongoWriteException e) {
            message = e.getError().getMessage();
        }

        assertThat(message).contains("duplicate key");
    }

    /**
     * Attacker's read of 0076: the allow list took only texts, documents, arrays and code for words, so a regular
     * expression or bytes passed under any name, and a text where a document is walked (a write concern error,
     * lastErrorObject, a cursor, an element of upserted) passed as sent; both are withheld now. A UUID is an id and
     * passes.
     */
    @Test
    void theServersWordsAsARegularExpressionBytesOrATextWhereADocumentIsReadAreWithheld() throws Exception {
        org.bson.BsonDocument reply;
        try (RawMongoClient raw = new RawMongoClient(gateway)) { // the Java driver refuses a text write concern error
            raw.authenticate(gateway.token());
            reply = raw.reply(raw.command("{dropIndexes: 'patients', index: '*', $db: 'clinic'}"));
        }

        assertThat(reply.toJson()).doesNotContain(SSN);
        for (String field : List.of("pattern", "detail", "writeConcernError", "lastErrorObject")) {
            assertThat(reply.get(field)).as(field).isEqualTo(new org.bson.BsonString("[FREE_TEXT]"));
        }
        assertThat(reply.getArray("upserted")).containsExactly(new org.bson.BsonString("[FREE_TEXT]"));
        assertThat(reply.getInt32("nIndexesWas").getValue()).isEqualTo(2);
        assertThat(reply.getBinary("collectionUUID").getType()).isEqualTo((byte) 4);
    }
}
