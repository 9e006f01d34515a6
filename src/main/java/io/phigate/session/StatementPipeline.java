package io.phigate.session;

import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.identity.Identity;

import io.phigate.policy.Justifications;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.io.IOException;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * One session's statement pipeline, whichever wire protocol carries it: a {@link StatementRequest} goes in, a
 * {@link Decision} comes out (forward with the plan for its results, refuse, hold for approval, or answer locally),
 * with the audit records it implies. The scope, the risk rules, the masking rules that cannot be enforced on the way
 * back, the function allowlist and the predicate rule are {@link StatementRules}; approvals are
 * {@link StatementApprovals}; the settings the gateway keeps ({@code phigate.justification}, {@code phigate.approval})
 * live here. The protocol side translates its messages into requests and decisions into its frames, and keeps
 * what only it knows (prepared statements and portals, framing, the order of answers).
 *
 * <p>Runs on the session's own thread (the client reader); {@link #justification} may be read by others.
 */
public final class StatementPipeline {
    private final StatementRecords records;
    /** Null when no policy needs statements analysed (no PHI masked, no scope, no rule): everything is forwarded. */
    private final StatementRules rules;
    private final StatementApprovals approvals;
    private final ResultPlan plan;
    /** Numbers a refused request that had no number of its own (a Parse). */
    private final LongSupplier nextStatementId;
    /** Why the agent needs the data, as it last stated it (startup, credential exchange or SET); may be null. */
    private volatile String justification;

    StatementPipeline(StatementRecords records, StatementRules rules, StatementApprovals approvals, ResultPlan plan,
                      String justification, LongSupplier nextStatementId) {
        this.records = records;
        this.rules = rules;
        this.approvals = approvals;
        this.plan = plan;
        this.justification = justification;
        this.nextStatementId = nextStatementId;
    }

    /**
     * The pipeline of one session. {@code rules} (from {@link SessionPolicies}) null: nothing is judged;
     * {@code approvalsUrl}: the approvals API's base, named to the client of a held statement, or null.
     */
    public static StatementPipeline of(String sessionId, String clientAddress, String upstream, Identity identity,
                                       Role role, String justification, SessionMasking masking, StatementRules rules,
                                       Approvals approvals, String approvalsUrl, LongSupplier nextStatementId) {
        return new StatementPipeline(new StatementRecords(sessionId, clientAddress, upstream, identity, masking),
                rules, new StatementApprovals(sessionId, identity, upstream, role, approvals, approvalsUrl, masking),
                new ResultPlan(masking, role == null ? 0 : role.rowLimit()), justification,
                nextStatementId);
    }

    public StatementRecords records() {
        return records;
    }

    public String justification() {
        return justification;
    }

    /** True when statements are judged (and so must be analysed before they are forwarded). */
    public boolean judges() {
        return rules != null;
    }

    /** True when the request is one SET or RESET of a setting the gateway keeps: answered here, never forwarded. */
    public static boolean keptSetting(List<StatementAnalysis> analyses) {
        return analyses != null && analyses.size() == 1 && StatementRules.isGatewaySetting(analyses.getFirst());
    }

    /** A statement that runs now (a simple Query, or an Execute of a portal that is judged as it runs). */
    public Decision decide(StatementRequest request) {
        if (rules == null) {
            return forward(request);
        }
        if (keptSetting(request.analyses())) {
            return answerLocally(request);
        }
        Refusal refusal = rules.check(request.analyses(), justification);
        if (refusal != null) {
            return refuse(request, refusal);
        }
        RiskRules.Hit hit = rules.approvalFor(request.analyses());
        return hit != null ? new Decision.Hold(request, hit, plan, List.of(requested(request)))
                : forward(request);
    }

    /**
     * A statement prepared to run later (Parse). Refused now, or forwarded with no records of its own: it is
     * recorded when it runs. A {@link Decision.Hold} names the rule its runs need approval under; a kept setting is
     * only answered when it runs, so one in a request of several statements is refused.
     */
    public Decision prepare(StatementRequest request) {
        if (rules == null) {
            return new Decision.Forward(request, plan, List.of());
        }
        Refusal refusal = request.analyses().stream().anyMatch(StatementRules::isGatewaySetting)
                ? new Refusal(SqlStates.FEATURE_NOT_SUPPORTED, "send SET phigate.justification or phigate.approval"
                        + " as a statement of its own")
                : rules.check(request.analyses(), justification);
        if (refusal != null) {
            return refuse(request, refusal);
        }
        RiskRules.Hit hit = rules.approvalFor(request.analyses());
        return hit != null ? new Decision.Hold(request, hit, plan, List.of())
                : new Decision.Forward(request, plan, List.of());
    }

    /** A run of a statement judged when it was prepared: held under the rule found then ({@code rule}), or forwarded. */
    public Decision admit(StatementRequest request, RiskRules.Hit rule) {
        return rule != null ? new Decision.Hold(request, rule, plan, List.of(requested(request)))
                : forward(request);
    }

    /**
     * A call of a function named by an identifier only (PostgreSQL's fast-path FunctionCall), with no SQL to
     * analyse: judged by {@link StatementRules#checkFunctionCall}; never held.
     */
    public Decision callFunction(StatementRequest request, int functionOid) {
        Refusal refusal = rules == null ? null : rules.checkFunctionCall(functionOid, request.single(), justification);
        return refusal != null ? refuse(request, refusal) : forward(request);
    }

    /** A refusal the protocol side found (a name that does not exist, text that is not UTF-8), with its records. */
    public Decision.Refuse refuse(StatementRequest request, Refusal refusal) {
        StatementRequest numbered = request.statementId() == 0 ? request.numbered(nextStatementId.getAsLong())
                : request;
        return new Decision.Refuse(numbered, refusal, records.refused(requested(numbered), numbered.durationMicros(),
                refusal));
    }

    /**
     * The approval of a held statement, on the session's thread: released with the record of the approval it used,
     * or refused (ticket mode, denied, expired, withdrawn, the audit store unavailable).
     */
    public StatementApprovals.Verdict approve(Decision.Hold hold, StatementApprovals.Waiting waiting)
            throws IOException {
        return approvals.approve(hold, justification, waiting);
    }

    /** The request record of a statement the protocol side forwards without a decision of its own. */
    public AuditEvent.StatementRequested requested(StatementRequest r) {
        return records.requested(r.statementId(), r.protocol(), r.recorded(), r.parameters(), r.prepared(), r.portal(),
                justification, r.analyses());
    }

    private Decision forward(StatementRequest request) {
        return new Decision.Forward(request, plan, List.of(requested(request)));
    }

    /**
     * {@code SET phigate.justification} (checked as a justification is everywhere) or {@code SET phigate.approval}
     * (the ticket the next held statements redeem); {@code RESET} clears either. Kept here, recorded, never sent on.
     */
    private Decision answerLocally(StatementRequest request) {
        StatementAnalysis a = request.analyses().getFirst();
        String value = a.kind() == StatementKind.SET ? a.settingValue() : null;
        value = value == null || value.isBlank() ? null : value.strip();
        String what;
        if ("phigate.approval".equals(a.setting())) {
            approvals.ticket(value);
            what = "approval ticket " + (value == null ? "cleared" : "set");
        } else {
            String problem = value == null ? null : Justifications.problem(value);
            if (problem != null) {
                return refuse(request, new Refusal(SqlStates.INVALID_PARAMETER_VALUE, problem));
            }
            justification = value;
            what = "justification " + (value == null ? "cleared" : "set");
        }
        String tag = a.kind() == StatementKind.SET ? "SET" : "RESET";
        return new Decision.AnswerLocally(request, tag, records.answered(requested(request), request.durationMicros(),
                tag, what));
    }
}
