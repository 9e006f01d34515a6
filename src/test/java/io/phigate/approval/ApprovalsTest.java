package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.config.PolicyLoader;
import io.phigate.identity.Identity;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRules;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The rules for deciding and redeeming, without a gateway: separation of duties, counts, expiry, binding. */
class ApprovalsTest {
    static final String IDP = "https://login.hospital.example";
    static final Identity AGENT = new Identity("https://k8s", "system:serviceaccount:clinical:agent", null, "d", Map.of());
    static final Identity ALICE = human("alice");
    static final Identity BOB = human("bob");

    static Identity human(String name) {
        return new Identity(IDP, name, null, "d", Map.of("groups", "staff,phi-approvers"));
    }

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-11-25T10:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final List<AuditEvent> recorded = new ArrayList<>();
    final TestClock clock = new TestClock();
    final Approvals approvals;
    final Policy policy;

    ApprovalsTest() throws Exception {
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
        approvals = new Approvals(policy, new AuditSink() {
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
        }, clock);
    }

    ApprovalRequest open(String rule, Identity who, String text, List<String> params) throws Exception {
        var r = policy.rules().stream().filter(x -> x.name().equals(rule)).findFirst().orElseThrow();
        return approvals.open("s1", 1, who, "clinical", null, null, text, params,
                new RiskRules.Hit(r, Set.of("public.patients")), "bin/phigate approvals");
    }

    @Test
    void twoApproversAreTwoDistinctHumansNeverTheRequesterNorAServiceAccount() throws Exception {
        ApprovalRequest r = open("two", ALICE, "UPDATE patients SET x = 1", List.of());
        assertThatThrownBy(() -> approvals.decide(r.id(), ALICE, true, null)).hasMessageContaining("its own request");
        Identity robot = new Identity(IDP, "system:serviceaccount:ops:bot", null, "d", Map.of("groups", "phi-approvers"));
        assertThatThrownBy(() -> approvals.decide(r.id(), robot, true, null)).hasMessageContaining("service account");
        assertThatThrownBy(() -> approvals.decide(r.id(), new Identity("https://evil", "bob", null, "d",
                Map.of("groups", "phi-approvers")), true, null)).hasMessageContaining("not in approver group");
        approvals.decide(r.id(), BOB, true, "ok");
        assertThat(r.state()).isEqualTo(ApprovalRequest.State.PENDING);
        assertThatThrownBy(() -> approvals.decide(r.id(), BOB, true, "again")).hasMessageContaining("already decided");
        approvals.decide(r.id(), human("carol"), true, "ok");
        assertThat(r.state()).isEqualTo(ApprovalRequest.State.APPROVED);
        assertThat(r.outcome()).isCompletedWithValue(ApprovalRequest.State.APPROVED);
        assertThat(recorded).filteredOn(e -> e instanceof AuditEvent.ApprovalDecided).hasSize(2);
    }

    @Test
    void aDenialNeedsAReasonAndEndsTheRequest() throws Exception {
        ApprovalRequest r = open("two", AGENT, "UPDATE patients SET x = 1", List.of());
        assertThatThrownBy(() -> approvals.decide(r.id(), BOB, false, " ")).hasMessageContaining("needs a reason");
        approvals.decide(r.id(), BOB, false, "wrong ward");
        assertThat(r.state()).isEqualTo(ApprovalRequest.State.DENIED);
        assertThat(r.denialReason()).isEqualTo("wrong ward");
        assertThatThrownBy(() -> approvals.decide(r.id(), human("carol"), true, null)).hasMessageContaining("denied");
    }

    @Test
    void aTicketIsBoundToItsStatementParametersIdentityAndWindow() throws Exception {
        ApprovalRequest r = open("ticket", AGENT, "DELETE FROM patients WHERE id = $1", List.of("7"));
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", "DELETE FROM patients WHERE id = $1",
                List.of("7"), held("ticket"))).hasMessageContaining("pending");
        approvals.decide(r.id(), BOB, true, null);
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", "DELETE FROM patients WHERE id = $1",
                List.of("8"), held("ticket"))).hasMessageContaining("different statement or different parameters");
        assertThatThrownBy(() -> approvals.redeem(r.id(), ALICE, "clinical", "DELETE FROM patients WHERE id = $1",
                List.of("7"), held("ticket"))).hasMessageContaining("another identity");
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "billing", "DELETE FROM patients WHERE id = $1",
                List.of("7"), held("ticket"))).hasMessageContaining("another identity or upstream");
        clock.now = clock.now.plus(Duration.ofMinutes(6));
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", "DELETE FROM patients WHERE id = $1",
                List.of("7"), held("ticket"))).hasMessageContaining("expired");
        clock.now = clock.now.minus(Duration.ofMinutes(2));
        assertThat(approvals.redeem(r.id(), AGENT, "clinical", "  DELETE FROM patients WHERE id = $1 ; ",
                List.of("7"), held("ticket"))).isSameAs(r);
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", "DELETE FROM patients WHERE id = $1",
                List.of("7"), held("ticket"))).hasMessageContaining("used");
    }

    /** What the policy makes of a statement {@code rule} holds on public.patients, as a session finds it. */
    RiskRules.Hit held(String rule) {
        return new RiskRules.Hit(policy.rules().stream().filter(x -> x.name().equals(rule)).findFirst().orElseThrow(),
                Set.of("public.patients"));
    }

    @Test
    void aTicketReleasesOnlyWhatTheSameUnchangedRuleStillHoldsOverTheSameTables() throws Exception {
        String text = "DELETE FROM patients WHERE id = $1";
        ApprovalRequest r = open("ticket", AGENT, text, List.of("7"));
        approvals.decide(r.id(), BOB, true, null);
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", text, List.of("7"), held("two")))
                .hasMessageContaining("granted under rule \"ticket\", and rule \"two\" holds this statement now");
        var stricter = new io.phigate.policy.RiskRule("ticket", held("ticket").rule().when(),
                new io.phigate.policy.RiskRule.Approval("phi-approvers", 3, Duration.ofMinutes(10),
                        io.phigate.policy.RiskRule.Mode.TICKET, Duration.ofMinutes(5), 1), null);
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", text, List.of("7"),
                new RiskRules.Hit(stricter, Set.of("public.patients")))).hasMessageContaining("has changed since");
        assertThatThrownBy(() -> approvals.redeem(r.id(), AGENT, "clinical", text, List.of("7"),
                new RiskRules.Hit(held("ticket").rule(), Set.of("public.patients"), List.of("ssn"), null)))
                .hasMessageContaining("tables or PHI types");
        assertThat(approvals.redeem(r.id(), AGENT, "clinical", text, List.of("7"), held("ticket")))
                .as("the refusals above took no use").isSameAs(r);
    }

    @Test
    void anUndecidedTicketExpires() throws Exception {
        ApprovalRequest r = open("ticket", AGENT, "DELETE FROM patients", List.of());
        clock.now = clock.now.plus(Duration.ofMinutes(11));
        assertThat(approvals.get(r.id()).state()).isEqualTo(ApprovalRequest.State.EXPIRED);
        assertThatThrownBy(() -> approvals.decide(r.id(), BOB, true, null)).hasMessageContaining("expired");
        assertThat(recorded).filteredOn(e -> e instanceof AuditEvent.ApprovalDecided d
                && d.decision().equals("expired")).hasSize(1);
    }

    @Test
    void theHashSeparatesNullFromEmptyAndTextFromParameters() {
        assertThat(StatementHash.of("x", java.util.Arrays.asList((String) null)))
                .isNotEqualTo(StatementHash.of("x", List.of("")));
        assertThat(StatementHash.of("ab", List.of("c"))).isNotEqualTo(StatementHash.of("a", List.of("bc")));
        assertThat(StatementHash.of("select 1;", List.of())).isEqualTo(StatementHash.of(" select 1 ", List.of()));
    }
}
