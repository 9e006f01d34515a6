package io.phigate.cluster;

import io.phigate.approval.ApprovalBoard;
import io.phigate.approval.Approvals;
import java.util.List;

/**
 * What this replica knows of the others sharing its PostgreSQL audit store, and what it may ask of them: their
 * live sessions, ending one of them, passing on a CancelRequest for one of their sessions, and the approval board.
 * {@link #SOLO} is a gateway alone (the embedded SQLite store): nothing elsewhere, behaviour as before.
 */
public interface Cluster extends AutoCloseable {
    /**
     * A BackendKeyData process id carries its replica's slot above this bit: {@code slot << 21 | n}, so any replica
     * can tell whose key a CancelRequest holds (decision 0046). Slots run from 1 to 1023; 0 is a gateway alone.
     */
    int SLOT_SHIFT = 21;
    int MAX_SLOT = 1023;

    /** What this replica does when another asks (run on the keeper thread). */
    interface Local {
        /** The sessions live here now. */
        List<PublishedSession> sessions();

        /** Ends the session {@code id} if it is live here (as an admin's kill does); false when it is not. */
        boolean kill(String id);

        /** A CancelRequest another replica received for a key of this one, handled as if received here. */
        void cancel(int processId, byte[] secret, String clientAddress);
    }

    Cluster SOLO = new Cluster() {
        @Override
        public String replica() {
            return null;
        }

        @Override
        public int slot() {
            return 0;
        }

        @Override
        public ApprovalBoard approvals() {
            return ApprovalBoard.IN_MEMORY;
        }

        @Override
        public List<PublishedSession> sessionsElsewhere() {
            return List.of();
        }

        @Override
        public boolean kill(String sessionId) {
            return false;
        }

        @Override
        public boolean forwardCancel(int processId, byte[] secret, String clientAddress) {
            return false;
        }

        @Override
        public void start(Approvals approvals, Local local) {
        }

        @Override
        public void close() {
        }
    };

    /** This replica's name (audit.replica); null alone. */
    String replica();

    /** This replica's slot (the high bits of its process ids); 0 alone. */
    int slot();

    ApprovalBoard approvals();

    /** The sessions other live replicas publish. */
    List<PublishedSession> sessionsElsewhere();

    /**
     * Asks the replica holding session {@code sessionId} to end it, and waits a few seconds for it to be gone;
     * false when no other live replica holds it (or it did not end in time).
     */
    boolean kill(String sessionId);

    /**
     * Passes a CancelRequest whose key names another replica's slot to that replica; false when no live replica
     * holds the slot (the cancel is then unmatched, as for an unknown key).
     */
    boolean forwardCancel(int processId, byte[] secret, String clientAddress);

    /** Starts heartbeats, publishing and taking orders, once {@code approvals} and {@code local} exist. */
    void start(Approvals approvals, Local local);

    /** Gives up the lease at once (the requests of a replica that stops are withdrawn by its sessions). */
    @Override
    void close();
}
