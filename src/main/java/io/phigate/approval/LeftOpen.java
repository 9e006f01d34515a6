package io.phigate.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The approval requests a previous run of this gateway left open, expired on the record at start. Requests live
 * in memory, so those a previous run (audit chain {@code replica}) left open are gone: each gets an
 * {@code expired} record ("the gateway restarted"), approved tickets not yet redeemed included, so the record
 * says what the gateway now enforces: a re-sent statement needs a new request.
 */
public final class LeftOpen {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LeftOpen() {
    }

    /**
     * Looks back as far as any request of {@code policy} could still be open or redeemable (and as long as
     * finished requests are kept). Decisions from every chain count: another replica may have decided one. Returns
     * how many were expired.
     */
    public static int expire(Policy policy, AuditSink audit, Clock clock, String replica, AuditQueries queries)
            throws SQLException, IOException, AuditUnavailableException {
        Duration horizon = Duration.ZERO;
        for (RiskRule rule : policy.rules()) {
            if (rule.approval() != null) {
                Duration d = rule.approval().timeout().plus(rule.approval().validFor());
                horizon = d.compareTo(horizon) > 0 ? d : horizon;
            }
        }
        if (horizon.isZero()) {
            return 0;
        }
        Instant now = clock.instant();
        List<AuditEvent> expired = new ArrayList<>();
        for (AuditQueries.Event e : queries.openApprovals(replica, now.minus(horizon).minus(Approvals.KEEP_FINISHED))) {
            JsonNode detail = JSON.readTree(e.detail());
            expired.add(new AuditEvent.ApprovalDecided(now, e.sessionId(), e.statementId(),
                    detail.path("approval_id").asText(), "expired", null, null, "the gateway restarted",
                    detail.path("statement_sha256").asText(null)));
        }
        if (!expired.isEmpty()) {
            audit.appendDurably(expired);
        }
        return expired.size();
    }
}
