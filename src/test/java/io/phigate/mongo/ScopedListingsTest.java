package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.client.MongoClient;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import io.phigate.sql.Operation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0096: the catalog listings of a role with allow rules show only what its rules name. Before, a role
 * allowed {@code select} on {@code clinic.patients} listed every database with its size (a count of what it holds)
 * and every collection's name, through the Java driver.
 */
class ScopedListingsTest {
    @TempDir
    Path dir;
    MongoHarness gateway;

    @BeforeEach
    void start() throws Exception {
        Role narrow = new Role("narrow", new Match(null, "narrow", Map.of()), List.of("*"),
                List.of(new Role.Allow(List.of("clinic.patients"), Set.of(Operation.SELECT))),
                Set.of(), Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        Role anyone = new Role("anyone", new Match(null, "*", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(narrow, anyone));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(DocumentCatalog.EMPTY, policy, null));
        gateway.direct().getDatabase("clinic").getCollection("patients").insertOne(new Document("_id", 1));
        gateway.direct().getDatabase("clinic").getCollection("psych_notes").insertOne(new Document("_id", 1));
        gateway.direct().getDatabase("billing").getCollection("invoices").insertOne(new Document("_id", 1));
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }


    @Test
    void aScopedRoleListsOnlyWhatItsRulesNameAndNoSizes() throws Exception {
        try (MongoClient client = gateway.as("narrow")) {
            assertThat(client.listDatabaseNames().into(new ArrayList<>())).containsExactly("clinic");
            List<Document> databases = client.listDatabases().into(new ArrayList<>());
            assertThat(databases).extracting(d -> d.getString("name")).containsExactly("clinic");
            // mongo-java-server sends no sizes; ReplyMaskerTest shows a store's sizes written as 0.
            assertThat(client.getDatabase("clinic").listCollectionNames().into(new ArrayList<>()))
                    .containsExactly("patients");
            assertThat(client.getDatabase("billing").listCollectionNames().into(new ArrayList<>())).isEmpty();
            // What it may read still reads.
            assertThat(client.getDatabase("clinic").getCollection("patients").countDocuments()).isEqualTo(1);
        }
        // A role without allow rules is not scoped by them: it lists everything, sizes as the store gives them.
        try (MongoClient client = gateway.as("someone")) {
            assertThat(client.listDatabaseNames().into(new ArrayList<>())).contains("clinic", "billing");
            assertThat(client.getDatabase("clinic").listCollectionNames().into(new ArrayList<>()))
                    .contains("patients", "psych_notes");
        }
        assertThat(gateway.sink.violations).isEmpty();
    }

    /**
     * An attacker's review of 0096: the listing is cut after the server evaluated the request over every entry, so
     * the request itself probed what was cut. mongod (not mongo-java-server, which ignores a listing's filter and
     * batch size) fails {@code filter: {$expr: {$divide: [1, {$cond: [{$eq: ["$name", "psych_notes"]}, 0, 1]}]}}}
     * exactly when psych_notes exists, applies a {@code sizeOnDisk} filter to the real sizes, and ends a
     * {@code batchSize: 0} listing's cursor at once when nothing matched. These reach the store no more for a scoped
     * role; plain filters on names still run, and an unscoped role's listing is its own.
     */
    @Test
    void aScopedListingTakesNoProbe() throws Exception {
        List<String> probes = List.of(
                "{listCollections: 1, filter: {$expr: {$divide: [1, {$cond: [{$eq: ['$name', 'psych_notes']}, 0, 1]}]}}}",
                "{listCollections: 1, filter: {$or: [{name: 'patients'}, {$where: 'sleep(100)'}]}}",
                "{listCollections: 1, filter: {name: {$regex: '^psych'}}}",
                "{listCollections: 1, filter: {name: 'psych_notes'}, cursor: {batchSize: 0}}");
        try (MongoClient client = gateway.as("narrow")) {
            var clinic = client.getDatabase("clinic");
            for (String probe : probes) {
                assertThatThrownBy(() -> clinic.runCommand(Document.parse(probe))).as(probe)
                        .hasMessageContaining("is cut to its allow rules");
            }
            var admin = client.getDatabase("admin");
            assertThatThrownBy(() -> admin.runCommand(Document.parse("{listDatabases: 1, filter: {sizeOnDisk:"
                    + " {$gt: 1000000}}}"))).hasMessageContaining("reads sizeOnDisk");
            assertThat(clinic.runCommand(Document.parse("{listCollections: 1, filter: {name: {$in: ['patients',"
                    + " 'psych_notes']}}, nameOnly: true}")).toJson()).contains("patients").doesNotContain("psych");
            assertThat(admin.runCommand(Document.parse("{listDatabases: 1, filter: {name: 'clinic'}}")).toJson())
                    .contains("clinic");
            assertThat(clinic.listCollectionNames().into(new ArrayList<>())).containsExactly("patients");
        }
        try (MongoClient client = gateway.as("someone")) {
            client.getDatabase("clinic").runCommand(Document.parse("{listCollections: 1, filter: {name: {$regex:"
                    + " '^psych'}}, cursor: {batchSize: 0}}"));
        }
        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", 5)).hasSize(5);
        assertThat(gateway.sink.violations).isEmpty();
    }
}
