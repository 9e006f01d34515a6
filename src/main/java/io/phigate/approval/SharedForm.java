package io.phigate.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.phigate.identity.Identity;
import io.phigate.mask.PhiType;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An approval request's fixed fields as JSON, for a shared {@link ApprovalBoard}: what another replica needs to
 * show the request to an approver (masked per the approver's role, as here) and to check a decision or a ticket
 * against it. The rule is named, not copied: replicas run one policy, and a replica whose policy lacks the rule
 * cannot show the request ({@link #read} returns null) rather than guess.
 */
public final class SharedForm {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SharedForm() {
    }

    public static String write(ApprovalRequest r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", r.id());
        o.put("session_id", r.sessionId());
        o.put("statement_id", r.statementId());
        o.put("issuer", r.requester().issuer());
        o.put("subject", r.requester().subject());
        o.put("upstream", r.upstream());
        o.put("role", r.role());
        o.put("justification", r.justification());
        o.put("text", r.text());
        ArrayNode parameters = o.putArray("parameters");
        r.parameters().forEach(parameters::add);
        ArrayNode sources = o.putArray("sources");
        for (ApprovalRequest.ParameterSource s : r.parameterSources()) {
            sources.addObject().put("column", s.column()).put("phi_type", s.phiType() == null ? null : s.phiType().name());
        }
        o.put("rule", r.rule().name());
        r.tables().forEach(o.putArray("tables")::add);
        r.phiTypes().forEach(o.putArray("phi_types")::add);
        if (r.rowEstimate() != null) {
            o.put("row_estimate", r.rowEstimate());
        }
        o.put("created_at", r.createdAt().toString());
        return o.toString();
    }

    /** The request {@code form} describes, in state PENDING; null when {@code policy} has no such rule. */
    public static ApprovalRequest read(String form, Policy policy) {
        JsonNode o;
        try {
            o = JSON.readTree(form);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("unreadable approval form", e);
        }
        RiskRule rule = policy.rules().stream().filter(x -> x.name().equals(o.path("rule").asText())
                && x.approval() != null).findFirst().orElse(null);
        if (rule == null) {
            return null;
        }
        List<String> parameters = new ArrayList<>();
        o.path("parameters").forEach(p -> parameters.add(p.isNull() ? null : p.asText()));
        List<ApprovalRequest.ParameterSource> sources = new ArrayList<>();
        for (JsonNode s : o.path("sources")) {
            sources.add(new ApprovalRequest.ParameterSource(text(s, "column"),
                    s.path("phi_type").isTextual() ? PhiType.valueOf(s.path("phi_type").asText()) : null));
        }
        Set<String> tables = new LinkedHashSet<>();
        o.path("tables").forEach(t -> tables.add(t.asText()));
        List<String> phiTypes = new ArrayList<>();
        o.path("phi_types").forEach(t -> phiTypes.add(t.asText()));
        Long rowEstimate = o.path("row_estimate").isNumber() ? o.path("row_estimate").asLong() : null;
        Identity requester = new Identity(o.path("issuer").asText(), o.path("subject").asText(), null, null, Map.of());
        return new ApprovalRequest(o.path("id").asText(), o.path("session_id").asText(), o.path("statement_id").asLong(),
                requester, o.path("upstream").asText(), text(o, "role"), text(o, "justification"), text(o, "text"),
                parameters, sources, new RiskRules.Hit(rule, tables, phiTypes, rowEstimate),
                Instant.parse(o.path("created_at").asText()));
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.path(field);
        return v.isTextual() ? v.asText() : null;
    }
}
