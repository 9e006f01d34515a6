package io.phigate.audit;

import static io.phigate.audit.StoreReader.SELECT_EVENT;

import io.phigate.audit.AuditQueries.Event;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The records of approval requests: one request's chain, and the requests a stopped gateway left open. */
final class ApprovalRecords {
    private final StoreReader store;

    ApprovalRecords(StoreReader store) {
        this.store = store;
    }

    List<Event> approvalChain(String approvalId) throws SQLException {
        String like = approvalIdLike(approvalId);
        return store.selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event e WHERE (e.kind IN ('approval_requested',"
                + " 'approval_decided') AND e.detail LIKE ? ESCAPE '\\') OR (e.kind IN ('statement_requested',"
                + " 'statement_completed') AND EXISTS (SELECT 1 FROM audit_event u WHERE u.kind = 'approval_decided'"
                + " AND u.outcome = 'used' AND u.session_id = e.session_id AND u.statement_id = e.statement_id"
                + " AND u.detail LIKE ? ESCAPE '\\')) ORDER BY e.time, e.seq", like, like);
    }

    List<Event> openApprovals(String replica, Instant since) throws SQLException, IOException {
        List<Event> records = store.selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE time >= ? AND"
                + " ((replica = ? AND kind = 'approval_requested') OR kind = 'approval_decided') ORDER BY time, seq",
                AuditRow.TIME.format(since), replica);
        Map<String, Event> open = new LinkedHashMap<>();
        for (Event e : records) {
            String id = StoreReader.JSON.readTree(e.detail()).path("approval_id").asText(null);
            if (id == null) {
                continue;
            }
            if (e.kind().equals("approval_requested")) {
                open.put(id, e);
            } else if (Set.of("denied", "expired", "withdrawn", "used").contains(e.outcome())) {
                open.remove(id);
            }
        }
        return List.copyOf(open.values());
    }

    /** The approval records' detail JSON names the request as {@code "approval_id":"ID"}. */
    static String approvalIdLike(String approvalId) {
        return "%\"approval_id\":\"" + StatementSearch.escapeLike(approvalId.strip()) + "\"%";
    }
}
