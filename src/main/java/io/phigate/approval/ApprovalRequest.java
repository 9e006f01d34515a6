package io.phigate.approval;

import io.phigate.identity.Identity;
import io.phigate.mask.PhiType;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One statement waiting for (or holding) human approval. Its fields are fixed when it is opened; its state and
 * decisions change under the request's own lock. {@link #outcome()} completes once, when the request leaves
 * PENDING: the session holding the statement waits on it.
 */
public final class ApprovalRequest {

    public enum State { PENDING, APPROVED, DENIED, EXPIRED, WITHDRAWN }

    /**
     * Where one bound parameter's value goes, as far as the analyser can tell: {@code column} is
     * {@code schema.table.column} (null: unknown, so the value is treated as PHI) and {@code phiType} its PHI type
     * (null: the column is known and holds no PHI).
     */
    public record ParameterSource(String column, PhiType phiType) {
        public static final ParameterSource UNKNOWN = new ParameterSource(null, null);
    }

    /** One approver's word. */
    public record Decision(String issuer, String subject, boolean approved, String reason, Instant at) {
    }

    private final String id;
    private final String sessionId;
    private final long statementId;
    private final Identity requester;
    private final String upstream;
    private final String role;
    private final String justification;
    private final String text;
    private final List<String> parameters;
    private final String statementSha256;
    private final RiskRule rule;
    private final List<String> tables;
    private final List<ParameterSource> parameterSources;
    private final List<String> phiTypes;
    private final Long rowEstimate;
    private final Instant createdAt;
    private final Instant expiresAt;
    private final CompletableFuture<State> outcome = new CompletableFuture<>();
    private final List<Decision> decisions = new ArrayList<>();
    private State state = State.PENDING;
    private Instant approvedAt;
    private int uses;

    ApprovalRequest(String id, String sessionId, long statementId, Identity requester, String upstream, String role,
                    String justification, String text, List<String> parameters, List<ParameterSource> sources,
                    RiskRules.Hit hit, Instant createdAt) {
        this.id = id;
        this.sessionId = sessionId;
        this.statementId = statementId;
        this.requester = requester;
        this.upstream = upstream;
        this.role = role;
        this.justification = justification;
        this.text = text;
        this.parameters = parameters == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(parameters));
        this.statementSha256 = StatementHash.of(text, parameters);
        this.rule = hit.rule();
        this.tables = List.copyOf(hit.tables());
        this.parameterSources = List.copyOf(sources);
        this.phiTypes = List.copyOf(hit.phiTypes());
        this.rowEstimate = hit.rowEstimate();
        this.createdAt = createdAt;
        this.expiresAt = createdAt.plus(rule.approval().timeout());
    }

    public String id() {
        return id;
    }

    public String sessionId() {
        return sessionId;
    }

    public long statementId() {
        return statementId;
    }

    public Identity requester() {
        return requester;
    }

    public String upstream() {
        return upstream;
    }

    public String role() {
        return role;
    }

    public String justification() {
        return justification;
    }

    public String text() {
        return text;
    }

    /** The parameters as bound; null elements are SQL NULL. */
    public List<String> parameters() {
        return parameters;
    }

    public String statementSha256() {
        return statementSha256;
    }

    public RiskRule rule() {
        return rule;
    }

    public List<String> tables() {
        return tables;
    }

    /** Per parameter, where its value goes; shorter than {@link #parameters} when unknown for the rest. */
    public List<ParameterSource> parameterSources() {
        return parameterSources;
    }

    /** The PHI types the statement reads, returns or changes ({@code ssn}, {@code name}, ...). */
    public List<String> phiTypes() {
        return phiTypes;
    }

    /** The planner's row estimate, or null when the rule did not ask for one or it could not be had. */
    public Long rowEstimate() {
        return rowEstimate;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    /** Completes with the state the request left PENDING for. */
    public CompletableFuture<State> outcome() {
        return outcome;
    }

    public synchronized State state() {
        return state;
    }

    public synchronized List<Decision> decisions() {
        return List.copyOf(decisions);
    }

    public synchronized Instant approvedAt() {
        return approvedAt;
    }

    public synchronized int uses() {
        return uses;
    }

    /** The reason of the denial that ended the request, or null. */
    public synchronized String denialReason() {
        for (Decision d : decisions) {
            if (!d.approved()) {
                return d.reason();
            }
        }
        return null;
    }

    synchronized void add(Decision d) {
        decisions.add(d);
    }

    synchronized boolean decidedBy(String issuer, String subject) {
        return decisions.stream().anyMatch(d -> d.issuer().equals(issuer) && d.subject().equals(subject));
    }

    synchronized long approvals() {
        return decisions.stream().filter(Decision::approved).count();
    }

    /** Leaves PENDING for {@code to}; false when it already had. */
    boolean finish(State to, Instant at) {
        synchronized (this) {
            if (state != State.PENDING) {
                return false;
            }
            state = to;
            if (to == State.APPROVED) {
                approvedAt = at;
            }
        }
        outcome.complete(to);
        return true;
    }

    /**
     * Takes a shared board's word (its votes, its uses and, once it has left PENDING, its state): the board is the
     * authority when replicas share one. True when anything changed.
     */
    boolean absorb(ApprovalBoard.Tally t, Instant now) {
        boolean changed = false;
        synchronized (this) {
            for (Decision d : t.decisions()) {
                if (!decidedBy(d.issuer(), d.subject())) {
                    decisions.add(d);
                    changed = true;
                }
            }
            uses = Math.max(uses, t.uses());
        }
        if (t.state() != State.PENDING) {
            Instant at = ApprovalBoard.decidedAt(t);
            changed |= finish(t.state(), at == null ? now : at);
        }
        return changed;
    }

    /** Takes one use of an approved request; false when none is left. */
    synchronized boolean use() {
        if (state != State.APPROVED || uses >= rule.approval().uses()) {
            return false;
        }
        uses++;
        return true;
    }

    @Override
    public String toString() {
        return "ApprovalRequest[" + id + ", session=" + sessionId + ", rule=" + rule.name() + ", state=" + state() + "]";
    }
}
