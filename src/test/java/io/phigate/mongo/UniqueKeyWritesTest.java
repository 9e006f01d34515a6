package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Updates;
import io.phigate.mask.PhiType;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0096 (0076 left it open): a unique index an administrator made over a masked field answers, on a write,
 * whether a value is stored. Before, a session seeing SSNs masked inserted a guessed SSN and learnt from the
 * duplicate-key error that a patient with it exists; the write is now a lookup, refused unless the role has one.
 */
class UniqueKeyWritesTest {
    @TempDir
    Path dir;
    MongoHarness gateway;

    @BeforeEach
    void start() throws Exception {
        Role finder = new Role("finder", new Match(null, "finder", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null, Set.of(PhiType.SSN));
        Role masked = new Role("masked", new Match(null, "*", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(finder, masked));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(DocumentMaskingThroughGatewayTest.CATALOG, policy, null));
        MongoCollection<Document> patients = gateway.direct().getDatabase("clinic").getCollection("patients");
        patients.createIndex(Indexes.ascending("ssn"), new IndexOptions().unique(true).name("ssn_unique"));
        patients.insertOne(new Document("_id", 1).append("ssn", "123-45-0001"));
    }

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }


    @Test
    void aWriteUnderAUniqueIndexOverAMaskedFieldIsALookup() throws Exception {
        try (MongoClient client = gateway.as("agent")) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            assertThatThrownBy(() -> patients.insertOne(new Document("_id", 2).append("ssn", "123-45-0001")))
                    .isInstanceOf(MongoCommandException.class).hasMessageContaining("unique index over ssn");
            assertThatThrownBy(() -> patients.updateOne(Filters.eq("_id", 1), Updates.set("ssn", "123-45-0009")))
                    .isInstanceOf(MongoCommandException.class).hasMessageContaining("unique index over ssn");
            // Writes setting no such key still run, and so do writes to a collection without one.
            patients.insertOne(new Document("_id", 3).append("ward", "cardio"));
            client.getDatabase("clinic").getCollection("visits").insertOne(new Document("note", "seen"));
            // Once the session drops the index, what was known of it is forgotten: the write no longer answers.
            patients.dropIndex("ssn_unique");
            patients.insertOne(new Document("_id", 4).append("ssn", "123-45-0001"));
        }
        try (MongoClient client = gateway.as("finder")) {
            client.getDatabase("clinic").getCollection("patients")
                    .insertOne(new Document("_id", 5).append("ssn", "123-45-0005"));
        }
        assertThat(gateway.direct().getDatabase("clinic").getCollection("patients").countDocuments(Filters.eq("_id", 2)))
                .isZero();
        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", 2)).hasSize(2);
        assertThat(gateway.sink.violations).isEmpty();
        assertThat(gateway.relay.commands).contains("listIndexes"); // the gateway's own read of the indexes
    }
}
