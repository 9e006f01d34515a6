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
import io.phigate.mask.DocumentCatalog;
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
    /** The gateway test's catalog, and charts keyed by the medical record number. */
    static final DocumentCatalog CATALOG = new DocumentCatalog(Map.of(
            "clinic.patients", Map.of("ssn", PhiType.SSN, "name.given", PhiType.NAME, "contacts.$.phone",
                    PhiType.PHONE),
            "clinic.visits", Map.of("note", PhiType.FREE_TEXT),
            "clinic.charts", Map.of("_id", PhiType.MRN)));
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
        gateway = new MongoHarness(dir, null, new DocumentPolicy(CATALOG, policy, null));
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

    /**
     * An attacker's review of 0096: two routes to the same duplicate-key answer that {@code UniqueKeyWrites} did not
     * read. An aggregate's {@code $merge} of an untagged collection's document into {@code patients} failed with
     * E11000 exactly when the guessed SSN was stored. A client {@code bulkWrite} (admin, nsInfo), which 0096 left
     * open, is refused by the masking while the store declares PHI, inserts and {@code $rename}s alike.
     */
    @Test
    void aMergeOrABulkWriteIntoTheCollectionIsALookupToo() throws Exception {
        gateway.direct().getDatabase("clinic").getCollection("guesses")
                .insertOne(new Document("_id", 7).append("ssn", "123-45-0001"));
        try (MongoClient client = gateway.as("agent")) {
            var clinic = client.getDatabase("clinic");
            assertThatThrownBy(() -> clinic.getCollection("guesses").aggregate(List.of(
                    new Document("$merge", new Document("into", "patients").append("whenMatched", "fail"))))
                    .toCollection())
                    .isInstanceOf(MongoCommandException.class).hasMessageContaining("$merge into clinic.patients");
            assertThatThrownBy(() -> client.getDatabase("admin").runCommand(Document.parse("{bulkWrite: 1, ops:"
                    + " [{insert: 0, document: {_id: 8, ward: 'w'}}, {insert: 0, document: {_id: 9, ssn:"
                    + " '123-45-0001'}}], nsInfo: [{ns: 'clinic.patients'}]}")))
                    .isInstanceOf(MongoCommandException.class).hasMessageContaining("bulkWrite is not one");
            assertThatThrownBy(() -> client.getDatabase("admin").runCommand(Document.parse("{bulkWrite: 1, ops:"
                    + " [{update: 0, filter: {_id: 1}, updateMods: {$rename: {ward: 'ssn'}}}],"
                    + " nsInfo: [{ns: 'clinic.patients'}]}")))
                    .isInstanceOf(MongoCommandException.class).hasMessageContaining("bulkWrite is not one");
            // A merge into a collection without such an index runs.
            clinic.getCollection("guesses").aggregate(List.of(new Document("$merge", "visits"))).toCollection();
        }
        assertThat(gateway.direct().getDatabase("clinic").getCollection("patients").countDocuments()).isEqualTo(1);
        assertThat(gateway.direct().getDatabase("clinic").getCollection("visits").countDocuments()).isEqualTo(1);
        assertThat(gateway.sink.violations).isEmpty();
    }

    /**
     * An attacker's review of 0096: {@code _id} is unique in every collection, but listIndexes gives its index no
     * unique flag, so a masked {@code _id} (an MRN as the key) was not taken for a unique key: an insert of a guessed
     * MRN failed with a duplicate key exactly when a chart with it was stored.
     */
    @Test
    void aMaskedIdIsAUniqueKey() throws Exception {
        gateway.direct().getDatabase("clinic").getCollection("charts").insertOne(new Document("_id", "MRN-0001"));
        try (MongoClient client = gateway.as("agent")) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("charts")
                    .insertOne(new Document("_id", "MRN-0001").append("ward", "w")))
                    .isInstanceOf(MongoCommandException.class).hasMessageContaining("unique index over _id");
        }
        assertThat(gateway.sink.violations).isEmpty();
    }

    /**
     * An attacker's review of 0096: a unique index over an array's masked field ({@code contacts.phone}) is written
     * through array positions. {@code $set} of {@code contacts.0.phone} to a guessed phone failed with E11000 through
     * the gateway when another patient had it; the written path was compared with the key as it stood. (An upsert
     * whose query names the masked field, left open in 0096, is refused by the predicates: an equality on a field
     * the session sees masked is a lookup.)
     */
    @Test
    void anArrayPositionWritesTheKeyItNames() throws Exception {
        MongoCollection<Document> stored = gateway.direct().getDatabase("clinic").getCollection("patients");
        stored.createIndex(Indexes.ascending("contacts.phone"), new IndexOptions().unique(true).name("phone_unique"));
        stored.insertOne(new Document("_id", 2).append("contacts", List.of(new Document("phone", "555-0002"))));
        try (MongoClient client = gateway.as("agent")) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            for (String path : List.of("contacts.0.phone", "contacts.$[].phone", "contacts")) {
                assertThatThrownBy(() -> patients.updateOne(Filters.eq("_id", 1), Updates.set(path, "555-0002")))
                        .as(path).isInstanceOf(MongoCommandException.class)
                        .hasMessageContaining("unique index over contacts.phone");
            }
            patients.updateOne(Filters.eq("_id", 1), Updates.set("contacts.0.kind", "home"));
        }
        assertThat(UniqueKeyWrites.overlap("contacts.$[c].phone", "contacts.phone")).isTrue();
        assertThat(UniqueKeyWrites.overlap("contacts.$.phone", "contacts.phone")).isTrue();
        assertThat(UniqueKeyWrites.overlap("contacts.0.kind", "contacts.phone")).isFalse();
        assertThat(gateway.sink.violations).isEmpty();
    }

    /**
     * An attacker's review of 0096: in a compound unique index over a masked field and a plain one ({ssn, ward}: one
     * record per patient per ward), a write of the plain field alone was not read as setting the key. Moving record
     * 2 to ward a failed with E11000 exactly when record 1 in ward a had record 2's SSN: a test of equality between
     * two masked values, which no filter may make.
     */
    @Test
    void everyPathOfACompoundUniqueIndexOverAMaskedFieldIsAKey() throws Exception {
        MongoCollection<Document> stored = gateway.direct().getDatabase("clinic").getCollection("visits");
        stored.createIndex(Indexes.ascending("note", "ward"), new IndexOptions().unique(true).name("note_ward"));
        stored.insertOne(new Document("_id", 1).append("note", "same").append("ward", "a"));
        stored.insertOne(new Document("_id", 2).append("note", "same").append("ward", "b"));
        try (MongoClient client = gateway.as("agent")) {
            MongoCollection<Document> visits = client.getDatabase("clinic").getCollection("visits");
            assertThatThrownBy(() -> visits.updateOne(Filters.eq("_id", 2), Updates.set("ward", "a")))
                    .isInstanceOf(MongoCommandException.class)
                    .hasMessageContaining("unique index over ward (a key holding masked free_text)");
            visits.updateOne(Filters.eq("_id", 2), Updates.set("seen", true));
        }
        assertThat(gateway.sink.violations).isEmpty();
    }
}
