package io.phigate.approval;

import io.phigate.audit.AuditUnavailableException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Where the state of approval requests is on record beyond this process: several replicas sharing one audit
 * store see, decide and redeem each other's requests through it (the {@code cluster} package's board). A single
 * gateway has none: {@link #IN_MEMORY}, the requests in its memory are the whole state, as they always were.
 *
 * <p>A shared board is the authority on state, votes and uses; the replica holding a request's statement applies
 * what the board says ({@link Approvals#catchUp}) and never decides against it.
 */
public interface ApprovalBoard {

    /** No board: every method answers "in memory only". */
    ApprovalBoard IN_MEMORY = new ApprovalBoard() {
    };

    /** The state on record, every vote, and how many times an approval has been used. */
    record Tally(ApprovalRequest.State state, List<ApprovalRequest.Decision> decisions, int uses) {
        public Tally {
            decisions = List.copyOf(decisions);
        }
    }

    /** A request as the board holds it: its fields ({@link SharedForm}) and its tally. */
    record Entry(String form, Tally tally) {
        /** Sizes only: the form holds the statement and its parameters. */
        @Override
        public String toString() {
            return "Entry[" + tally.state() + ", " + form.length() + " chars]";
        }
    }

    /** The audit record a vote makes durable before the board commits it. */
    interface Recording {
        void run() throws AuditUnavailableException;
    }

    /** Whether state is shared; false for {@link #IN_MEMORY}. */
    default boolean shared() {
        return false;
    }

    /** A new pending request held by this replica, {@code form} from {@link SharedForm#write}. */
    default void opened(ApprovalRequest r, String form) throws AuditUnavailableException {
    }

    /** The request {@code id}, or null when the board does not hold it. */
    default Entry find(String id) {
        return null;
    }

    /** Every request on the board (optionally only those in {@code state}), whichever replica holds it. */
    default List<Entry> list(ApprovalRequest.State state) {
        return List.of();
    }

    /**
     * Records one vote atomically against every replica's: refused with 409 when the request is no longer
     * pending or {@code vote}'s approver has voted, with 503 when {@code record} fails (then nothing is changed).
     * Returns the tally afterwards; {@code needed} approvals make it approved, one denial denied.
     */
    default Tally vote(String id, ApprovalRequest.Decision vote, int needed, Recording record)
            throws Approvals.Refused {
        throw new UnsupportedOperationException("no shared board");
    }

    /**
     * Ends a pending request as {@code to} (expired, withdrawn) unless another replica decided it first; returns
     * the tally on record afterwards, whose state is {@code to} when this call ended it.
     */
    default Tally end(String id, ApprovalRequest.State to) {
        throw new UnsupportedOperationException("no shared board");
    }

    /** Takes one use of an approved request; false when none is left (or it is not approved). */
    default boolean use(String id, int maxUses) {
        throw new UnsupportedOperationException("no shared board");
    }

    /** The tallies of {@code ids} (those the board holds). */
    default Map<String, Tally> tallies(Collection<String> ids) {
        return Map.of();
    }

    /** When the last decision of {@code t} was made (the approval time of an approved request). */
    static Instant decidedAt(Tally t) {
        Instant at = null;
        for (ApprovalRequest.Decision d : t.decisions()) {
            at = at == null || d.at().isAfter(at) ? d.at() : at;
        }
        return at;
    }
}
