package io.phigate.mongo.masking;

import io.phigate.identity.Identity;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.MaskingKeys;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.ScalarMasking;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The document store's PHI catalog with the policy's roles and operators: what each session's
 * {@link CommandMasking} is made of. The roles, their masking and their lookups are the policy file's, the same
 * that govern PostgreSQL sessions, so an agent sees an SSN in a document as it sees one in a column. Immutable.
 *
 * @param keys the masking keys (null when the policy names none: a keyed operator then redacts instead)
 */
public record DocumentPolicy(DocumentCatalog catalog, Policy policy, MaskingKeys keys) {
    public static final DocumentPolicy NONE = new DocumentPolicy(DocumentCatalog.EMPTY, Policy.NONE, null);

    /**
     * The masking of a session of {@code identity} on the store named {@code upstream}; empty when the policy has
     * roles and none fits it, or the one that fits may not reach this store (the session is refused).
     */
    public Optional<CommandMasking> forSession(Identity identity, String upstream) {
        Role role = policy.roleFor(identity).orElse(null);
        if (!policy.roles().isEmpty() && (role == null || !role.mayReach(upstream))) {
            return Optional.empty();
        }
        Map<PhiType, ScalarMasking> operators = new EnumMap<>(PhiType.class);
        for (PhiType type : PhiType.values()) {
            operators.put(type, operator(policy.operatorFor(role, type), type));
        }
        return Optional.of(new CommandMasking(catalog, operators::get, role == null ? Set.of() : role.lookup(),
                role == null ? null : role.name()));
    }

    /** The role {@code identity} takes, or null (no roles in use, or none fits). */
    public Role roleOf(Identity identity) {
        return policy.roleFor(identity).orElse(null);
    }

    private ScalarMasking operator(OperatorSpec spec, PhiType type) {
        try {
            return new ScalarMasking(Operators.create(spec, type, keys), type);
        } catch (IllegalArgumentException e) {
            // A keyed operator without keys, or parameters it cannot use: redacted, never passed as is.
            return new ScalarMasking(Operators.create(OperatorSpec.REDACT, type, null), type);
        }
    }
}
