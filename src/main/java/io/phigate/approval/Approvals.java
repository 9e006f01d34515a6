package io.phigate.approval;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.identity.Identity;
import io.phigate.mask.MaskingKeys;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRules;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The approval requests of this gateway process, in memory, and the rules for deciding them. Every request and
 * every change of its state is an audit record; the history lives in the evidence store, not here, so a restart
 * expires open requests ({@link LeftOpen}, recorded) but never loses the record. Called concurrently by session
 * threads (open, withdraw, expire, redeem) and HTTP threads (decide, list).
 *
 * <p>Replicas sharing a PostgreSQL audit store share an {@link ApprovalBoard}: a request held here is listed and
 * decided on every replica, votes and uses are counted on the board, and the replica's keeper thread brings the
 * board's word to the requests held here ({@link #catchUp}), which wakes their sessions (decision 0045).
 *
 * <p>Separation of duties: an approver must match the rule's approver group, must not be the identity that asked,
 * must be a human (not a Kubernetes service account), and counts once however often it approves.
 */
public final class Approvals {
    /** Open requests are bounded, so sessions cannot fill memory with requests nobody decides. */
    static final int MAX_PENDING = 10_000;
    /** Finished requests stay listable (and ticket approvals redeemable) this long. */
    static final java.time.Duration KEEP_FINISHED = java.time.Duration.ofHours(24);

    /** A decision or redemption that cannot be made; {@code status} is the HTTP status that says why. */
    public static final class Refused extends Exception {
        private final int status;

        public Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Policy policy;
    private final AuditSink audit;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, ApprovalRequest> requests = new ConcurrentHashMap<>();
    private final WebhookNotifier webhooks = new WebhookNotifier();
    private final ApproverMasking masking;
    private final AtomicLong version = new AtomicLong();
    private final ApprovalBoard board;

    /** Without a masking key: keyed operators redact the parameters approvers see. */
    public Approvals(Policy policy, AuditSink audit, Clock clock) {
        this(policy, audit, clock, null);
    }

    /** {@code keys}: the policy's masking keys (null: none), for showing parameters to approvers masked. */
    public Approvals(Policy policy, AuditSink audit, Clock clock, MaskingKeys keys) {
        this(policy, audit, clock, keys, ApprovalBoard.IN_MEMORY);
    }

    /** {@code board}: where replicas sharing the audit store share requests ({@link ApprovalBoard#IN_MEMORY}: none). */
    public Approvals(Policy policy, AuditSink audit, Clock clock, MaskingKeys keys, ApprovalBoard board) {
        this.board = board;
        this.policy = policy;
        this.audit = audit;
        this.clock = clock;
        this.masking = new ApproverMasking(policy, keys);
    }

    /**
     * Changes with every open, decision, expiry, withdrawal and use: a console polls it to know when to reload,
     * without building views.
     */
    public long version() {
        return version.get();
    }

    /**
     * What {@code viewer} sees of request {@code r}: everything the request holds, with its parameters masked per
     * the viewer's own role (see {@link ApproverMasking}). The caller checks that the viewer may see it at all
     * ({@link #inGroup}).
     */
    public ApprovalView viewFor(ApprovalRequest r, Identity viewer) {
        var how = r.rule().approval();
        return new ApprovalView(r.id(), r.state().name().toLowerCase(java.util.Locale.ROOT), r.rule().name(),
                how.mode().name().toLowerCase(java.util.Locale.ROOT), how.group(), how.approvers(), r.sessionId(),
                r.statementId(), r.upstream(), r.requester().issuer(), r.requester().subject(), r.role(),
                r.justification(), r.text(), masking.parameters(r, viewer), r.statementSha256(), r.tables(),
                r.phiTypes(), r.rowEstimate(), r.createdAt(), r.expiresAt(), r.decisions());
    }

    /**
     * Opens a request and makes its record durable; the caller tells the client only after this returns. The
     * group's webhook, if any, is told too, with {@code decideAt} (where and how to decide).
     */
    public ApprovalRequest open(String sessionId, long statementId, Identity requester, String upstream, String role,
                                String justification, String text, List<String> parameters, RiskRules.Hit hit,
                                String decideAt) throws AuditUnavailableException, Refused {
        return open(sessionId, statementId, requester, upstream, role, justification, text, parameters, List.of(), hit,
                decideAt);
    }

    /**
     * {@code sources}: where each parameter's value goes (by position; missing ones are unknown, so approvers see
     * them redacted).
     */
    public ApprovalRequest open(String sessionId, long statementId, Identity requester, String upstream, String role,
                                String justification, String text, List<String> parameters,
                                List<ApprovalRequest.ParameterSource> sources, RiskRules.Hit hit, String decideAt)
            throws AuditUnavailableException, Refused {
        prune();
        if (requests.size() >= MAX_PENDING) {
            throw new Refused(503, "too many approval requests are open");
        }
        String id = "apr-" + HexFormat.of().formatHex(bytes(8));
        ApprovalRequest r = new ApprovalRequest(id, sessionId, statementId, requester, upstream, role, justification,
                text, parameters, sources, hit, clock.instant());
        // On the board first: a request on record that no replica could decide would only ever expire.
        board.opened(r, SharedForm.write(r));
        try {
            audit.appendDurably(List.of(new AuditEvent.ApprovalRequested(r.createdAt(), sessionId, statementId, id,
                    upstream, requester.issuer(), requester.subject(), text, parameters, r.statementSha256(),
                    hit.rule().name(), hit.rule().approval().group(), hit.rule().approval().approvers(),
                    hit.rule().approval().mode().name().toLowerCase(java.util.Locale.ROOT), r.expiresAt(), r.tables(),
                    justification, r.phiTypes(), r.rowEstimate())));
        } catch (AuditUnavailableException e) {
            if (board.shared()) {
                board.end(id, ApprovalRequest.State.WITHDRAWN);
            }
            throw e;
        }
        requests.put(id, r);
        version.incrementAndGet();
        Policy.ApproverGroup group = policy.approvers().get(hit.rule().approval().group());
        if (group != null && group.webhook() != null) {
            webhooks.requested(r, group.webhook(), decideAt);
        }
        return r;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** The request {@code id}, held here or (with a shared board) by another replica; null when unknown. */
    public ApprovalRequest get(String id) {
        ApprovalRequest r = requests.get(id);
        if (r != null) {
            if (board.shared() && r.state() == ApprovalRequest.State.PENDING) {
                ApprovalBoard.Tally t = board.tallies(List.of(id)).get(id); // decided elsewhere since the last catch-up?
                if (t != null && r.absorb(t, clock.instant())) {
                    version.incrementAndGet();
                }
            }
            expireIfDue(r);
            return r;
        }
        return board.shared() ? fromBoard(board.find(id)) : null;
    }

    /** A request another replica holds, as the board describes it; null when this policy cannot show it. */
    private ApprovalRequest fromBoard(ApprovalBoard.Entry e) {
        if (e == null) {
            return null;
        }
        ApprovalRequest r = SharedForm.read(e.form(), policy);
        if (r != null) {
            r.absorb(e.tally(), clock.instant());
        }
        return r;
    }

    /** The requests {@code viewer} may decide (its group matches), optionally only those in {@code state}. */
    public List<ApprovalRequest> visibleTo(Identity viewer, ApprovalRequest.State state) {
        return all(state).stream().filter(r -> inGroup(viewer, r)).toList();
    }

    /**
     * Every request this gateway holds (with a shared board: every replica's), oldest first, optionally only those
     * in {@code state}: the auditors' view.
     */
    public List<ApprovalRequest> all(ApprovalRequest.State state) {
        List<ApprovalRequest> out = new ArrayList<>();
        for (ApprovalRequest r : requests.values()) {
            expireIfDue(r);
            if (state == null || r.state() == state) {
                out.add(r);
            }
        }
        for (ApprovalBoard.Entry e : board.list(state)) {
            ApprovalRequest r = fromBoard(e);
            if (r != null && !requests.containsKey(r.id())) {
                out.add(r);
            }
        }
        out.sort(Comparator.comparing(ApprovalRequest::createdAt));
        return out;
    }

    /** Whether {@code approver} belongs to the request's approver group. */
    public boolean inGroup(Identity approver, ApprovalRequest r) {
        Policy.ApproverGroup group = policy.approvers().get(r.rule().approval().group());
        return group != null && group.match().matches(approver);
    }

    /** One approver approves or denies. Returns the request as it stands afterwards. */
    public ApprovalRequest decide(String id, Identity approver, boolean approve, String reason) throws Refused {
        ApprovalRequest r = get(id);
        if (r == null) {
            throw new Refused(404, "no approval request " + id);
        }
        if (!inGroup(approver, r)) {
            throw new Refused(403, "you are not in approver group \"" + r.rule().approval().group() + "\"");
        }
        if (!isHuman(approver)) {
            throw new Refused(403, "a service account cannot approve statements; approvers are humans");
        }
        if (approver.issuer().equals(r.requester().issuer()) && approver.subject().equals(r.requester().subject())) {
            throw new Refused(403, "the requesting identity cannot decide its own request");
        }
        if (!approve && (reason == null || reason.isBlank())) {
            throw new Refused(400, "a denial needs a reason; the agent is told it");
        }
        if (board.shared()) {
            return decideOnBoard(r, approver, approve, reason);
        }
        synchronized (r) {
            if (r.state() != ApprovalRequest.State.PENDING) {
                throw new Refused(409, "the request is " + r.state().name().toLowerCase(java.util.Locale.ROOT));
            }
            if (r.decidedBy(approver.issuer(), approver.subject())) {
                throw new Refused(409, "you have already decided this request; another approver must");
            }
            Instant now = clock.instant();
            try {
                audit.appendDurably(List.of(new AuditEvent.ApprovalDecided(now, r.sessionId(), r.statementId(), id,
                        approve ? "approved" : "denied", approver.issuer(), approver.subject(), reason,
                        r.statementSha256())));
            } catch (AuditUnavailableException e) {
                throw new Refused(503, "the audit store cannot record the decision, so it was not made: "
                        + e.getMessage());
            }
            r.add(new ApprovalRequest.Decision(approver.issuer(), approver.subject(), approve, reason, now));
            if (!approve) {
                r.finish(ApprovalRequest.State.DENIED, now);
            } else if (r.approvals() >= r.rule().approval().approvers()) {
                r.finish(ApprovalRequest.State.APPROVED, now);
            }
        }
        version.incrementAndGet();
        return r;
    }

    /** The vote is counted on the board, against every replica's; the audit record is made before it commits. */
    private ApprovalRequest decideOnBoard(ApprovalRequest r, Identity approver, boolean approve, String reason)
            throws Refused {
        Instant now = clock.instant();
        ApprovalRequest.Decision vote = new ApprovalRequest.Decision(approver.issuer(), approver.subject(), approve,
                reason, now);
        ApprovalBoard.Tally t = board.vote(r.id(), vote, r.rule().approval().approvers(), () ->
                audit.appendDurably(List.of(new AuditEvent.ApprovalDecided(now, r.sessionId(), r.statementId(),
                        r.id(), approve ? "approved" : "denied", approver.issuer(), approver.subject(), reason,
                        r.statementSha256()))));
        r.absorb(t, now);
        version.incrementAndGet();
        return r;
    }

    /**
     * Brings the board's word to the requests held here: a decision made on another replica completes the
     * request's outcome, which wakes the session holding its statement. Run by the cluster's keeper thread when
     * the store says a decision was made, and on every heartbeat in case a notification was missed.
     */
    public void catchUp() {
        if (!board.shared()) {
            return;
        }
        List<String> pending = requests.values().stream().filter(r -> r.state() == ApprovalRequest.State.PENDING)
                .map(ApprovalRequest::id).toList();
        if (pending.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        for (Map.Entry<String, ApprovalBoard.Tally> e : board.tallies(pending).entrySet()) {
            ApprovalRequest r = requests.get(e.getKey());
            if (r != null && r.absorb(e.getValue(), now)) {
                version.incrementAndGet();
            }
        }
    }

    /** Another replica changed a request it holds: consoles polling {@link #version} reload. */
    public void changedElsewhere() {
        version.incrementAndGet();
    }

    /** The hold timed out, or a ticket was never decided in time. */
    public void expire(ApprovalRequest r) {
        end(r, ApprovalRequest.State.EXPIRED, "expired", null);
    }

    /** The client cancelled or went away while its statement was held. */
    public void withdraw(ApprovalRequest r, String why) {
        end(r, ApprovalRequest.State.WITHDRAWN, "withdrawn", why);
    }

    private void end(ApprovalRequest r, ApprovalRequest.State state, String decision, String why) {
        if (board.shared()) {
            ApprovalBoard.Tally t = board.end(r.id(), state);
            if (t.state() != state) { // decided on another replica first: that decision stands
                r.absorb(t, clock.instant());
                version.incrementAndGet();
                return;
            }
        }
        if (r.finish(state, clock.instant())) {
            version.incrementAndGet();
            audit.append(List.of(new AuditEvent.ApprovalDecided(clock.instant(), r.sessionId(), r.statementId(), r.id(),
                    decision, null, null, why, r.statementSha256())));
        }
    }

    /**
     * A held statement was approved and is being released: its approval is spent, and the returned record says
     * so; null when it cannot be spent (already used), and then the statement must not run.
     */
    public AuditEvent releaseHeld(ApprovalRequest r, String sessionId, long statementId) {
        boolean usable = r.use();
        if (board.shared()) {
            usable &= board.use(r.id(), r.rule().approval().uses());
        }
        version.incrementAndGet();
        return usable ? usedEvent(r, sessionId, statementId) : null;
    }

    /**
     * The record that an approved statement was released upstream as {@code statementId} of {@code sessionId}; the
     * session makes it durable together with that statement's own record, before forwarding it.
     */
    public AuditEvent usedEvent(ApprovalRequest r, String sessionId, long statementId) {
        return new AuditEvent.ApprovalDecided(clock.instant(), sessionId, statementId, r.id(), "used", null, null,
                null, r.statementSha256());
    }

    /**
     * Ticket mode: the approval {@code id} for exactly this statement, identity and upstream, taking one use.
     * {@code holding} is what the policy makes of the statement now: the approval releases it only while the same
     * rule, unchanged, holds it over the same tables and PHI types the approvers were shown (decision 0059), so a
     * ticket granted under a lenient rule does not release a statement a stricter rule now holds, nor one whose
     * tables have been declared PHI since. The message of a refusal is for the agent.
     */
    public ApprovalRequest redeem(String id, Identity identity, String upstream, String text, List<String> parameters,
                                  RiskRules.Hit holding) throws Refused {
        ApprovalRequest r = get(id);
        if (r == null) {
            throw new Refused(404, "approval " + id + " does not exist (or is no longer kept)");
        }
        if (!r.requester().issuer().equals(identity.issuer()) || !r.requester().subject().equals(identity.subject())
                || !r.upstream().equals(upstream)) {
            throw new Refused(403, "approval " + id + " was granted to another identity or upstream");
        }
        if (r.rule().approval().mode() != io.phigate.policy.RiskRule.Mode.TICKET) {
            // A held statement's approval is spent by that statement on its own connection; as a ticket it would
            // run the statement a second time elsewhere, or race the release (decision 0068).
            throw new Refused(409, "approval " + id + " was given to a held statement and releases only that one");
        }
        if (!r.statementSha256().equals(StatementHash.of(text, parameters))) {
            throw new Refused(409, "approval " + id + " was granted for a different statement or different parameters");
        }
        String changed = changedSince(r, holding);
        if (changed != null) {
            throw new Refused(409, "approval " + id + " no longer fits: " + changed);
        }
        ApprovalRequest.State state = r.state();
        if (state != ApprovalRequest.State.APPROVED) {
            throw new Refused(409, "approval " + id + " is " + state.name().toLowerCase(java.util.Locale.ROOT));
        }
        if (clock.instant().isAfter(r.approvedAt().plus(r.rule().approval().validFor()))) {
            throw new Refused(410, "approval " + id + " has expired");
        }
        // With a shared board the uses are counted there: a ticket approved once is redeemed once cluster-wide.
        if (board.shared() ? !board.use(id, r.rule().approval().uses()) || !r.use() : !r.use()) {
            throw new Refused(410, "approval " + id + " has been used");
        }
        version.incrementAndGet();
        return r;
    }

    /** How what holds the statement now differs from what the approvers decided on; null when it does not. */
    private static String changedSince(ApprovalRequest r, RiskRules.Hit now) {
        if (!r.rule().name().equals(now.rule().name())) {
            return "it was granted under rule \"" + r.rule().name() + "\", and rule \"" + now.rule().name()
                    + "\" holds this statement now";
        }
        if (!r.rule().equals(now.rule())) {
            return "rule \"" + r.rule().name() + "\" has changed since it was granted";
        }
        if (!java.util.Set.copyOf(r.tables()).equals(java.util.Set.copyOf(now.tables()))
                || !java.util.Set.copyOf(r.phiTypes()).equals(java.util.Set.copyOf(now.phiTypes()))) {
            return "the statement's tables or PHI types are not those the approvers were shown";
        }
        return null;
    }

    /** Kubernetes service accounts are workloads, never approvers. */
    public static boolean isHuman(Identity identity) {
        return !identity.subject().startsWith("system:serviceaccount:")
                && !identity.attributes().containsKey("kubernetes.serviceaccount");
    }

    private void expireIfDue(ApprovalRequest r) {
        if (r.state() == ApprovalRequest.State.PENDING && clock.instant().isAfter(r.expiresAt())
                && r.rule().approval().mode() == io.phigate.policy.RiskRule.Mode.TICKET) {
            expire(r); // a held request is expired by its own session, which is waiting for exactly that
        }
    }

    private void prune() {
        Instant cutoff = clock.instant().minus(KEEP_FINISHED);
        requests.values().removeIf(r -> r.state() != ApprovalRequest.State.PENDING && r.createdAt().isBefore(cutoff));
    }
}
