package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.DeleteOptions;
import io.phigate.approval.ApprovalRequest;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.sql.Operation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ticket-mode rules on the document store, as on PostgreSQL: the command is refused with the request's id; once
 * approved, the identical command sent again with {@code comment: "phigate-approval:ID"} runs once, the marker
 * never reaching the store; the id does not release another command, nor the same one twice.
 */
class TicketedCommandsTest {
    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient direct;
    MongoClient client;

    @BeforeEach
    void start() throws Exception {
        RiskRule.Approval ticket = new RiskRule.Approval("stewards", 1, Duration.ofMinutes(5), RiskRule.Mode.TICKET,
                Duration.ofMinutes(5), 1);
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(),
                Map.of("stewards", new Policy.ApproverGroup(new Match(null, "*@hospital.example", Map.of()), null)),
                List.of(new RiskRule("wipe", new RiskRule.When(Set.of(Operation.DELETE), List.of(), List.of(), true,
                        false, List.of()), ticket, null)));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(DocumentCatalog.EMPTY, policy, null));
        direct = MongoClients.create("mongodb://127.0.0.1:" + gateway.storeAddress.getPort());
        for (String name : List.of("patients", "visits")) {
            direct.getDatabase("clinic").getCollection(name).insertMany(List.of(new Document("mrn", "A1"),
                    new Document("mrn", "B2")));
        }
        client = connect();
    }

    private MongoClient connect() throws Exception {
        return gateway.driver("serverSelectionTimeoutMS=5000&retryWrites=false");
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        direct.close();
        gateway.close();
    }

    private long remaining(String collection) {
        return direct.getDatabase("clinic").getCollection(collection).countDocuments();
    }

    private static DeleteOptions naming(String id) {
        return new DeleteOptions().comment("phigate-approval:" + id);
    }

    @Test
    void anApprovedTicketReleasesTheIdenticalCommandOnceAndNoOther() throws Exception {
        MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
        MongoCollection<Document> visits = client.getDatabase("clinic").getCollection("visits");

        assertThatThrownBy(() -> patients.deleteMany(new Document()))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("rule \"wipe\" requires approval", "comment: \"phigate-approval:"));
        ApprovalRequest r = gateway.approvals.all(ApprovalRequest.State.PENDING).getFirst();
        assertThat(r.text()).startsWith("{\"delete\": \"patients\"").doesNotContain("lsid");
        gateway.approvals.decide(r.id(), HeldCommandsTest.APPROVER, true, "ward closed");

        // The id names the patients wipe: the visits wipe with it is refused, and does not spend it.
        assertThatThrownBy(() -> visits.deleteMany(new Document(), naming(r.id())))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("approval " + r.id() + " was granted for a different statement"));
        assertThat(remaining("visits")).isEqualTo(2);

        // Retried later on another connection (another driver session id): the same command all the same.
        try (MongoClient later = connect()) {
            assertThat(later.getDatabase("clinic").getCollection("patients").deleteMany(new Document(),
                    naming(r.id())).getDeletedCount()).isEqualTo(2);
        }
        assertThat(remaining("patients")).isZero();

        direct.getDatabase("clinic").getCollection("patients").insertOne(new Document("mrn", "C3"));
        assertThatThrownBy(() -> patients.deleteMany(new Document(), naming(r.id())))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("approval " + r.id() + " has been used"));
        assertThat(remaining("patients")).isEqualTo(1);

        assertThat(gateway.auditEventually("kind = 'approval_decided' and detail like '%\"used\"%'", 1))
                .singleElement().satisfies(u -> assertThat((String) u.get("detail")).contains(r.id()));
        assertThat(gateway.audit("kind = 'statement_requested' and statement like '{\"delete\"%'"))
                .isNotEmpty().noneSatisfy(s -> assertThat((String) s.get("statement")).contains("phigate-approval"));
        assertThat(gateway.sink.violations).isEmpty();
    }

    @Test
    void aCommandWithItsOwnCommentIsReleasedWithTheMarkerBesideItAndReachesTheStoreAsItWasHeld() throws Exception {
        MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
        org.bson.BsonDocument own = new org.bson.BsonDocument("job", new org.bson.BsonString("ward-7 closure"));
        assertThatThrownBy(() -> patients.deleteMany(new Document(), new DeleteOptions().comment(own)))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("comment: {\"phigate-approval\": \"apr-", "comment: <the command's own comment>}"));
        ApprovalRequest r = gateway.approvals.all(ApprovalRequest.State.PENDING).getFirst();
        assertThat(r.text()).contains("ward-7 closure");
        gateway.approvals.decide(r.id(), HeldCommandsTest.APPROVER, true, "ward closed");

        // The string marker alone would drop the comment: a different command, refused, the approval unspent.
        assertThatThrownBy(() -> patients.deleteMany(new Document(), naming(r.id())))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("approval " + r.id() + " was granted for a different statement"));
        // Another comment beside the marker is another command too.
        assertThatThrownBy(() -> patients.deleteMany(new Document(), new DeleteOptions().comment(
                new org.bson.BsonDocument("phigate-approval", new org.bson.BsonString(r.id()))
                        .append("comment", new org.bson.BsonDocument("job", new org.bson.BsonString("other"))))))
                .isInstanceOf(MongoCommandException.class);
        assertThat(remaining("patients")).isEqualTo(2);

        int before = gateway.relay.messages.size();
        assertThat(patients.deleteMany(new Document(), new DeleteOptions().comment(new org.bson.BsonDocument(
                "phigate-approval", new org.bson.BsonString(r.id())).append("comment", own))).getDeletedCount())
                .isEqualTo(2);
        io.phigate.mongo.wire.WireMessage.OpMsg received = gateway.relay.messages.subList(before,
                gateway.relay.messages.size()).stream().filter(m -> m.body().getFirstKey().equals("delete"))
                .findFirst().orElseThrow();
        assertThat(received.body().getDocument("comment")).as("the store got the command's own comment back")
                .isEqualTo(own);
        assertThat(CommandRecords.approvalText(received)).as("the store ran the exact bytes approved")
                .isEqualTo(r.text());
        assertThat(gateway.sink.violations).isEmpty();
    }

    @Test
    void aCommandNamingNoApprovalOrAnUnknownOneIsRefusedAndNothingRuns() {
        MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
        assertThatThrownBy(() -> patients.deleteMany(new Document(), naming("no-such-request")))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("approval no-such-request does not exist"));
        assertThat(remaining("patients")).isEqualTo(2);
        // A marker on a command no rule holds is taken off and the command runs.
        assertThat(patients.deleteOne(new Document("mrn", "A1"), naming("whatever")).getDeletedCount())
                .isEqualTo(1);
    }

    /**
     * A statement naming its filter twice: the rules read one {@code q}, the store applies another. The gateway must
     * refuse it rather than judge a command the store does not run (here a wipe read as a one-patient delete).
     */
    @Test
    void aDeleteNamingItsFilterTwiceIsRefusedNotReadAsTheNarrowerOne() {
        org.bson.io.BasicOutputBuffer buffer = new org.bson.io.BasicOutputBuffer();
        try (org.bson.BsonBinaryWriter w = new org.bson.BsonBinaryWriter(buffer)) {
            w.writeStartDocument();
            w.writeString("delete", "patients");
            w.writeStartArray("deletes");
            w.writeStartDocument();
            w.writeName("q");
            w.writeStartDocument();
            w.writeString("mrn", "A1");
            w.writeEndDocument();
            w.writeInt32("limit", 0);
            w.writeName("q");
            w.writeStartDocument();
            w.writeEndDocument();
            w.writeEndDocument();
            w.writeEndArray();
            w.writeEndDocument();
        }
        org.bson.RawBsonDocument twice = new org.bson.RawBsonDocument(buffer.toByteArray());
        assertThatThrownBy(() -> client.getDatabase("clinic").runCommand(twice))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("duplicate"));
        assertThat(remaining("patients")).isEqualTo(2);
    }

    /**
     * The marker as the command's first field: the gateway first reads a command named {@code comment}, then, the
     * marker taken off, one named {@code hello}, {@code logout} or {@code saslStart}, which it answers itself or
     * refuses and must never forward to the store.
     */
    @Test
    void aMarkerInFrontOfTheCommandNameDoesNotSmuggleAnotherCommandToTheStore() {
        for (String name : List.of("hello", "logout", "saslStart", "whatsmyuri")) {
            Document smuggled = new Document("comment", "phigate-approval:x").append(name, 1);
            assertThatThrownBy(() -> client.getDatabase("admin").runCommand(smuggled))
                    .as(name).isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                            .contains("first field"));
        }
    }

    private static Document wipe(String key, Object value) {
        Document wipe = new Document("delete", "patients").append("deletes", List.of(new Document("q", new Document())
                .append("limit", 0)));
        return key == null ? wipe : wipe.append(key, value);
    }

    /**
     * A write inside a transaction is judged as any write; only a top-level string comment names an approval (one
     * in a filter, or a comment that is a document, releases nothing); and a retry of a spent approval is refused
     * whatever transaction number it carries, the number being outside the digest.
     */
    @Test
    void onlyATopLevelStringCommentNamesAnApprovalAndATransactionDoesNotSkipTheRule() throws Exception {
        com.mongodb.client.MongoDatabase clinic = client.getDatabase("clinic");
        assertThatThrownBy(() -> clinic.runCommand(wipe("startTransaction", true).append("autocommit", false)
                .append("txnNumber", 1L))).isInstanceOfSatisfying(MongoCommandException.class, e ->
                assertThat(e.getErrorMessage()).contains("requires approval"));
        assertThatThrownBy(() -> clinic.runCommand(wipe(null, null)))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("requires approval"));
        ApprovalRequest r = gateway.approvals.all(ApprovalRequest.State.PENDING).stream()
                .filter(p -> !p.text().contains("startTransaction")).findFirst().orElseThrow();
        gateway.approvals.decide(r.id(), HeldCommandsTest.APPROVER, true, "ward closed");
        String marker = "phigate-approval:" + r.id();

        Document inFilter = new Document("delete", "patients").append("deletes", List.of(new Document("q",
                new Document("$comment", marker)).append("limit", 0)));
        for (Document other : List.of(inFilter, wipe("comment", new Document("ticket", marker)))) {
            assertThatThrownBy(() -> clinic.runCommand(other)).isInstanceOfSatisfying(MongoCommandException.class,
                    e -> assertThat(e.getErrorMessage()).contains("requires approval"));
        }
        assertThat(remaining("patients")).isEqualTo(2);

        assertThat(clinic.runCommand(wipe("comment", marker)).get("n", Number.class).intValue()).isEqualTo(2);
        direct.getDatabase("clinic").getCollection("patients").insertOne(new Document("mrn", "C3"));
        assertThatThrownBy(() -> clinic.runCommand(wipe("comment", marker).append("txnNumber", 2L)))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage())
                        .contains("has been used"));
        assertThat(remaining("patients")).isEqualTo(1);
    }
}
