package io.phigate.session;


import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditSink;
import io.phigate.config.PolicyLoader;
import io.phigate.identity.Identity;
import io.phigate.mask.Scrubber;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The session pipeline without a socket or a database: an in-memory catalog, an in-memory audit sink, and a policy
 * read from YAML. Each test sends a statement request in and asserts the decision that comes out, and the audit
 * records it implies, as a protocol (PostgreSQL today, a document store next) would act on them.
 */
class StatementPipelineTest {
    static final String ISSUER = "https://issuer.example";
    static final Identity AGENT = new Identity(ISSUER, "system:serviceaccount:clinical:agent", null, "d", Map.of());
    static final Identity REVIEWER = new Identity(ISSUER, "alice@hospital.example", null, "d",
            Map.of("groups", "reviewers"));
    static final PgCatalog CATALOG = PgCatalog.builder().searchPath("public")
            .table(16_401, "public", "patients", "id", "mrn", "name", "ssn")
            .table(16_402, "public", "secrets", "x")
            .builtins("lower", "count", "query_to_xml")
            .build();
    static final Policy POLICY = policy("""
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
                  public.patients.mrn: mrn
            roles:
              - name: agent
                match: { issuer: "%1$s", subject: "system:serviceaccount:clinical:agent" }
                upstreams: [clinical]
                allow:
                  - { tables: ["public.patients"], operations: [select, update, delete, truncate, copy] }
                row_limit: 100
              - name: careful
                match: { issuer: "%1$s", subject: "careful" }
                upstreams: [clinical]
                allow:
                  - { tables: ["public.patients"], operations: [select] }
                justification: required
            approvers:
              reviewers:
                match: { issuer: "%1$s", claims: { groups: reviewers } }
            rules:
              - name: no-truncate
                when: { operations: [truncate] }
                deny: "truncation is for the DBA team"
              - name: deletes
                when: { operations: [delete] }
                require_approval: { group: reviewers, timeout: 10m }
              - name: updates
                when: { operations: [update] }
                require_approval: { group: reviewers, timeout: 10m, mode: ticket }
            """.formatted(ISSUER));

    private final List<AuditEvent> audited = new ArrayList<>();
    private final Approvals approvals = new Approvals(POLICY, new InMemoryAudit(audited), Clock.systemUTC());
    private final SqlAnalyzer analyzer = new SqlAnalyzer(CATALOG, 0);
    private final AtomicLong ids = new AtomicLong();

    private static Policy policy(String yaml) {
        try {
            return PolicyLoader.parse(yaml, Path.of("."), "policy.yaml");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Role role(String name) {
        return POLICY.roles().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    private StatementPipeline pipeline(String roleName, String justification) throws IOException {
        SessionPolicies policies = new SessionPolicies(POLICY, upstream -> { }, null, detection -> Scrubber.NONE,
                SessionPolicies::scope);
        Role role = role(roleName);
        SessionPolicies.Setup setup = policies.forSession("clinical", () -> analyzer, role, s -> -1L);
        return StatementPipeline.of("s1", "10.0.0.7", "clinical", AGENT, role, justification, setup.masking(),
                setup.rules(), approvals, "https://phigate.example/api/v1/approvals/", ids::incrementAndGet);
    }

    private StatementRequest run(String sql) {
        return StatementRequest.run(ids.incrementAndGet(), Protocol.SIMPLE, sql, analyzer.analyze(sql));
    }

    private static AuditEvent.StatementRequested requested(Decision d) {
        return (AuditEvent.StatementRequested) d.records().getFirst();
    }

    private static AuditEvent.StatementCompleted completed(Decision d) {
        assertThat(d.records()).hasSize(2);
        return (AuditEvent.StatementCompleted) d.records().get(1);
    }

    @Test
    void aTableOutsideTheRolesScopeIsRefusedAndRecordedAsRefused() throws IOException {
        Decision d = pipeline("agent", null).decide(run("SELECT x FROM secrets"));

        assertThat(d).isInstanceOf(Decision.Refuse.class);
        Refusal why = ((Decision.Refuse) d).refusal();
        assertThat(why.sqlState()).isEqualTo("42501");
        assertThat(why.message()).contains("secrets");
        assertThat(requested(d).text()).isEqualTo("SELECT x FROM secrets");
        assertThat(requested(d).tables()).containsExactly("public.secrets");
        assertThat(completed(d).outcome()).isEqualTo(AuditEvent.Outcome.REFUSED);
        assertThat(completed(d).sqlState()).isEqualTo("42501");
        assertThat(completed(d).statementId()).isEqualTo(requested(d).statementId());
    }

    @Test
    void aDenyRuleRefusesNamingTheRuleAndItsReason() throws IOException {
        Decision d = pipeline("agent", null).decide(run("TRUNCATE patients"));

        assertThat(d).isInstanceOf(Decision.Refuse.class);
        assertThat(((Decision.Refuse) d).refusal().message())
                .isEqualTo("refused by phigate rule \"no-truncate\": truncation is for the DBA team");
        assertThat(completed(d).masking()).startsWith("refused: refused by phigate rule \"no-truncate\"");
    }

    @Test
    void aHoldModeRuleHoldsTheExactStatementUntilAnApproverReleasesIt() throws IOException {
        StatementPipeline pipeline = pipeline("agent", "cleanup ticket 7");
        StatementRequest request = run("DELETE FROM patients WHERE id = 1");
        Decision d = pipeline.decide(request);

        assertThat(d).isInstanceOf(Decision.Hold.class);
        Decision.Hold hold = (Decision.Hold) d;
        assertThat(hold.rule().rule().name()).isEqualTo("deletes");
        assertThat(hold.request().text()).isEqualTo("DELETE FROM patients WHERE id = 1");
        assertThat(d.records()).containsExactly(requested(d));
        assertThat(requested(d).justification()).isEqualTo("cleanup ticket 7");

        List<String> notices = new ArrayList<>();
        StatementApprovals.Verdict verdict = pipeline.approve(hold, new StatementApprovals.Waiting() {
            @Override
            public void notice(String message) {
                notices.add(message);
            }

            @Override
            public ApprovalRequest.State await(ApprovalRequest r) {
                assertThat(r.text()).isEqualTo("DELETE FROM patients WHERE id = 1");
                try {
                    approvals.decide(r.id(), REVIEWER, true, "ok");
                } catch (Approvals.Refused e) {
                    throw new AssertionError(e);
                }
                return r.outcome().join();
            }
        });

        assertThat(verdict.refusal()).isNull();
        assertThat(verdict.used()).isNotNull();
        assertThat(notices).singleElement().asString().contains("rule \"deletes\" holds this statement")
                .contains("https://phigate.example/api/v1/approvals/");
        // The request was recorded durably before anyone was told of it.
        assertThat(audited).anyMatch(e -> e instanceof AuditEvent.ApprovalRequested);
    }

    @Test
    void aTicketModeRuleRefusesWithTheRequestAndTheApprovedTicketReleasesTheIdenticalStatement() throws IOException {
        StatementPipeline pipeline = pipeline("agent", null);
        Decision.Hold first = (Decision.Hold) pipeline.decide(run("UPDATE patients SET name = 'x' WHERE id = 2"));
        StatementApprovals.Verdict refused = pipeline.approve(first, NEVER_WAITS);
        assertThat(refused.refusal().sqlState()).isEqualTo(SqlStates.APPROVAL_REQUIRED);
        ApprovalRequest opened = approvals.all(ApprovalRequest.State.PENDING).getFirst();
        assertThat(refused.refusal().message()).contains(opened.id()).contains("SET phigate.approval");

        try {
            approvals.decide(opened.id(), REVIEWER, true, "fine");
        } catch (Approvals.Refused e) {
            throw new AssertionError(e);
        }
        Decision set = pipeline.decide(run("SET phigate.approval = '" + opened.id() + "'"));
        assertThat(set).isInstanceOf(Decision.AnswerLocally.class);
        assertThat(completed(set).masking()).isEqualTo("intercepted by phigate: approval ticket set");

        Decision.Hold again = (Decision.Hold) pipeline.decide(run("UPDATE patients SET name = 'x' WHERE id = 2"));
        StatementApprovals.Verdict released = pipeline.approve(again, NEVER_WAITS);
        assertThat(released.refusal()).isNull();
        assertThat(released.used()).isNotNull();
    }

    @Test
    void aFunctionOutsideTheAllowlistIsRefusedNamingThePolicyKey() throws IOException {
        Decision d = pipeline("agent", null).decide(run("SELECT query_to_xml('select ssn from patients', true, true, '')"));

        assertThat(d).isInstanceOf(Decision.Refuse.class);
        assertThat(((Decision.Refuse) d).refusal().message()).contains("query_to_xml")
                .contains("phi.clinical.functions");
    }

    @Test
    void aMaskedColumnInAPredicateIsRefusedNamingTheLookupGrant() throws IOException {
        Decision d = pipeline("agent", null).decide(run("SELECT id FROM patients WHERE ssn = '123-45-6789'"));

        assertThat(d).isInstanceOf(Decision.Refuse.class);
        assertThat(((Decision.Refuse) d).refusal().message()).contains("ssn").contains("lookup");
    }

    @Test
    void keptSettingsAreAnsweredLocallyAndTheJustificationJoinsLaterRecords() throws IOException {
        StatementPipeline pipeline = pipeline("careful", null);
        Decision before = pipeline.decide(run("SELECT id FROM patients"));
        assertThat(((Decision.Refuse) before).refusal().message()).contains("requires a justification");

        Decision set = pipeline.decide(run("SET phigate.justification = 'chart review 12'"));

        assertThat(set).isInstanceOf(Decision.AnswerLocally.class);
        assertThat(((Decision.AnswerLocally) set).commandTag()).isEqualTo("SET");
        assertThat(completed(set).outcome()).isEqualTo(AuditEvent.Outcome.OK);
        assertThat(completed(set).masking()).isEqualTo("intercepted by phigate: justification set");
        assertThat(pipeline.justification()).isEqualTo("chart review 12");
        Decision after = pipeline.decide(run("SELECT id FROM patients"));
        assertThat(after).isInstanceOf(Decision.Forward.class);
        assertThat(requested(after).justification()).isEqualTo("chart review 12");

        Decision bad = pipeline.decide(run("SET phigate.justification = 'two\nlines'"));
        assertThat(((Decision.Refuse) bad).refusal().sqlState()).isEqualTo(SqlStates.INVALID_PARAMETER_VALUE);
        assertThat(pipeline.justification()).isEqualTo("chart review 12");
    }

    @Test
    void aReadOfPhiIsForwardedWithTheMaskingPlanAndTheRowLimit() throws IOException {
        Decision d = pipeline("agent", null).decide(run("SELECT name, ssn FROM patients"));

        assertThat(d).isInstanceOf(Decision.Forward.class);
        ResultPlan plan = ((Decision.Forward) d).plan();
        assertThat(plan.masking().masksPhi()).isTrue();
        assertThat(plan.rowLimit()).isEqualTo(100);
        assertThat(d.records()).singleElement();
        assertThat(requested(d).phiColumns()).containsEntry("public.patients.ssn", "ssn");
        assertThat(requested(d).clientAddress()).isEqualTo("10.0.0.7");
        assertThat(requested(d).subject()).isEqualTo(AGENT.subject());
    }

    @Test
    void aPreparedStatementIsRecordedOnlyWhenRefusedAndItsApprovalRuleIsKeptForItsRuns() throws IOException {
        StatementPipeline pipeline = pipeline("agent", null);
        Decision held = pipeline.prepare(StatementRequest.prepared(Protocol.EXTENDED, "DELETE FROM patients WHERE id = $1",
                analyzer.analyze("DELETE FROM patients WHERE id = $1")));
        assertThat(held).isInstanceOf(Decision.Hold.class);
        assertThat(held.records()).isEmpty();

        Decision refused = pipeline.prepare(StatementRequest.prepared(Protocol.EXTENDED, "SELECT x FROM secrets",
                analyzer.analyze("SELECT x FROM secrets")));
        assertThat(refused.request().statementId()).isEqualTo(ids.get());
        assertThat(completed(refused).outcome()).isEqualTo(AuditEvent.Outcome.REFUSED);

        Decision mixed = pipeline.prepare(StatementRequest.prepared(Protocol.EXTENDED,
                "SET phigate.justification = 'x'; SELECT 1", analyzer.analyze("SET phigate.justification = 'x'; SELECT 1")));
        assertThat(((Decision.Refuse) mixed).refusal().sqlState()).isEqualTo(SqlStates.FEATURE_NOT_SUPPORTED);
    }

    @Test
    void aFunctionCallByIdentifierOnlyIsRefusedToASessionThatSeesPhiMaskedWithItsArgumentsRecorded()
            throws IOException {
        String text = "-- function call: oid 764";
        StatementRequest call = new StatementRequest(ids.incrementAndGet(), System.nanoTime(), Protocol.FUNCTION_CALL,
                text, List.of("42"), null, null, List.of(StatementAnalysis.unparsed(text, "a fast-path call")));

        Decision d = pipeline("agent", null).callFunction(call, 764);

        assertThat(((Decision.Refuse) d).refusal().message()).contains("names its function by OID");
        assertThat(requested(d).parameters()).containsExactly("42");
        assertThat(requested(d).protocol()).isEqualTo(Protocol.FUNCTION_CALL);
    }

    @Test
    void aRunOfAStatementJudgedAtPrepareIsHeldUnderTheRuleFoundThenWithItsParametersBound() throws IOException {
        StatementPipeline pipeline = pipeline("agent", null);
        List<StatementAnalysis> delete = analyzer.analyze("DELETE FROM patients WHERE id = $1");
        Decision.Hold prepared = (Decision.Hold) pipeline.prepare(StatementRequest.prepared(Protocol.EXTENDED,
                "DELETE FROM patients WHERE id = $1", delete));
        StatementRequest execute = new StatementRequest(ids.incrementAndGet(), System.nanoTime(), Protocol.EXTENDED,
                "DELETE FROM patients WHERE id = $1", List.of("7"), "s1", "", delete);

        Decision run = pipeline.admit(execute, prepared.rule());

        assertThat(run).isInstanceOf(Decision.Hold.class);
        assertThat(run.request().parameters()).containsExactly("7");
        assertThat(requested(run).preparedName()).isEqualTo("s1");
        assertThat(pipeline.admit(execute, null)).isInstanceOf(Decision.Forward.class);
    }

    @Test
    void aSessionThatJudgesNothingForwardsEverythingWithItsRecord() {
        StatementPipeline pipeline = StatementPipeline.of("s2", "10.0.0.8", "plain", AGENT, null, null, null, null,
                approvals, null, ids::incrementAndGet);
        StatementRequest request = StatementRequest.run(1, Protocol.SIMPLE, "DELETE FROM anything", null);

        Decision d = pipeline.decide(request);

        assertThat(pipeline.judges()).isFalse();
        assertThat(d).isInstanceOf(Decision.Forward.class);
        assertThat(((Decision.Forward) d).plan().masking()).isNull();
        assertThat(requested(d).tables()).isNull();
        assertThat(requested(d).text()).isEqualTo("DELETE FROM anything");
    }

    private static final StatementApprovals.Waiting NEVER_WAITS = new StatementApprovals.Waiting() {
        @Override
        public void notice(String message) {
            throw new AssertionError("a ticket-mode statement is never held: " + message);
        }

        @Override
        public ApprovalRequest.State await(ApprovalRequest r) {
            throw new AssertionError("a ticket-mode statement is never held");
        }
    };

    /** The audit store as a list: every append is durable at once. */
    record InMemoryAudit(List<AuditEvent> events) implements AuditSink {
        @Override
        public java.util.concurrent.CompletableFuture<Void> append(List<AuditEvent> batch) {
            events.addAll(batch);
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }

        @Override
        public void appendDurably(List<AuditEvent> batch) {
            events.addAll(batch);
        }

        @Override
        public void close() {
        }
    }
}
