package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The official Java sync driver, unmodified, through the document-store front door to mongo-java-server. */
class JavaDriverThroughGatewayTest {
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

    private MongoClient connect(String token) {
        return MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.port()
                        + "/?serverSelectionTimeoutMS=5000&connectTimeoutMS=5000"))
                .credential(MongoCredential.createPlainCredential("triage-agent", "$external", token.toCharArray()))
                .applyToSocketSettings(s -> s.readTimeout(30, TimeUnit.SECONDS))
                .build());
    }

    @Test
    void aRealisticSessionRunsAndEveryCommandIsRecordedBeforeItReachesTheStore() throws Exception {
        try (MongoClient client = connect(gateway.token())) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertMany(List.of(
                    new Document("mrn", "A1").append("name", "Ada").append("ward", "cardio").append("age", 71),
                    new Document("mrn", "B2").append("name", "Bo").append("ward", "cardio").append("age", 45),
                    new Document("mrn", "C3").append("name", "Cy").append("ward", "neuro").append("age", 60)));

            List<Document> found = patients.find(Filters.eq("ward", "cardio"))
                    .projection(Projections.fields(Projections.include("mrn", "age"), Projections.excludeId()))
                    .sort(Sorts.descending("age")).into(new ArrayList<>());
            assertThat(found).containsExactly(new Document("mrn", "A1").append("age", 71),
                    new Document("mrn", "B2").append("age", 45));

            List<Document> perWard = patients.aggregate(List.of(
                    Aggregates.group("$ward", Accumulators.sum("patients", 1)),
                    Aggregates.sort(Sorts.ascending("_id")))).into(new ArrayList<>());
            assertThat(perWard).containsExactly(new Document("_id", "cardio").append("patients", 2),
                    new Document("_id", "neuro").append("patients", 1));

            assertThat(patients.updateOne(Filters.eq("mrn", "B2"), Updates.set("ward", "neuro"))
                    .getModifiedCount()).isEqualTo(1);
            assertThat(patients.deleteOne(Filters.eq("mrn", "C3")).getDeletedCount()).isEqualTo(1);
            assertThat(patients.countDocuments(Filters.eq("ward", "neuro"))).isEqualTo(1);
        }

        assertThat(gateway.sink.violations).isEmpty();
        assertThat(gateway.relay.commands).contains("insert", "find", "aggregate", "update", "delete");
        List<Map<String, Object>> requested = gateway.audit("kind = 'statement_requested'");
        assertThat(requested).extracting(r -> r.get("protocol")).containsOnly("op_msg");
        assertThat(requested).extracting(r -> firstWord((String) r.get("statement")))
                .containsSubsequence("insert", "find", "aggregate", "update", "delete", "aggregate");
        Map<String, Object> insert = requested.getFirst();
        assertThat((String) insert.get("parameters")).contains("Ada", "Bo", "Cy");
        assertThat((String) insert.get("detail")).contains("clinic.patients");

        List<Map<String, Object>> completed = gateway.auditEventually("kind = 'statement_completed'",
                requested.size());
        Map<String, Map<String, Object>> byTag = new java.util.HashMap<>();
        completed.forEach(c -> byTag.putIfAbsent((String) c.get("command_tag"), c));
        assertThat(byTag.get("find").get("row_count")).isEqualTo(2);
        assertThat(byTag.get("find").get("outcome")).isEqualTo("ok");
        assertThat(byTag.get("find").get("response_digest")).asString().hasSize(64);
        assertThat(byTag.get("insert").get("row_count")).isEqualTo(3);
        assertThat(byTag.get("delete").get("row_count")).isEqualTo(1);
        assertThat(gateway.audit("kind = 'session_started'")).singleElement()
                .satisfies(s -> assertThat(s.get("subject")).isEqualTo(MongoHarness.AGENT));
    }

    @Test
    void tenThousandDocumentsIterateThroughGetMoreWithEachBatchRecorded() throws Exception {
        try (MongoClient client = connect(gateway.token())) {
            MongoCollection<Document> notes = client.getDatabase("clinic").getCollection("notes");
            notes.insertMany(IntStream.range(0, 10_000)
                    .mapToObj(i -> new Document("n", i).append("text", "note " + i)).toList());
            long seen = 0;
            long sum = 0;
            try (MongoCursor<Document> cursor = notes.find().sort(Sorts.ascending("n")).batchSize(500).iterator()) {
                while (cursor.hasNext()) {
                    sum += cursor.next().getInteger("n");
                    seen++;
                }
            }
            assertThat(seen).isEqualTo(10_000);
            assertThat(sum).isEqualTo(10_000L * 9_999 / 2);
        }
        assertThat(gateway.sink.violations).isEmpty();
        assertThat(gateway.relay.commands.stream().filter("getMore"::equals).count()).isGreaterThanOrEqualTo(19);
        List<Map<String, Object>> getMores = gateway.auditEventually(
                "kind = 'statement_completed' and command_tag = 'getMore'", 19);
        assertThat(getMores.stream().mapToLong(r -> ((Number) r.get("row_count")).longValue()).sum())
                .isEqualTo(10_000 - 500);
        assertThat(gateway.audit("kind = 'statement_requested' and statement like '{\"getMore\"%'"))
                .allSatisfy(r -> assertThat((String) r.get("statement")).contains("-- phigate: cursor of clinic.notes"));
    }

    @Test
    void aCommandWhoseRecordCannotBeWrittenIsRefusedAndNeverReachesTheStore() throws Exception {
        try (MongoClient client = connect(gateway.token())) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("mrn", "A1"));
            int before = gateway.relay.commands.size();
            gateway.sink.failing.set(true);
            assertThatThrownBy(() -> patients.find().first())
                    .isInstanceOf(MongoCommandException.class)
                    .hasMessageContaining("could not record this command");
            assertThat(gateway.relay.commands).hasSize(before);
            gateway.sink.failing.set(false);
            assertThat(patients.find().first()).isNotNull();
        }
    }

    @Test
    void aTokenThatDoesNotVerifyIsRefusedAtAuthentication() throws Exception {
        String token = gateway.token();
        String forged = token.substring(0, token.length() - 4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
        try (MongoClient client = connect(forged)) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("patients").find().first())
                    .hasRootCauseInstanceOf(MongoCommandException.class)
                    .isInstanceOf(MongoSecurityException.class);
        }
        assertThat(gateway.relay.commands).doesNotContain("find");
        assertThat(gateway.audit("kind = 'connection_refused'")).isNotEmpty()
                .allSatisfy(r -> assertThat((String) r.get("detail")).contains("token rejected"));
    }

    private static String firstWord(String json) {
        int start = json.indexOf('"') + 1;
        return json.substring(start, json.indexOf('"', start));
    }
}
