package io.phigate.policy;

import io.phigate.mask.SecretRef;
import io.phigate.identity.Identity;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The policy file, read once at start: which columns hold PHI on each upstream, how each PHI type is masked by
 * default, and the roles identities are mapped to. Immutable.
 *
 * @param phi      per upstream name, its PHI catalog; an upstream absent here has no declared PHI
 * @param masking  the masking key and the default operator per PHI type
 * @param roles    in file order; the first role whose match fits an identity is that identity's role. An empty
 *                 list means roles are not in use: every verified identity is admitted and sees PHI masked by
 *                 the defaults
 * @param approvers named groups of humans who may approve statements, each matched on their tokens and perhaps
 *                  notified through a webhook
 * @param rules     risk rules in file order; the first that matches a statement decides (approval or deny)
 */
public record Policy(Map<String, PhiCatalog> phi, Masking masking, List<Role> roles,
                     Map<String, ApproverGroup> approvers,
                     List<RiskRule> rules) {

    /** No policy file: nothing declared, nothing masked by catalog, no roles. */
    public static final Policy NONE = new Policy(Map.of(), new Masking(null, Map.of()), List.of());

    /** A policy without approvers or risk rules. */
    public Policy(Map<String, PhiCatalog> phi, Masking masking, List<Role> roles) {
        this(phi, masking, roles, Map.of(), List.of());
    }

    /** The built-in operator per PHI type, used when neither the role nor {@code masking.defaults} names one. */
    public static final Map<PhiType, OperatorSpec> BUILT_IN_DEFAULTS = builtInDefaults();

    public PhiCatalog catalog(String upstream) {
        PhiCatalog c = phi.get(upstream);
        return c == null ? PhiCatalog.EMPTY : c;
    }

    /** The role an identity takes on an upstream: the first whose match fits. Empty when roles are not in use or none fits. */
    public Optional<Role> roleFor(Identity identity) {
        for (Role role : roles) {
            if (role.match().matches(identity)) {
                return Optional.of(role);
            }
        }
        return Optional.empty();
    }

    /** How a value of {@code type} is shown to {@code role} (null role: no roles in use). */
    public OperatorSpec operatorFor(Role role, PhiType type) {
        if (role != null) {
            if (role.unmasked().contains(type)) {
                return OperatorSpec.NONE;
            }
            OperatorSpec own = role.masking().get(type);
            if (own != null) {
                return own;
            }
        }
        OperatorSpec configured = masking.defaults().get(type);
        return configured != null ? configured : BUILT_IN_DEFAULTS.get(type);
    }

    /**
     * Humans who may decide approval requests. {@code webhook} is a Slack-compatible incoming webhook told of each
     * new request of the group (null: none).
     */
    public record ApproverGroup(Match match, java.net.URI webhook) {
    }

    /**
     * The masking key and per-type defaults.
     *
     * @param key      the master secret operators derive their keys from (token, FF1, date shift); null when the
     *                 policy uses no keyed operator
     * @param defaults operator per PHI type, overriding {@link #BUILT_IN_DEFAULTS}
     */
    public record Masking(SecretRef key, Map<PhiType, OperatorSpec> defaults) {
    }

    private static Map<PhiType, OperatorSpec> builtInDefaults() {
        // Redaction unless a safer-for-the-agent form keeps the value useful: keys that agents join on become
        // deterministic tokens, dates keep their year, ZIPs their Safe Harbor three digits, ages cap at 90.
        Map<PhiType, OperatorSpec> m = new EnumMap<>(PhiType.class);
        for (PhiType t : PhiType.values()) {
            m.put(t, OperatorSpec.REDACT);
        }
        m.put(PhiType.MRN, OperatorSpec.of(OperatorSpec.Kind.TOKEN));
        m.put(PhiType.HEALTH_PLAN, OperatorSpec.of(OperatorSpec.Kind.TOKEN));
        m.put(PhiType.ACCOUNT, OperatorSpec.of(OperatorSpec.Kind.TOKEN));
        m.put(PhiType.ID, OperatorSpec.of(OperatorSpec.Kind.TOKEN));
        m.put(PhiType.BIOMETRIC, OperatorSpec.NULL);
        m.put(PhiType.DOB, OperatorSpec.of(OperatorSpec.Kind.YEAR));
        m.put(PhiType.DATE, OperatorSpec.of(OperatorSpec.Kind.YEAR));
        m.put(PhiType.ZIP, OperatorSpec.of(OperatorSpec.Kind.ZIP3));
        m.put(PhiType.AGE, OperatorSpec.of(OperatorSpec.Kind.AGE90));
        return java.util.Collections.unmodifiableMap(m);
    }
}
