package io.phigate.policy;

import io.phigate.identity.Identity;
import java.time.Instant;

/**
 * Whether an authenticated identity may open a session on an upstream, and under which role. With no roles in the
 * policy every identity is admitted with no role (masking by the defaults). With roles, an identity that matches
 * none is refused, as is a role that may not reach the upstream or is outside its time windows. Pure.
 *
 * @param role    the role admitted under (null: roles are not in use, or refused)
 * @param sqlState null when admitted, else the SQLSTATE of the refusal
 * @param reason  null when admitted, else why, naming the rule but nothing secret
 */
public record Admission(Role role, String sqlState, String reason) {
    /** invalid_authorization_specification, as PostgreSQL answers when no pg_hba.conf line admits a login. */
    public static final String NO_ROLE = "28000";
    /** insufficient_privilege. */
    public static final String NOT_PERMITTED = "42501";

    public boolean admitted() {
        return sqlState == null;
    }

    public static Admission decide(Policy policy, Identity identity, String upstream, Instant now) {
        if (policy.roles().isEmpty()) {
            return new Admission(null, null, null);
        }
        Role role = policy.roleFor(identity).orElse(null);
        if (role == null) {
            return new Admission(null, NO_ROLE, "no role in the policy matches subject \"" + identity.subject()
                    + "\" of issuer \"" + identity.issuer() + "\"");
        }
        if (!role.mayReach(upstream)) {
            return new Admission(role, NOT_PERMITTED, "role \"" + role.name() + "\" may not reach upstream \""
                    + upstream + "\" (its upstreams: " + String.join(", ", role.upstreams()) + ")");
        }
        String outside = outsideWindows(role, now);
        if (outside != null) {
            return new Admission(role, NOT_PERMITTED, outside);
        }
        return new Admission(role, null, null);
    }

    /**
     * Null when {@code role} may act at {@code now}, else why not (42501). For the statement hook too: a session
     * admitted inside a window does not carry on running statements after it closes.
     */
    public static String outsideWindows(Role role, Instant now) {
        if (role == null || role.windows().isEmpty() || role.windows().stream().anyMatch(w -> w.contains(now))) {
            return null;
        }
        return "role \"" + role.name() + "\" may not connect or run statements at this time: outside its windows ("
                + describe(role) + ")";
    }

    private static String describe(Role role) {
        StringBuilder b = new StringBuilder();
        for (Role.TimeWindow w : role.windows()) {
            if (!b.isEmpty()) {
                b.append("; ");
            }
            b.append(w.days().size() == 7 ? "every day" : w.days().toString().toLowerCase(java.util.Locale.ROOT))
                    .append(' ').append(w.from()).append('-').append(w.to()).append(' ').append(w.zone());
        }
        return b.toString();
    }
}
