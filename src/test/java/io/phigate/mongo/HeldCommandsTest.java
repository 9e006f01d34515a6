package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.phigate.approval.ApprovalRequest;
import io.phigate.identity.Identity;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.sql.Operation;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Risky commands held inside the connection for approval, through the approval package as PostgreSQL statements
 * are: a drop waits for a human, and runs only once approved; a delete with an empty filter denied never runs.
 */
class HeldCommandsTest {
    static final Identity APPROVER = new Identity("https://issuer.test", "alice@hospital.example",
            Instant.now().plusSeconds(3600), "digest", Map.of());

    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient direct;

    @BeforeEach
    void start() throws Exception {
        RiskRule.Approval hold = new RiskRule.Approval("stewards", 1, Duration.ofSeconds(20), RiskRule.Mode.HOLD,
                null, 1);
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(),
                Map.of("stewards", new Policy.ApproverGroup(new Match(null, "*@hospital.example", Map.of()), null)),
                List.of(new RiskRule("drops", new RiskRule.When(Set.of(Operation.DDL), List.of("clinic.*"), List.of(),
                                false, false, List.of()), hold, null),
                        new RiskRule("everything", new RiskRule.When(Set.of(Operation.DELETE, Operation.UPDATE),
                                List.of(), List.of(), true, false, List.of()), hold, null)));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(DocumentCatalog.EMPTY, policy, null));
        direct = MongoClients.create("mongodb://127.0.0.1:" + gateway.storeAddress.getPort());
        direct.getDatabase("clinic").getCollection("patients").insertMany(List.of(new Document("mrn", "A1"),
                new Document("mrn", "B2")));
    }

    @AfterEach
    void stop() throws Exception {
        direct.close();
        gateway.close();
    }

    private MongoClient connect() throws Exception {
        return gateway.driver("serverSelectionTimeoutMS=5000&connectTimeoutMS=5000&retryWrites=false");
    }

    /** The one pending request, once the held command has opened it. */
    private ApprovalRequest pending() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<ApprovalRequest> open = gateway.approvals.all(ApprovalRequest.State.PENDING);
            if (!open.isEmpty()) {
                return open.getFirst();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no approval request was opened");
    }

    @Test
    void aDropWaitsForItsApprovalAndRunsOnlyThen() throws Exception {
        try (MongoClient client = connect()) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            CompletableFuture<Void> drop = CompletableFuture.runAsync(patients::drop);

            ApprovalRequest r = pending();
            assertThat(r.text()).startsWith("{\"drop\": \"patients\"");
            assertThat(r.tables()).contains("clinic.patients");
            Thread.sleep(300);
            assertThat(drop).isNotDone();
            assertThat(direct.getDatabase("clinic").listCollectionNames().into(new ArrayList<>()))
                    .contains("patients");

            gateway.approvals.decide(r.id(), APPROVER, true, "end of study");
            drop.get(10, TimeUnit.SECONDS);
        }
        assertThat(direct.getDatabase("clinic").listCollectionNames().into(new ArrayList<>()))
                .doesNotContain("patients");
        assertThat(gateway.sink.violations).isEmpty();
        assertThat(gateway.auditEventually("kind = 'approval_decided'", 2)).extracting(r -> r.get("detail"))
                .anySatisfy(d -> assertThat(String.valueOf(d)).contains("\"used\""));
    }

    @Test
    void aDeleteOfEveryDocumentThatIsDeniedNeverRuns() throws Exception {
        try (MongoClient client = connect()) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            CompletableFuture<Long> delete = CompletableFuture.supplyAsync(() ->
                    patients.deleteMany(new Document()).getDeletedCount());

            ApprovalRequest r = pending();
            gateway.approvals.decide(r.id(), APPROVER, false, "not during rounds");

            assertThatThrownBy(() -> delete.get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(MongoCommandException.class, e ->
                            assertThat(e.getErrorMessage()).contains(r.id(), "denied", "not during rounds"));
            // A filtered delete is no rule's business.
            assertThat(patients.deleteOne(new Document("mrn", "B2")).getDeletedCount()).isEqualTo(1);
        }
        assertThat(direct.getDatabase("clinic").getCollection("patients").countDocuments()).isEqualTo(1);
    }

    /**
     * Decision 0076: a held command is woken by its decision, not found decided at the next 250 ms look at the
     * client's socket; the connection goes on reading its next commands after the hold, and a client that goes away
     * while held still withdraws its request.
     */
    @Test
    void aHeldCommandRunsAsSoonAsItIsDecidedAndTheConnectionGoesOn() throws Exception {
        long waited = 0;
        int holds = 5;
        try (MongoClient client = connect()) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            for (int i = 0; i < holds; i++) {
                CompletableFuture<Long> update = CompletableFuture.supplyAsync(() ->
                        patients.updateMany(new Document(), new Document("$set", new Document("seen", 1)))
                                .getMatchedCount());
                ApprovalRequest r = pending();
                gateway.approvals.decide(r.id(), APPROVER, true, "rounds");
                long decided = System.nanoTime(); // once decide has recorded the decision and completed the request
                assertThat(update.get(10, TimeUnit.SECONDS)).isEqualTo(2);
                waited += System.nanoTime() - decided;
                assertThat(patients.countDocuments(new Document("mrn", "A1"))).isEqualTo(1);
            }
        }
        // Measured: 384 ms on average while the wait looked at the socket every 250 ms, 6 ms woken.
        assertThat(waited / holds / 1_000_000).as("mean milliseconds from decision to reply").isLessThan(200);

        try (RawMongoClient raw = new RawMongoClient(gateway)) {
            raw.authenticate(gateway.token());
            raw.command("{drop: 'patients', $db: 'clinic'}");
            ApprovalRequest r = pending();
            raw.close();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (gateway.approvals.all(ApprovalRequest.State.PENDING).contains(r) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(gateway.approvals.all(ApprovalRequest.State.PENDING)).doesNotContain(r);
        }
    }

    /**
     * Attacker's read of 0076: the watch of the client's socket ends at the first byte the client sends during the
     * hold (it cannot read further without taking the next command), so a session ended from outside after that
     * byte was never woken: its held command stayed pending, and an approval given later ran it upstream for a
     * session the administrator had ended. Ending the session now wakes the hold itself.
     */
    @Test
    void aHeldCommandOfASessionEndedFromOutsideNeverRunsEvenOnceItsClientHasSentMore() throws Exception {
        try (RawMongoClient raw = new RawMongoClient(gateway)) {
            raw.authenticate(gateway.token());
            raw.command("{drop: 'patients', $db: 'clinic'}");
            raw.command("{ping: 1, $db: 'admin'}"); // pipelined: the watcher sees its first byte and stops watching
            ApprovalRequest r = pending();
            Thread.sleep(200);
            gateway.sessions.list().forEach(s -> s.terminate("57P01", "ended by an administrator"));

            long deadline = System.nanoTime() + 5_000_000_000L;
            while (gateway.approvals.all(ApprovalRequest.State.PENDING).contains(r) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            boolean stillPending = gateway.approvals.all(ApprovalRequest.State.PENDING).contains(r);
            if (stillPending) {
                gateway.approvals.decide(r.id(), APPROVER, true, "approved without knowing the session ended");
                Thread.sleep(1_000);
            }
            assertThat(direct.getDatabase("clinic").listCollectionNames().into(new ArrayList<>()))
                    .as("the held drop of the ended session ran").contains("patients");
            assertThat(stillPending).as("the held request of the ended session is still pending").isFalse();
        }
    }

    /**
     * Attacker's read of 0076: the watcher reads the first byte of a command the client pipelines behind a held one
     * and puts it back; the connection must then read that command whole, judged like any other, after the hold.
     */
    @Test
    void aCommandPipelinedBehindAHeldOneIsReadWholeAfterTheHold() throws Exception {
        try (RawMongoClient raw = new RawMongoClient(gateway)) {
            raw.authenticate(gateway.token());
            int drop = raw.command("{drop: 'patients', $db: 'clinic'}");
            ApprovalRequest r = pending();
            Thread.sleep(200); // the watcher is blocked in its read when the next command arrives
            int count = raw.command("{count: 'patients', query: {}, $db: 'clinic'}");
            Thread.sleep(200);
            gateway.approvals.decide(r.id(), APPROVER, true, "end of study");

            assertThat(raw.reply(drop).getDouble("ok").getValue()).isEqualTo(1.0);
            assertThat(raw.reply(count).getInt32("n").getValue()).isZero();
        }
    }
}
