package io.phigate.mongo;

import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;
import io.phigate.mask.PhiType;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.wire.MongoError;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bson.BsonDocument;

/**
 * The policy's risk rules for one document-store session: a command a deny rule matches is refused; one an approval
 * rule matches is held inside the connection until approvers decide, through the approval package as PostgreSQL
 * statements are (same requests, records, console, API and webhooks). The protocol has no notice a server sends
 * while a command runs, so the agent just waits for its reply; the request's id is in the records, the console and
 * the webhook. In ticket mode the command is refused with the request's id; once approved, the agent sends the
 * identical command naming it in its {@code comment} ({@link ApprovalMarker}), the document store's counterpart of
 * PostgreSQL's {@code SET phigate.approval} (decisions 0052, 0059): the marker is cut out before the command is
 * recorded or forwarded, and the approval releases exactly the command it was granted for (its digest), once, while
 * the same rule holds it. Runs on the connection's
 * thread.
 */
final class CommandApprovals {
    /** The code mongod gives a command that ran out of time. */
    private static final MongoError EXPIRED = new MongoError(50, "MaxTimeMSExpired");

    /** What the rules make of a command: nothing, a release (its {@code used} record), or a refusal. */
    sealed interface Outcome {
        record Pass() implements Outcome {
        }

        record Release(AuditEvent used) implements Outcome {
        }

        record Refuse(MongoError error, String message) implements Outcome {
        }
    }

    static final Outcome PASS = new Outcome.Pass();

    private final String sessionId;
    private final Identity identity;
    private final String upstream;
    private final Role role;
    private final List<RiskRule> rules;
    private final Approvals approvals;
    /** Completed when the session is ended from outside ({@link LiveMongoSession#terminate}). */
    private final CompletableFuture<Void> ended;
    /** The thread watching the client's socket for the last held command, until {@link #settled}; null otherwise. */
    private Thread watcher;

    /** {@code approvals} may be null only when {@code rules} hold nothing for approval. */
    CommandApprovals(String sessionId, Identity identity, String upstream, Role role, List<RiskRule> rules,
                     Approvals approvals, CompletableFuture<Void> ended) {
        this.ended = ended;
        this.sessionId = sessionId;
        this.identity = identity;
        this.upstream = upstream;
        this.role = role;
        this.rules = List.copyOf(rules);
        this.approvals = approvals;
    }

    /**
     * Judges {@code command} and, when a rule holds it, redeems the approval it names ({@code ticket}, or null) if
     * that was granted for exactly this command ({@code text} and {@code parameters}, as {@link
     * CommandRecords#approvalText} gives them); otherwise opens a request and, in hold mode, waits for the decision
     * while watching the client's socket: a client that goes away withdraws its request, and so does a session
     * ended from outside (its socket closed).
     */
    Outcome judge(long statementId, Command command, BsonDocument body, Set<PhiType> phiTypes, String text,
                  List<String> parameters, String ticket, BufferedInputStream in)
            throws IOException {
        if (rules.isEmpty()) {
            return PASS;
        }
        RiskRules.Hit hit = CommandRules.evaluate(rules, role, command, body, phiTypes, Instant.now());
        if (hit == null) {
            return PASS;
        }
        RiskRule rule = hit.rule();
        if (rule.deny() != null) {
            return new Outcome.Refuse(MongoError.UNAUTHORIZED, "phigate: rule \"" + rule.name() + "\" denies this"
                    + " command: " + rule.deny());
        }
        if (approvals == null) {
            return new Outcome.Refuse(MongoError.UNAUTHORIZED, "phigate: rule \"" + rule.name() + "\" needs approval,"
                    + " and this gateway has no approvals; refused");
        }
        String ticketProblem = null;
        if (ticket != null) {
            try {
                ApprovalRequest granted = approvals.redeem(ticket, identity, upstream, text, parameters, hit);
                return new Outcome.Release(approvals.usedEvent(granted, sessionId, statementId));
            } catch (Approvals.Refused e) {
                ticketProblem = e.getMessage();
            }
        }
        ApprovalRequest r;
        try {
            r = approvals.open(sessionId, statementId, identity, upstream, role == null ? null : role.name(), null,
                    text, parameters, hit, "bin/phigate approvals");
        } catch (AuditUnavailableException e) {
            return new Outcome.Refuse(MongoError.INTERNAL_ERROR, "phigate could not record the approval request,"
                    + " so the command was not forwarded");
        } catch (Approvals.Refused e) {
            return new Outcome.Refuse(MongoError.INTERNAL_ERROR, "phigate: " + e.getMessage());
        }
        if (rule.approval().mode() == RiskRule.Mode.TICKET) {
            RiskRule.Approval how = rule.approval();
            return new Outcome.Refuse(MongoError.UNAUTHORIZED, "phigate: rule \"" + rule.name() + "\" requires"
                    + " approval by " + how.approvers() + " of group \"" + how.group() + "\"; request " + r.id()
                    + " is open until " + r.expiresAt() + (ticketProblem == null ? "" : " (" + ticketProblem + ")")
                    + ". Once it is approved, send the identical command again with " + howToName(r.id(), body));
        }
        return switch (await(r, in)) {
            case APPROVED -> {
                AuditEvent used = approvals.releaseHeld(r, sessionId, statementId); // null: already spent
                yield used != null ? new Outcome.Release(used) : new Outcome.Refuse(MongoError.UNAUTHORIZED,
                        "phigate: approval request " + r.id() + " has already been used");
            }
            case DENIED -> new Outcome.Refuse(MongoError.UNAUTHORIZED, "phigate: approval request " + r.id()
                    + " was denied: " + r.denialReason());
            case EXPIRED -> new Outcome.Refuse(EXPIRED, "phigate: approval request " + r.id() + " was not decided"
                    + " within " + rule.approval().timeout());
            case WITHDRAWN, PENDING -> new Outcome.Refuse(MongoError.INTERNAL_ERROR, "phigate: approval request "
                    + r.id() + " was withdrawn");
        };
    }

    /**
     * How the agent names approval {@code id} on the command it retries: a command with a comment of its own keeps
     * it inside the marker, so the store receives the command as it was held (decision 0059).
     */
    private static String howToName(String id, BsonDocument body) {
        return body.containsKey("comment")
                ? "comment: {\"" + ApprovalMarker.FIELD + "\": \"" + id + "\", comment: <the command's own comment>}"
                : "comment: \"" + ApprovalMarker.PREFIX + id + "\"";
    }

    /**
     * Waits for the decision, woken by it, by the client going away (its socket's end: a disconnect, or the socket
     * closed by {@link LiveMongoSession#terminate}), by the session being ended from outside (its own signal, which
     * holds once the client has sent more), or by the request's expiry; no poll and no socket timeout, so the
     * socket stays blocking. The client's socket is watched by a second virtual thread blocked in a one-byte read
     * that puts back what it read ({@link #settled}); a byte the client sends meanwhile stays for after the decision.
     */
    private ApprovalRequest.State await(ApprovalRequest r, BufferedInputStream in) throws IOException {
        CompletableFuture<Void> gone = new CompletableFuture<>();
        watcher = Thread.ofVirtual().name("mongo-held-watch").start(() -> {
            try {
                in.mark(1);
                if (in.read() < 0) {
                    gone.complete(null);
                } else {
                    in.reset();
                }
            } catch (IOException e) {
                gone.complete(null);
            }
        });
        try {
            long left = Duration.between(Instant.now(), r.expiresAt()).toMillis();
            // The session's end is waited on by itself: the watch of the socket stops at the first byte the client
            // sends during the hold (reading on would take the next command), and a pipelining client sends one.
            CompletableFuture.anyOf(r.outcome(), gone, ended).get(Math.max(left, 0), TimeUnit.MILLISECONDS);
            if (ended.isDone()) {
                throw new EOFException("the session was ended while its command was held");
            }
            if (!r.outcome().isDone()) {
                throw new EOFException("the client disconnected while its command was held");
            }
        } catch (TimeoutException e) {
            approvals.expire(r);
        } catch (ExecutionException e) {
            // the outcome completes normally; a failed one reads as withdrawn below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while a command was held");
        } finally {
            if (!r.outcome().isDone()) {
                approvals.withdraw(r, "the client connection ended");
            }
        }
        return r.outcome().join();
    }

    /**
     * Before the connection reads the client again: a held command's watcher may still be blocked in its read, which
     * ends when the client sends its next message (the byte put back) or goes away; reading beside it would race for
     * the first byte.
     */
    void settled() throws IOException {
        Thread w = watcher;
        if (w == null) {
            return;
        }
        try {
            w.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while a held command's watch ended");
        }
        watcher = null;
    }
}
