package io.phigate.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.ApprovalView;
import io.phigate.approval.Approvals;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenVerifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/approvals[?status=pending]}, {@code GET /api/v1/approvals/{id}},
 * {@code POST /api/v1/approvals/{id}/approve} and {@code .../deny} with {@code {"reason": "..."}}. Every call is
 * authenticated by the approver's own token (Authorization: Bearer), verified like an agent's; a caller sees and
 * decides only the requests of the approver groups it belongs to. So it may be served on any address (use TLS in
 * front of it off loopback), like the credential exchange.
 */
final class ApprovalsApi {
    private static final Logger log = LoggerFactory.getLogger(ApprovalsApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 16 * 1024;

    private final TokenVerifier verifier;
    private final Approvals approvals;

    ApprovalsApi(TokenVerifier verifier, Approvals approvals) {
        this.verifier = verifier;
        this.approvals = approvals;
    }

    void list(Context ctx) throws Exception {
        Identity viewer = authenticate(ctx);
        if (viewer == null) {
            return;
        }
        String status = ctx.queryParam("status");
        if (status == null) {
            status = ctx.queryParam("state");
        }
        ApprovalRequest.State state = null;
        if (status != null && !status.isEmpty() && !status.equals("all")) {
            try {
                state = ApprovalRequest.State.valueOf(status.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                AuditApi.error(ctx, 400, "status must be pending, approved, denied, expired, withdrawn or all");
                return;
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (ApprovalRequest r : approvals.visibleTo(viewer, state)) {
            out.add(describe(approvals.viewFor(r, viewer)));
        }
        AuditApi.json(ctx, 200, Map.of("approvals", out));
    }

    void show(Context ctx) throws Exception {
        Identity viewer = authenticate(ctx);
        if (viewer == null) {
            return;
        }
        ApprovalRequest r = approvals.get(ctx.pathParam("id"));
        if (r == null || !approvals.inGroup(viewer, r)) {
            AuditApi.error(ctx, 404, "no approval request with this id for your approver groups");
            return;
        }
        AuditApi.json(ctx, 200, describe(approvals.viewFor(r, viewer)));
    }

    void approve(Context ctx) throws Exception {
        decide(ctx, true);
    }

    void deny(Context ctx) throws Exception {
        decide(ctx, false);
    }

    private void decide(Context ctx, boolean approve) throws Exception {
        Identity approver = authenticate(ctx);
        if (approver == null) {
            return;
        }
        String reason = null;
        byte[] body = ctx.bodyAsBytes();
        if (body.length > MAX_BODY) {
            AuditApi.error(ctx, 413, "request body larger than " + MAX_BODY + " bytes");
            return;
        }
        if (body.length > 0) {
            JsonNode json;
            try {
                json = JSON.readTree(body);
            } catch (java.io.IOException e) {
                json = null;
            }
            if (json == null || !json.isObject() || (json.has("reason") && !json.get("reason").isTextual())) {
                AuditApi.error(ctx, 400, "the body must be a JSON object like {\"reason\": \"...\"}");
                return;
            }
            reason = json.hasNonNull("reason") ? json.get("reason").asText() : null;
        }
        try {
            ApprovalRequest r = approvals.decide(ctx.pathParam("id"), approver, approve, reason);
            log.info("approval request {} {} by {}; now {}", r.id(), approve ? "approved" : "denied",
                    approver.subject(), r.state());
            AuditApi.json(ctx, 200, describe(approvals.viewFor(r, approver)));
        } catch (Approvals.Refused e) {
            AuditApi.error(ctx, e.status(), e.getMessage());
        }
    }

    private Identity authenticate(Context ctx) throws Exception {
        return AccessApi.bearer(ctx, verifier, "your approver token");
    }

    /**
     * What the approver sees ({@link ApprovalView}): the statement and its parameters (masked per the approver's
     * own role), who asks and why, the rule, the tables, PHI types and row estimate.
     */
    static Map<String, Object> describe(ApprovalView v) {
        var m = new LinkedHashMap<String, Object>();
        m.put("id", v.id());
        m.put("state", v.state());
        m.put("rule", v.rule());
        m.put("mode", v.mode());
        m.put("group", v.group());
        m.put("approvers_needed", v.approversNeeded());
        m.put("session", v.sessionId());
        m.put("statement_id", v.statementId());
        m.put("upstream", v.upstream());
        m.put("issuer", v.requesterIssuer());
        m.put("subject", v.requesterSubject());
        m.put("role", v.role());
        m.put("justification", v.justification());
        m.put("statement", v.statement());
        m.put("parameters", v.parameters());
        m.put("statement_sha256", v.statementSha256());
        m.put("tables", v.tables());
        m.put("phi_types", v.phiTypes());
        m.put("row_estimate", v.rowEstimate());
        m.put("created_at", v.createdAt().toString());
        m.put("expires_at", v.expiresAt().toString());
        List<Map<String, Object>> decisions = new ArrayList<>();
        for (ApprovalRequest.Decision d : v.decisions()) {
            var dm = new LinkedHashMap<String, Object>();
            dm.put("subject", d.subject());
            dm.put("issuer", d.issuer());
            dm.put("decision", d.approved() ? "approved" : "denied");
            dm.put("reason", d.reason());
            dm.put("at", d.at().toString());
            decisions.add(dm);
        }
        m.put("decisions", decisions);
        return m;
    }
}
