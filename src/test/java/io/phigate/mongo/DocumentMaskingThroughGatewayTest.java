package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Policy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masking by field path through the gateway, with the official Java sync driver against mongo-java-server: the
 * seeded PHI values are in the store (read directly) and never in what the agent receives, through find,
 * aggregation and the getMores of a cursor; conditions over them are refused and recorded.
 */
class DocumentMaskingThroughGatewayTest {
    static final DocumentCatalog CATALOG = new DocumentCatalog(Map.of(
            "clinic.patients", Map.of("ssn", PhiType.SSN, "name.given", PhiType.NAME,
                    "address.street", PhiType.ADDRESS, "contacts.$.phone", PhiType.PHONE),
            "clinic.visits", Map.of("note", PhiType.FREE_TEXT)));

    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient direct;

    @BeforeEach
    void start() throws Exception {
        gateway = new MongoHarness(dir, null, new DocumentPolicy(CATALOG, Policy.NONE, null));
        direct = MongoClients.create("mongodb://127.0.0.1:" + gateway.storeAddress.getPort());
        MongoCollection<Document> patients = direct.getDatabase("clinic").getCollection("patients");
        patients.insertMany(IntStream.range(0, 250).mapToObj(i -> new Document("_id", i)
                .append("ssn", "123-45-" + String.format("%04d", i))
                .append("name", new Document("given", "Given" + i).append("family", "Family" + i))
                .append("address", new Document("street", i + " Secret Lane").append("city", "Springfield"))
                .append("contacts", List.of(new Document("kind", "home").append("phone", "555-" + (1000 + i))))
                .append("ward", i % 2 == 0 ? "cardio" : "neuro")).toList());
        direct.getDatabase("clinic").getCollection("visits").insertOne(new Document("ward", "cardio")
                .append("note", "Given0 complains of chest pain"));
    }

    @AfterEach
    void stop() throws Exception {
        direct.close();
        gateway.close();
    }

    private MongoClient connect() throws Exception {
        return gateway.driver("serverSelectionTimeoutMS=5000&connectTimeoutMS=5000");
    }

    @Test
    void findMasksTaggedPathsInEveryBatchOfACursor() throws Exception {
        List<Document> found;
        try (MongoClient client = connect()) {
            found = client.getDatabase("clinic").getCollection("patients").find(Filters.eq("ward", "cardio"))
                    .sort(Sorts.ascending("_id")).batchSize(20).into(new ArrayList<>());
        }

        assertThat(found).hasSize(125).allSatisfy(d -> {
            assertThat(d.getString("ssn")).isEqualTo("[SSN]");
            assertThat(d.get("name", Document.class).getString("given")).isEqualTo("[NAME]");
            assertThat(d.get("name", Document.class).getString("family")).startsWith("Family");
            assertThat(d.get("address", Document.class).getString("street")).isEqualTo("[ADDRESS]");
            assertThat(d.get("address", Document.class).getString("city")).isEqualTo("Springfield");
            assertThat(d.getList("contacts", Document.class).getFirst().getString("phone")).isEqualTo("[PHONE]");
        });
        // The cursor was read in getMores (20 a batch), and each was masked by the find's plan.
        assertThat(gateway.auditEventually("kind = 'statement_completed' and command_tag = 'getMore'", 6))
                .hasSizeGreaterThanOrEqualTo(6)
                .allSatisfy(r -> assertThat(String.valueOf(r.get("detail"))).contains("ssn(ssn)=redact"));
        assertThat(direct.getDatabase("clinic").getCollection("patients").find(Filters.eq("_id", 0)).first()
                .getString("ssn")).isEqualTo("123-45-0000");
    }

    @Test
    void aggregationCarriesTagsThroughRenamesLookupsAndGroups() throws Exception {
        List<Document> renamed;
        List<Document> joined;
        List<Document> grouped;
        try (MongoClient client = connect()) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            renamed = patients.aggregate(List.of(Aggregates.match(Filters.eq("_id", 1)),
                    Aggregates.project(Projections.fields(Projections.computed("id", "$ssn"),
                            Projections.computed("home", "$address"), Projections.excludeId())))).into(new ArrayList<>());
            joined = patients.aggregate(List.of(Aggregates.match(Filters.eq("_id", 0)),
                    Aggregates.lookup("visits", "ward", "ward", "visits"))).into(new ArrayList<>());
            grouped = patients.aggregate(List.of(Aggregates.group("$ward",
                    com.mongodb.client.model.Accumulators.push("names", "$name")),
                    Aggregates.sort(Sorts.ascending("_id")))).into(new ArrayList<>());
        }

        assertThat(renamed).singleElement().satisfies(d -> {
            assertThat(d.getString("id")).isEqualTo("[SSN]");
            assertThat(d.get("home", Document.class).getString("street")).isEqualTo("[ADDRESS]");
        });
        assertThat(joined).singleElement().satisfies(d -> assertThat(d.getList("visits", Document.class))
                .singleElement().satisfies(v -> assertThat(v.getString("note")).isEqualTo("[FREE_TEXT]")));
        assertThat(grouped).hasSize(2).allSatisfy(g -> assertThat(g.getList("names", Document.class))
                .allSatisfy(n -> assertThat(n.getString("given")).isEqualTo("[NAME]")));
        assertThat(renamed.toString() + joined + grouped).doesNotContain("123-45", "Given", "Secret", "chest");
    }

    @Test
    void conditionsOverMaskedFieldsAreRefusedAndRecorded() throws Exception {
        try (MongoClient client = connect()) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");

            assertThatThrownBy(() -> patients.find(Filters.regex("ssn", "^123-45-00")).first())
                    .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(13);
                        assertThat(e.getErrorMessage()).contains("roles[].lookup");
                    });
            assertThatThrownBy(() -> patients.aggregate(List.of(Aggregates.group("$ssn"))).first())
                    .isInstanceOf(MongoCommandException.class);
            assertThatThrownBy(() -> patients.aggregate(List.of(Aggregates.out("copy"))).first())
                    .isInstanceOf(MongoCommandException.class);
            assertThat(patients.countDocuments(Filters.eq("ward", "neuro"))).isEqualTo(125);
        }

        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", 3))
                .hasSize(3).allSatisfy(r -> assertThat(String.valueOf(r.get("detail"))).contains("refused: "));
        assertThat(direct.getDatabase("clinic").listCollectionNames().into(new ArrayList<>())).doesNotContain("copy");
        assertThat(gateway.audit("kind = 'statement_requested' and statement like '{\"find\"%'"))
                .anySatisfy(r -> assertThat(String.valueOf(r.get("detail"))).contains("\"clinic.patients.ssn\":\"ssn\""));
    }

    /**
     * Second read of decision 0073: the connection's last error, asked for after a write to patients failed with a
     * message quoting the stored SSN, came back as the server sent it: getLastError was forwarded as a command
     * returning no documents, so nothing withheld its {@code err}. It touches whatever the connection last touched.
     */
    @Test
    void theLastErrorOfAConnectionIsNotAskedForWhileTheStoreDeclaresPhi() throws Exception {
        try (MongoClient agent = gateway.driver("serverSelectionTimeoutMS=5000&maxPoolSize=1&retryWrites=false")) {
            Document failed;
            try {
                failed = agent.getDatabase("clinic").runCommand(Document.parse(
                        "{update: 'patients', updates: [{q: {_id: 7}, u: {$set: {'ssn.x': 1}}}]}"));
            } catch (MongoCommandException e) {
                failed = Document.parse(e.getResponse().toJson());
            }
            assertThat(failed.toJson()).as("the write failed, its words withheld").contains("writeErrors")
                    .doesNotContain("123-45-0007");
            for (String name : List.of("getLastError", "getlasterror")) {
                String seen;
                try {
                    seen = agent.getDatabase("clinic").runCommand(new Document(name, 1)).toJson();
                } catch (MongoCommandException e) {
                    seen = e.getResponse().toJson();
                }
                assertThat(seen).as(name).doesNotContain("123-45-0007").contains("phigate");
            }
        }
    }
}
