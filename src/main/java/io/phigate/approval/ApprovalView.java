package io.phigate.approval;

import java.time.Instant;
import java.util.List;

/**
 * What one approver sees of an approval request ({@link Approvals#viewFor}): the statement and who asks and why,
 * the rule that fired, the tables, PHI types and row estimate, and the decisions so far. {@code parameters} are
 * masked per the viewer's own role; nothing else in it is a value read from the database. States and modes are
 * lower case ({@code pending}, {@code hold}). A stable public shape: the REST API, the CLI and the web console
 * all render it.
 *
 * @param rowEstimate the planner's estimate when the rule asked for one, else null
 */
public record ApprovalView(String id, String state, String rule, String mode, String group, int approversNeeded,
                           String sessionId, long statementId, String upstream, String requesterIssuer,
                           String requesterSubject, String role, String justification, String statement,
                           List<String> parameters, String statementSha256, List<String> tables,
                           List<String> phiTypes, Long rowEstimate, Instant createdAt, Instant expiresAt,
                           List<ApprovalRequest.Decision> decisions) {

    public ApprovalView {
        parameters = parameters == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
        tables = List.copyOf(tables);
        phiTypes = List.copyOf(phiTypes);
        decisions = List.copyOf(decisions);
    }

    /** Sizes only: a view carries a statement and (masked) parameters, which logs never show. */
    @Override
    public String toString() {
        return "ApprovalView[" + id + ", rule=" + rule + ", state=" + state + ", parameters=" + parameters.size() + "]";
    }
}
