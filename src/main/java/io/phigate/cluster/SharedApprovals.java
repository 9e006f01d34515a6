package io.phigate.cluster;

import io.phigate.approval.ApprovalBoard;
import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.PayloadCipher;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approval board in the shared store ({@code approval_state}, {@code approval_vote}): every vote is counted
 * under the request row's lock, so two approvers on two replicas cannot both take the last approval, and one
 * approver cannot vote twice by asking two replicas. A vote, an end and a use wake the keepers (NOTIFY), so the
 * replica holding the statement learns of it within milliseconds (decision 0045).
 */
final class SharedApprovals implements ApprovalBoard {
    private static final Logger log = LoggerFactory.getLogger(SharedApprovals.class);
    private static final String SEALED_COLUMN = "approval_state.request";

    private final StorePool store;
    private final String replica;
    /** Seals the request's statement and parameters when audit encryption is on; null otherwise. */
    private final PayloadCipher cipher;

    SharedApprovals(StorePool store, String replica, PayloadCipher cipher) {
        this.store = store;
        this.replica = replica;
        this.cipher = cipher;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void opened(ApprovalRequest r, String form) throws AuditUnavailableException {
        try {
            store.inTransaction(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO approval_state (id, replica, state,"
                        + " created_at, expires_at, session_id, statement_id, statement_sha256, request)"
                        + " VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?)")) {
                    p.setString(1, r.id());
                    p.setString(2, replica);
                    p.setTimestamp(3, Timestamp.from(r.createdAt()));
                    p.setTimestamp(4, Timestamp.from(r.expiresAt()));
                    p.setString(5, r.sessionId());
                    p.setLong(6, r.statementId());
                    p.setString(7, r.statementSha256());
                    p.setString(8, cipher == null ? form : cipher.sealText(form, SEALED_COLUMN));
                    p.executeUpdate();
                }
                Replicas.notify(c, "approval");
                return null;
            });
        } catch (SQLException e) {
            throw new AuditUnavailableException("the shared store cannot hold the approval request: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Entry find(String id) {
        List<Entry> found = select("WHERE id = ?", id);
        return found.isEmpty() ? null : found.getFirst();
    }

    @Override
    public List<Entry> list(ApprovalRequest.State state) {
        return state == null ? select("WHERE created_at > now() - interval '24 hours'", null)
                : select("WHERE state = ?", name(state));
    }

    /** One row of {@code approval_state} as read; {@code stored} may be sealed. */
    private record Row(String id, ApprovalRequest.State state, int uses, String stored) {
        /** The stored request holds a statement and its parameters: never in a log. */
        @Override
        public String toString() {
            return "Row[" + id + ", " + state + "]";
        }
    }

    private List<Entry> select(String where, String parameter) {
        try {
            return store.inTransaction(c -> {
                List<Row> rows = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement("SELECT id, state, uses, request FROM approval_state "
                        + where + " ORDER BY created_at")) {
                    if (parameter != null) {
                        p.setString(1, parameter);
                    }
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            rows.add(new Row(rs.getString(1), state(rs.getString(2)), rs.getInt(3), rs.getString(4)));
                        }
                    }
                }
                Map<String, List<ApprovalRequest.Decision>> votes = votes(c, rows.stream().map(Row::id).toList());
                List<Entry> out = new ArrayList<>();
                for (Row row : rows) {
                    String form = open(row.stored());
                    if (form != null) {
                        out.add(new Entry(form, new Tally(row.state(), votes.getOrDefault(row.id(), List.of()),
                                row.uses())));
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            log.warn("cannot read the shared approval requests: {}", e.getMessage());
            return List.of();
        }
    }

    private String open(String stored) {
        if (cipher == null || !PayloadCipher.isSealed(stored)) {
            return stored;
        }
        try {
            return cipher.openText(stored, SEALED_COLUMN);
        } catch (GeneralSecurityException e) {
            log.warn("an approval request on the shared board cannot be opened with this replica's audit keys");
            return null;
        }
    }

    @Override
    public Tally vote(String id, ApprovalRequest.Decision vote, int needed, Recording record) throws Approvals.Refused {
        try {
            return store.inTransaction(c -> {
                ApprovalRequest.State state;
                int uses;
                boolean due;
                try (PreparedStatement p = c.prepareStatement("SELECT state, uses, expires_at <= ? FROM approval_state"
                        + " WHERE id = ? FOR UPDATE")) {
                    p.setTimestamp(1, Timestamp.from(vote.at()));
                    p.setString(2, id);
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next()) {
                            throw new Approvals.Refused(404, "no approval request " + id);
                        }
                        state = state(rs.getString(1));
                        uses = rs.getInt(2);
                        due = rs.getBoolean(3);
                    }
                }
                if (state != ApprovalRequest.State.PENDING) {
                    throw new Approvals.Refused(409, "the request is " + name(state));
                }
                if (due) { // its holder records the expiry; until then no vote may land on it
                    throw new Approvals.Refused(409, "the request is expired");
                }
                List<ApprovalRequest.Decision> votes = new ArrayList<>(votes(c, List.of(id)).getOrDefault(id, List.of()));
                if (votes.stream().anyMatch(d -> d.issuer().equals(vote.issuer()) && d.subject().equals(vote.subject()))) {
                    throw new Approvals.Refused(409, "you have already decided this request; another approver must");
                }
                try {
                    record.run();
                } catch (AuditUnavailableException e) {
                    throw new Approvals.Refused(503, "the audit store cannot record the decision, so it was not made: "
                            + e.getMessage());
                }
                try (PreparedStatement p = c.prepareStatement("INSERT INTO approval_vote (request_id, issuer, subject,"
                        + " approved, reason, decided_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                    p.setString(1, id);
                    p.setString(2, vote.issuer());
                    p.setString(3, vote.subject());
                    p.setBoolean(4, vote.approved());
                    p.setString(5, vote.reason());
                    p.setTimestamp(6, Timestamp.from(vote.at()));
                    p.executeUpdate();
                }
                votes.add(vote);
                long approvals = votes.stream().filter(ApprovalRequest.Decision::approved).count();
                ApprovalRequest.State now = !vote.approved() ? ApprovalRequest.State.DENIED
                        : approvals >= needed ? ApprovalRequest.State.APPROVED : ApprovalRequest.State.PENDING;
                setState(c, id, now);
                Replicas.notify(c, "approval");
                return new Tally(now, votes, uses);
            });
        } catch (SQLException e) {
            throw new Approvals.Refused(503, "the shared store cannot record the decision, so it was not made: "
                    + e.getMessage());
        }
    }

    @Override
    public Tally end(String id, ApprovalRequest.State to) {
        try {
            return store.inTransaction(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE approval_state SET state = ? WHERE id = ?"
                        + " AND state = 'pending'")) {
                    p.setString(1, name(to));
                    p.setString(2, id);
                    p.executeUpdate();
                }
                Replicas.notify(c, "approval");
                return tallies(c, List.of(id)).getOrDefault(id, new Tally(to, List.of(), 0));
            });
        } catch (SQLException e) {
            // The request then stays pending on the board until this replica's lease runs out; the session holding
            // it is told what happened here, and the record says so.
            log.warn("cannot end approval request {} on the shared board: {}", id, e.getMessage());
            return new Tally(to, List.of(), 0);
        }
    }

    @Override
    public boolean use(String id, int maxUses) {
        try {
            return store.inTransaction(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE approval_state SET uses = uses + 1 WHERE id = ?"
                        + " AND state = 'approved' AND uses < ?")) {
                    p.setString(1, id);
                    p.setInt(2, maxUses);
                    return p.executeUpdate() == 1;
                }
            });
        } catch (SQLException e) {
            log.warn("cannot take a use of approval {} on the shared board: {}", id, e.getMessage());
            return false; // fail closed: an approval that cannot be counted is not used
        }
    }

    @Override
    public Map<String, Tally> tallies(Collection<String> ids) {
        try {
            return store.inTransaction(c -> tallies(c, ids));
        } catch (SQLException e) {
            log.warn("cannot read approval decisions from the shared board: {}", e.getMessage());
            return Map.of();
        }
    }

    private static Map<String, Tally> tallies(Connection c, Collection<String> ids) throws SQLException {
        Map<String, Tally> out = new HashMap<>();
        Map<String, List<ApprovalRequest.Decision>> votes = votes(c, ids);
        try (PreparedStatement p = c.prepareStatement("SELECT id, state, uses FROM approval_state WHERE id = ANY (?)")) {
            p.setArray(1, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), new Tally(state(rs.getString(2)),
                            votes.getOrDefault(rs.getString(1), List.of()), rs.getInt(3)));
                }
            }
        }
        return out;
    }

    private static Map<String, List<ApprovalRequest.Decision>> votes(Connection c, Collection<String> ids)
            throws SQLException {
        Map<String, List<ApprovalRequest.Decision>> out = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT request_id, issuer, subject, approved, reason, decided_at"
                + " FROM approval_vote WHERE request_id = ANY (?) ORDER BY decided_at")) {
            p.setArray(1, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(new ApprovalRequest.Decision(
                            rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getString(5),
                            rs.getTimestamp(6).toInstant()));
                }
            }
        }
        return out;
    }

    /**
     * Expires, on the board and on the record, the pending requests of replicas whose lease has run out: their
     * statements died with them. Under the rows' locks, so of several replicas doing this at once one records each.
     */
    int expireOrphans(AuditSink audit) throws SQLException, AuditUnavailableException {
        return store.inTransaction(c -> {
            List<AuditEvent> expired = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("UPDATE approval_state a SET state = 'expired'"
                    + " WHERE state = 'pending' AND NOT EXISTS (SELECT 1 FROM cluster_replica r"
                    + " WHERE r.name = a.replica AND r.lease_until > now())"
                    + " RETURNING id, replica, session_id, statement_id, statement_sha256")) {
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        expired.add(new AuditEvent.ApprovalDecided(Instant.now(), rs.getString(3), rs.getLong(4),
                                rs.getString(1), "expired", null, null, "replica " + rs.getString(2)
                                + " holding the statement stopped renewing its lease", rs.getString(5)));
                    }
                }
            }
            if (!expired.isEmpty()) {
                audit.appendDurably(expired); // before the commit: if it cannot be recorded, nothing changes
                Replicas.notify(c, "approval");
            }
            return expired.size();
        });
    }

    /**
     * At start: what a previous run of this replica left open or approved and unused is expired on the board (the
     * records say so already, {@link io.phigate.approval.LeftOpen}): nothing stale is handed to an agent.
     */
    void expireLeftOpen(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE approval_state SET state = 'expired' WHERE replica = ?"
                + " AND state IN ('pending', 'approved')")) {
            p.setString(1, replica);
            p.executeUpdate();
        }
    }

    /** Finished requests are kept listable for a day, as in memory. */
    void prune() throws SQLException {
        store.inTransaction(c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM approval_state WHERE state <> 'pending'"
                    + " AND created_at < now() - interval '24 hours'")) {
                return p.executeUpdate();
            }
        });
    }

    private static void setState(Connection c, String id, ApprovalRequest.State state) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE approval_state SET state = ? WHERE id = ?")) {
            p.setString(1, name(state));
            p.setString(2, id);
            p.executeUpdate();
        }
    }

    private static String name(ApprovalRequest.State s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    private static ApprovalRequest.State state(String name) {
        return ApprovalRequest.State.valueOf(name.toUpperCase(Locale.ROOT));
    }
}
