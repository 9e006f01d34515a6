package io.phigate.pg;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;
import io.phigate.session.SessionMasking;
import io.phigate.pg.frontend.ClientHandshake.Channel;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.MessageCodec;
import io.phigate.policy.RiskRules;
import io.phigate.session.Decision;
import io.phigate.session.StatementApprovals;
import io.phigate.session.StatementPipeline;
import io.phigate.session.StatementRequest;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Statements a risk rule holds for approval, on the PostgreSQL side: the pipeline decides (a ticket redeemed, a
 * request opened, ticket mode refused); here the client is told in a NoticeResponse and, in hold mode, the client
 * reader blocks until the request is decided, expires, or the client cancels or goes away. Nothing goes upstream
 * meanwhile. Runs on the client reader; {@link #held} is read by the thread that forwards a client's cancel.
 */
final class HeldStatements implements StatementApprovals.Waiting {
    /** How often a held statement's thread looks at the client socket (and notices a cancel). */
    private static final int HOLD_POLL_MILLIS = 100;

    private final Approvals approvals;
    private final Channel client;
    private final Exchange exchange;
    private final BooleanSupplier closing;
    private final StatementPipeline pipeline;
    /** The request the client reader is blocked on, so that a client's cancel can withdraw it. */
    private volatile ApprovalRequest held;

    HeldStatements(Approvals approvals, Channel client, Exchange exchange, BooleanSupplier closing,
                   StatementPipeline pipeline) {
        this.approvals = approvals;
        this.client = client;
        this.exchange = exchange;
        this.closing = closing;
        this.pipeline = pipeline;
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

    /** The approval of an Execute held with the rest of its batch until its Sync, bound to its text and values. */
    StatementApprovals.Verdict approval(StatementRun run, String text, List<String> parameters,
                                        StatementAnalysis analysis, RiskRules.Hit hit) throws IOException {
        StatementRequest request = new StatementRequest(run.id, run.startNanos, Protocol.EXTENDED, text, parameters,
                null, null, analysis == null ? null : List.of(analysis));
        return pipeline.approve(new Decision.Hold(request, hit, null, List.of()), this);
    }

    /**
     * The text an approval of an Execute is bound to and shown with: the statement's, and the parameter types its
     * Parse declared, which choose what the server runs ({@code f($1)} calls {@code f(int)} or {@code f(text)} on
     * the same text and value; decision 0068). Unchanged when the Parse left every type to the server, unless the
     * text itself spells the note: then it gets one saying "none", since a text ending in a forged note with untyped
     * parameters was the approved text of the declared types, and released the other overload (decision 0084). The
     * note is always the last line and holds no newline, so text and types are read back from it one way only.
     */
    static String withParameterTypes(String text, SessionState.Statement statement) {
        int[] types = statement == null || statement.prepared() == null ? new int[0]
                : statement.prepared().parameterTypes;
        boolean untyped = java.util.Arrays.stream(types).allMatch(t -> t == 0);
        if (text == null || (untyped && !text.contains(TYPES_NOTE))) {
            return text;
        }
        StringBuilder note = new StringBuilder(TYPES_NOTE);
        if (untyped) {
            note.append(" none");
        }
        for (int t : untyped ? new int[0] : types) {
            note.append(' ').append(Integer.toUnsignedString(t));
        }
        return text + note;
    }

    /** What {@link #withParameterTypes} adds to a held Execute's text, before the declared types. */
    private static final String TYPES_NOTE = "\n-- phigate: parameter types (OIDs) declared at Parse:";

    @Override
    public void notice(String message) throws IOException {
        exchange.respondLocally(MessageCodec.encode(ErrorCodes.notice(message)));
    }

    /**
     * Blocks until the request is decided, times out, or is withdrawn by a cancel. Meanwhile it watches the
     * client socket in short slices, so a client that disconnects withdraws its request; bytes the client sends
     * meanwhile stay buffered for after the decision.
     */
    @Override
    public ApprovalRequest.State await(ApprovalRequest r) throws IOException {
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
}
