package io.phigate.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditConfig;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.config.PolicyLoader;
import io.phigate.identity.Identity;
import io.phigate.mask.SecretRef;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRules;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas' {@link Approvals} over one PostgreSQL store, in one JVM: the board counts each approver once
 * whichever replica it asks, one of two racing final approvals wins, a decision made on one replica wakes the
 * request held on the other, a ticket is redeemed once cluster-wide, and a replica that stops leaves its pending
 * requests to be expired on the record by another.
 */
class SharedApprovalsTest {
    static final String IDP = "https://login.hospital.example";
    static final Identity AGENT = new Identity("https://k8s", "system:serviceaccount:clinical:agent", null, "d", Map.of());
    static final PostgresCluster.Settings QUICK = new PostgresCluster.Settings(Duration.ofMillis(900),
            Duration.ofMillis(300));
    static final Cluster.Local NOTHING_HERE = new Cluster.Local() {
        @Override
        public List<PublishedSession> sessions() {
            return List.of();
        }

        @Override
        public boolean kill(String id) {
            return false;
        }

        @Override
        public void cancel(int processId, byte[] secret, String clientAddress) {
        }
    };

    static EmbeddedPostgres store;
    @TempDir
    static Path dir;
    static Policy policy;

    /** One replica: its cluster membership, its approvals and what it recorded. */
    record Replica(PostgresCluster cluster, Approvals approvals, List<AuditEvent> recorded) implements AutoCloseable {
        @Override
        public void close() {
            cluster.close();
        }
    }

    @BeforeAll
    static void startStore() throws Exception {
        store = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
        policy = PolicyLoader.parse("""
                approvers:
                  phi-approvers:
                    match: { issuer: "%s", claims: { groups: "phi-approvers" } }
                rules:
                  - name: two
                    when: { operations: [update] }
                    require_approval: { group: phi-approvers, approvers: 2, timeout: 10m }
                  - name: ticket
                    when: { operations: [delete] }
                    require_approval: { group: phi-approvers, timeout: 10m, mode: ticket, valid_for: 5m }
                """.formatted(IDP), Path.of("."), "policy.yaml");
    }

    @AfterAll
    static void stopStore() throws Exception {
        store.close();
    }

    static Identity human(String name) {
        return new Identity(IDP, name, null, "d", Map.of("groups", "phi-approvers"));
    }

    Replica replica(String name) throws Exception {
        return replica(name, Clock.systemUTC());
    }

    Replica replica(String name, Clock clock) throws Exception {
        Path password = dir.resolve("password");
        Files.writeString(password, "unused\n");
        AuditConfig config = new AuditConfig("postgres://postgres@localhost:" + store.getPort() + "/postgres", null,
                1024, Duration.ofSeconds(1), Duration.ofMillis(200), name, null, AuditConfig.DEFAULT_RESPONSE_CAP,
                new AuditConfig.Postgres("localhost", store.getPort(), "postgres", "postgres",
                        new SecretRef(null, password)));
        List<AuditEvent> recorded = new CopyOnWriteArrayList<>();
        AuditSink sink = new AuditSink() {
            @Override
            public CompletableFuture<Void> append(List<AuditEvent> events) {
                recorded.addAll(events);
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public void appendDurably(List<AuditEvent> events) {
                recorded.addAll(events);
            }

            @Override
            public void close() {
            }
        };
        PostgresCluster cluster = PostgresCluster.join(config, sink, QUICK);
        Approvals approvals = new Approvals(policy, sink, clock, null, cluster.approvals());
        cluster.start(approvals, NOTHING_HERE);
        return new Replica(cluster, approvals, recorded);
    }

    ApprovalRequest open(Approvals on, String rule, String text) throws Exception {
        var r = policy.rules().stream().filter(x -> x.name().equals(rule)).findFirst().orElseThrow();
        return on.open("s1", 1, AGENT, "clinical", null, null, text, List.of("7"),
                new RiskRules.Hit(r, Set.of("public.patients")), "bin/phigate approvals");
    }

    @Test
    void anApproverCountsOnceWhicheverReplicaItAsksAndOneOfTwoRacingFinalApprovalsWins() throws Exception {
        try (Replica a = replica("vote-a"); Replica b = replica("vote-b")) {
            ApprovalRequest held = open(a.approvals(), "two", "UPDATE patients SET ward = 3 WHERE id = $1");
            assertThat(b.approvals().all(ApprovalRequest.State.PENDING)).extracting(ApprovalRequest::id)
                    .contains(held.id());
            b.approvals().decide(held.id(), human("bob"), true, "ok");
            assertThatThrownBy(() -> a.approvals().decide(held.id(), human("bob"), true, "again"))
                    .hasMessageContaining("already decided");

            CompletableFuture<String> carol = CompletableFuture.supplyAsync(() -> vote(a, held.id(), "carol"));
            CompletableFuture<String> dave = CompletableFuture.supplyAsync(() -> vote(b, held.id(), "dave"));
            assertThat(List.of(carol.get(10, TimeUnit.SECONDS), dave.get(10, TimeUnit.SECONDS)))
                    .as("one final approval wins, the other finds the request approved")
                    .containsExactlyInAnyOrder("ok", "409 the request is approved");
            assertThat(held.outcome().get(5, TimeUnit.SECONDS)).isEqualTo(ApprovalRequest.State.APPROVED);
            assertThat(held.decisions()).hasSize(2);
            long decisions = a.recorded().stream().filter(e -> e instanceof AuditEvent.ApprovalDecided).count()
                    + b.recorded().stream().filter(e -> e instanceof AuditEvent.ApprovalDecided).count();
            assertThat(decisions).as("one record per counted vote, on the deciding replica's chain").isEqualTo(2);
        }
    }

    @Test
    void aDecisionOnOneReplicaWakesTheOtherAndATicketIsRedeemedOnceClusterWide() throws Exception {
        try (Replica a = replica("ticket-a"); Replica b = replica("ticket-b")) {
            String text = "DELETE FROM patients WHERE id = $1";
            ApprovalRequest r = open(a.approvals(), "ticket", text);
            b.approvals().decide(r.id(), human("bob"), true, null);
            assertThat(r.outcome().get(5, TimeUnit.SECONDS)).as("a's keeper took b's decision")
                    .isEqualTo(ApprovalRequest.State.APPROVED);
            assertThat(b.approvals().redeem(r.id(), AGENT, "clinical", text, List.of("7"),
                    new RiskRules.Hit(r.rule(), Set.of("public.patients"))).id()).isEqualTo(r.id());
            assertThatThrownBy(() -> a.approvals().redeem(r.id(), AGENT, "clinical", text, List.of("7"),
                    new RiskRules.Hit(r.rule(), Set.of("public.patients"))))
                    .hasMessageContaining("has been used");
        }
    }

    @Test
    void aVoteAfterTheRequestRanOutIsRefusedOnAnotherReplicaAndNothingIsRecorded() throws Exception {
        try (Replica a = replica("due-a");
             Replica later = replica("due-b", Clock.offset(Clock.systemUTC(), Duration.ofMinutes(11)))) {
            ApprovalRequest r = open(a.approvals(), "ticket", "DELETE FROM patients WHERE id = $1");
            assertThatThrownBy(() -> later.approvals().decide(r.id(), human("bob"), true, null))
                    .hasMessageContaining("expired");
            assertThat(later.recorded()).noneMatch(e -> e instanceof AuditEvent.ApprovalDecided);
        }
    }

    @Test
    void aStoppedReplicasPendingRequestIsExpiredOnTheRecordByAnother() throws Exception {
        try (Replica b = replica("lease-b")) {
            ApprovalRequest orphan;
            try (Replica a = replica("lease-a")) {
                orphan = open(a.approvals(), "two", "UPDATE patients SET ward = 4 WHERE id = $1");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (b.approvals().get(orphan.id()).state() == ApprovalRequest.State.PENDING
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(b.approvals().get(orphan.id()).state()).isEqualTo(ApprovalRequest.State.EXPIRED);
            assertThat(b.recorded()).filteredOn(e -> e instanceof AuditEvent.ApprovalDecided d
                    && d.approvalId().equals(orphan.id()) && d.decision().equals("expired")
                    && d.reason().contains("lease-a")).as("expired once, naming the replica that held it").hasSize(1);
        }
    }

    private static String vote(Replica on, String id, String who) {
        try {
            on.approvals().decide(id, human(who), true, "ok");
            return "ok";
        } catch (Approvals.Refused e) {
            return e.status() + " " + e.getMessage();
        }
    }
}
