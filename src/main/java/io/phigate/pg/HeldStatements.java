package io.phigate.pg;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;
import io.phigate.session.SessionMasking;
import io.phigate.pg.frontend.ClientHandshake.Channel;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.MessageCodec;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Statements a risk rule holds for approval: a ticket the agent named is redeemed, or a request is opened and, in
 * hold mode, the client reader blocks here until it is decided, expires, or the client cancels or goes away.
 * Nothing goes upstream meanwhile. Runs on the client reader; {@link #held} is read by the thread that forwards a
 * client's cancel.
 */
final class HeldStatements {
    /**
     * Ticket mode: the statement needs approval and a request was opened; retry once approved. A class of its own
     * ("PA", phigate approval), so an agent can tell it from every error PostgreSQL raises.
     */
    static final String APPROVAL_REQUIRED = "PA001";
    static final String QUERY_CANCELED = "57014";
    static final String CONFIGURATION_LIMIT_EXCEEDED = "53400";
    /** How often a held statement's thread looks at the client socket (and notices a cancel). */
    private static final int HOLD_POLL_MILLIS = 100;

    /** What became of a statement that needed approval: released (with the record saying so) or refused. */
    record Verdict(AuditEvent used, StatementGate.Refusal refusal) {
    }

    private final String sessionId;
    private final Identity identity;
    private final String upstreamName;
    private final Role role;
    private final Approvals approvals;
    /** Base URL of the approvals API, named in the notice of a held statement; null without an HTTP listener. */
    private final String approvalsUrl;
    private final SessionMasking masking;
    private final Channel client;
    private final Exchange exchange;
    private final Supplier<String> justification;
    private final BooleanSupplier closing;
    /** The approval the agent named with {@code SET phigate.approval} (ticket mode), or null. */
    private String approvalTicket;
    /** The request the client reader is blocked on, so that a client's cancel can withdraw it. */
    private volatile ApprovalRequest held;

    HeldStatements(String sessionId, Identity identity, String upstreamName, Role role, Approvals approvals,
                   String approvalsUrl, SessionMasking masking, Channel client, Exchange exchange,
                   Supplier<String> justification, BooleanSupplier closing) {
        this.sessionId = sessionId;
        this.identity = identity;
        this.upstreamName = upstreamName;
        this.role = role;
        this.approvals = approvals;
        this.approvalsUrl = approvalsUrl;
        this.masking = masking;
        this.client = client;
        this.exchange = exchange;
        this.justification = justification;
        this.closing = closing;
    }

    /** {@code SET phigate.approval}: the ticket the next statements that need approval redeem; null clears it. */
    void ticket(String id) {
        approvalTicket = id;
    }

    /** True while the client reader waits for a decision. */
    boolean holding() {
        return held != null;
    }

    /** A client's cancel: withdraws the statement being held, if any. */
    boolean withdraw(String why) {
        ApprovalRequest h = held;
        if (h == null) {
            return false;
        }
        approvals.withdraw(h, why);
        return true;
    }

    /**
     * The approval of one statement. A ticket the agent named that fits this exact statement releases it at once;
     * otherwise a request is opened (durably recorded) and, in ticket mode, the statement is refused with the
     * request's id; in hold mode the client is told the id in a NoticeResponse and this thread waits for the
     * decision, the timeout, a cancel or a disconnect. Nothing goes upstream meanwhile.
     */
    Verdict approval(StatementRun run, String text, List<String> parameters, StatementAnalysis analysis,
                             RiskRules.Hit hit) throws IOException {
        String ticketProblem = null;
        if (approvalTicket != null) {
            try {
                ApprovalRequest r = approvals.redeem(approvalTicket, identity, upstreamName, text, parameters);
                return new Verdict(approvals.usedEvent(r, sessionId, run.id), null);
            } catch (Approvals.Refused e) {
                ticketProblem = e.getMessage();
            }
        }
        ApprovalRequest r;
        try {
            r = approvals.open(sessionId, run.id, identity, upstreamName, role == null ? null : role.name(), justification.get(),
                    text, parameters, parameterSources(analysis), hit,
                    approvalsUrl == null ? "bin/phigate approvals" : approvalsUrl);
        } catch (AuditUnavailableException e) {
            return refused(ErrorCodes.SYSTEM_IO_ERROR, "phigate refused the statement: the audit store cannot record"
                    + " its approval request (" + e.getMessage() + "); nothing was sent to the database");
        } catch (Approvals.Refused e) {
            return refused(CONFIGURATION_LIMIT_EXCEEDED, "phigate refused the statement: " + e.getMessage());
        }
        RiskRule.Approval how = hit.rule().approval();
        String approvers = how.approvers() == 1 ? "1 approver" : how.approvers() + " approvers";
        String decide = (approvalsUrl == null ? "" : approvalsUrl + r.id() + "/approve, or ")
                + "bin/phigate approvals approve " + r.id() + cliTarget() + " --token-file APPROVER_TOKEN_FILE";
        if (how.mode() == RiskRule.Mode.TICKET) {
            return refused(APPROVAL_REQUIRED, "phigate: rule \"" + hit.rule().name() + "\" requires approval by "
                    + approvers + " of group \"" + how.group() + "\"; request " + r.id() + " is open until "
                    + r.expiresAt() + (ticketProblem == null ? "" : " (" + ticketProblem + ")")
                    + ". Once it is approved, send SET phigate.approval = '" + r.id() + "' and then the identical"
                    + " statement again. Approve: " + decide);
        }
        exchange.respondLocally(MessageCodec.encode(ErrorCodes.notice("phigate: rule \"" + hit.rule().name()
                + "\" holds this statement for approval by " + approvers + " of group \"" + how.group()
                + "\": request " + r.id() + ", waiting until " + r.expiresAt() + ". Approve: " + decide)));
        return switch (hold(r)) {
            case APPROVED -> new Verdict(approvals.releaseHeld(r, sessionId, run.id), null);
            case DENIED -> refused(ErrorCodes.INSUFFICIENT_PRIVILEGE, "phigate: approval request " + r.id()
                    + " was denied: " + r.denialReason());
            case EXPIRED -> refused(QUERY_CANCELED, "canceling statement: approval request " + r.id()
                    + " was not decided within " + how.timeout().toString().substring(2).toLowerCase(java.util.Locale.ROOT));
            case WITHDRAWN, PENDING -> refused(QUERY_CANCELED, "canceling statement due to user request (approval"
                    + " request " + r.id() + " withdrawn)");
        };
    }

    /**
     * Where each parameter of a held statement goes, so approvers see it masked as that column would be. Unknown
     * (so redacted for every approver) without an analysis or a PHI catalog for this upstream.
     */
    private List<ApprovalRequest.ParameterSource> parameterSources(StatementAnalysis analysis) {
        if (analysis == null || masking == null) {
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
        return new Verdict(null, new StatementGate.Refusal(sqlState, message));
    }

    /**
     * Blocks until the request is decided, times out, or is withdrawn by a cancel. Meanwhile it watches the
     * client socket in short slices, so a client that disconnects withdraws its request; bytes the client sends
     * meanwhile stay buffered for after the decision.
     */
    private ApprovalRequest.State hold(ApprovalRequest r) throws IOException {
        held = r;
        java.net.Socket socket = client.socket();
        try {
            while (!r.outcome().isDone()) {
                long left = java.time.Duration.between(Instant.now(), r.expiresAt()).toMillis();
                if (left <= 0) {
                    approvals.expire(r);
                    break;
                }
                if (closing.getAsBoolean()) {
                    throw new IOException("the session ended while a statement was held");
                }
                int slice = (int) Math.min(left, HOLD_POLL_MILLIS);
                if (client.reader().hasBufferedInput()) {
                    try {
                        r.outcome().get(slice, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                        // keep waiting
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while a statement was held");
                    }
                    continue;
                }
                socket.setSoTimeout(slice);
                try {
                    if (!client.reader().peek()) {
                        throw new java.io.EOFException("the client disconnected while its statement was held");
                    }
                } catch (java.net.SocketTimeoutException e) {
                    // nothing from the client: keep waiting
                }
            }
        } finally {
            held = null;
            if (!r.outcome().isDone()) {
                approvals.withdraw(r, "the client connection ended");
            }
            if (!socket.isClosed()) {
                try {
                    socket.setSoTimeout(0);
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        return r.outcome().join();
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
