package io.phigate.approval;

import io.phigate.identity.Identity;
import io.phigate.mask.MaskOperator;
import io.phigate.mask.MaskingKeys;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The parameters of a request as one approver may see them: masked per the approver's own policy role, as if the
 * approver had read the columns they are bound to through the gateway. Fails closed: an approver whose identity
 * maps to no role (or to one that may not reach the request's upstream) sees every parameter redacted, and so does
 * any approver for a parameter whose column the analyser could not name. SQL NULL stays visible as null: it is no
 * value.
 */
final class ApproverMasking {
    /** The text values are masked as: PostgreSQL's {@code text} type in text format. */
    private static final MaskOperator.ValueType TEXT = new MaskOperator.ValueType(25, -1, false);

    private final Policy policy;
    private final MaskingKeys keys;

    ApproverMasking(Policy policy, MaskingKeys keys) {
        this.policy = policy;
        this.keys = keys;
    }

    List<String> parameters(ApprovalRequest r, Identity viewer) {
        List<String> values = r.parameters();
        if (values.isEmpty()) {
            return values;
        }
        Optional<Role> role = viewer == null ? Optional.empty()
                : policy.roleFor(viewer).filter(x -> x.mayReach(r.upstream()));
        List<String> out = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            ApprovalRequest.ParameterSource source = i < r.parameterSources().size() ? r.parameterSources().get(i)
                    : ApprovalRequest.ParameterSource.UNKNOWN;
            if (v == null) {
                out.add(null);
            } else if (role.isEmpty()) {
                out.add("[redacted by phigate: you map to no role on upstream " + r.upstream() + "]");
            } else if (source.column() == null) {
                out.add("[redacted by phigate: column unknown]");
            } else if (source.phiType() == null) {
                out.add(v);
            } else {
                out.add(mask(v, role.get(), source.phiType()));
            }
        }
        return out;
    }

    private String mask(String value, Role role, PhiType type) {
        OperatorSpec spec = policy.operatorFor(role, type);
        if (keys == null && (spec.kind() == OperatorSpec.Kind.TOKEN || spec.kind() == OperatorSpec.Kind.FPE
                || spec.kind() == OperatorSpec.Kind.DATE_SHIFT)) {
            spec = OperatorSpec.REDACT; // keyed operators need the key; without it they redact, as in sessions
        }
        try {
            byte[] masked = Operators.create(spec, type, keys).apply(value.getBytes(StandardCharsets.UTF_8), TEXT,
                    MaskOperator.RowContext.NONE);
            return masked == null ? "[" + type.policyName() + " nulled by phigate]"
                    : new String(masked, StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            return "[redacted by phigate: " + type.policyName() + "]";
        }
    }
}
