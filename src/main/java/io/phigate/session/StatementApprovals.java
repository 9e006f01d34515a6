package io.phigate.session;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;

import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The approval of statements a risk rule holds: a ticket the agent named ({@code SET phigate.approval}) that fits
 * the exact statement releases it; otherwise a request is opened (durably recorded) and, in ticket mode, the
 * statement is refused with the request's id; in hold mode the client is told the id and the protocol side waits
 * for the decision ({@link Waiting}), the timeout, a cancel or a disconnect. Runs on the session's own thread.
 */
public final class StatementApprovals {
    /** How a protocol tells its client about a held statement and waits, watching its connection, for a decision. */
    public interface Waiting {
        /** Tells the client, before the wait, that its statement is held and where it is decided. */
        void notice(String message) throws IOException;

        /** Blocks until {@code r} is decided, expires or is withdrawn; throws when the client goes away. */
        ApprovalRequest.State await(ApprovalRequest r) throws IOException;
    }

    /** What became of a held statement: released ({@code used} says by which approval) or refused. */
    public record Verdict(AuditEvent used, Refusal refusal) {
    }

    private final String sessionId;
    private final Identity identity;
    private final String upstreamName;
    private final Role role;
    private final Approvals approvals;
    /** Base URL of the approvals API, named in the notice of a held statement; null without an HTTP listener. */
    private final String approvalsUrl;
    private final SessionMasking masking;
    /** The approval the agent named with {@code SET phigate.approval} (ticket mode), or null. */
    private String ticket;

    StatementApprovals(String sessionId, Identity identity, String upstreamName, Role role, Approvals approvals,
                       String approvalsUrl, SessionMasking masking) {
        this.sessionId = sessionId;
        this.identity = identity;
        this.upstreamName = upstreamName;
        this.role = role;
        this.approvals = approvals;
        this.approvalsUrl = approvalsUrl;
        this.masking = masking;
    }

    void ticket(String id) {
        ticket = id;
    }

    String ticket() {
        return ticket;
    }

    Verdict approve(Decision.Hold hold, String justification, Waiting waiting) throws IOException {
        StatementRequest request = hold.request();
        RiskRules.Hit hit = hold.rule();
        String ticketProblem = null;
        if (ticket != null) {
            try {
                ApprovalRequest r = approvals.redeem(ticket, identity, upstreamName, request.text(),
                        request.parameters(), hit);
                return new Verdict(approvals.usedEvent(r, sessionId, request.statementId()), null);
            } catch (Approvals.Refused e) {
                ticketProblem = e.getMessage();
            }
        }
        ApprovalRequest r;
        try {
            r = approvals.open(sessionId, request.statementId(), identity, upstreamName,
                    role == null ? null : role.name(), justification, request.text(), request.parameters(),
                    parameterSources(request), hit, approvalsUrl == null ? "bin/phigate approvals" : approvalsUrl);
        } catch (AuditUnavailableException e) {
            return refused(SqlStates.SYSTEM_IO_ERROR, "phigate refused the statement: the audit store cannot record"
                    + " its approval request (" + e.getMessage() + "); nothing was sent to the database");
        } catch (Approvals.Refused e) {
            return refused(SqlStates.CONFIGURATION_LIMIT_EXCEEDED, "phigate refused the statement: " + e.getMessage());
        }
        RiskRule.Approval how = hit.rule().approval();
        String approvers = how.approvers() == 1 ? "1 approver" : how.approvers() + " approvers";
        String decide = (approvalsUrl == null ? "" : approvalsUrl + r.id() + "/approve, or ")
                + "bin/phigate approvals approve " + r.id() + cliTarget() + " --token-file APPROVER_TOKEN_FILE";
        if (how.mode() == RiskRule.Mode.TICKET) {
            return refused(SqlStates.APPROVAL_REQUIRED, "phigate: rule \"" + hit.rule().name() + "\" requires approval"
                    + " by " + approvers + " of group \"" + how.group() + "\"; request " + r.id() + " is open until "
                    + r.expiresAt() + (ticketProblem == null ? "" : " (" + ticketProblem + ")")
                    + ". Once it is approved, send SET phigate.approval = '" + r.id() + "' and then the identical"
                    + " statement again. Approve: " + decide);
        }
        waiting.notice("phigate: rule \"" + hit.rule().name() + "\" holds this statement for approval by " + approvers
                + " of group \"" + how.group() + "\": request " + r.id() + ", waiting until " + r.expiresAt()
                + ". Approve: " + decide);
        return switch (waiting.await(r)) {
            case APPROVED -> {
                AuditEvent used = approvals.releaseHeld(r, sessionId, request.statementId());
                yield used != null ? new Verdict(used, null) : refused(SqlStates.INSUFFICIENT_PRIVILEGE,
                        "phigate: approval request " + r.id() + " has already been used");
            }
            case DENIED -> refused(SqlStates.INSUFFICIENT_PRIVILEGE, "phigate: approval request " + r.id()
                    + " was denied: " + r.denialReason());
            case EXPIRED -> refused(SqlStates.QUERY_CANCELED, "canceling statement: approval request " + r.id()
                    + " was not decided within " + how.timeout().toString().substring(2).toLowerCase(Locale.ROOT));
            case WITHDRAWN, PENDING -> refused(SqlStates.QUERY_CANCELED, "canceling statement due to user request"
                    + " (approval request " + r.id() + " withdrawn)");
        };
    }

    /**
     * Where each parameter of a held statement goes, so approvers see it masked as that column would be. Unknown
     * (so redacted for every approver) without a single analysis or a PHI catalog for this upstream.
     */
    private List<ApprovalRequest.ParameterSource> parameterSources(StatementRequest request) {
        StatementAnalysis analysis = request.single();
        if (analysis == null || masking == null || request.parameters().isEmpty()) {
            return List.of();
        }
        List<ApprovalRequest.ParameterSource> out = new ArrayList<>();
        for (io.phigate.sql.ColumnRef c : masking.parameterColumns(analysis)) {
            out.add(c == null ? ApprovalRequest.ParameterSource.UNKNOWN
                    : new ApprovalRequest.ParameterSource(c.toString(), masking.typeOf(c).orElse(null)));
        }
        return out;
    }

    private static Verdict refused(String sqlState, String message) {
        return new Verdict(null, new Refusal(sqlState, message));
    }

    /**
     * Where the CLI reaches this gateway's API, so that the pasted line works: {@code --url} with the API's base
     * (the approval link's scheme, host and port), or {@code --config FILE} when the gateway serves no API here.
     */
    private String cliTarget() {
        if (approvalsUrl == null) {
            return " --config PHIGATE_CONFIG";
        }
        java.net.URI u = java.net.URI.create(approvalsUrl);
        return " --url " + u.getScheme() + "://" + u.getRawAuthority();
    }
}
