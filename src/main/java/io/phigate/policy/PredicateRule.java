package io.phigate.policy;

import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.StatementFacts.PredicateUse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Predicates over PHI a session sees masked (decision 0036). Lineage follows only the values that reach the result,
 * so a condition over a masked column is a channel of its own: {@code WHERE substr(ssn, i, 1) = c} against generated
 * {@code i} and {@code c} rebuilds every SSN a character at a time, with outputs that derive from constants only.
 * Such a column may therefore not steer what comes back (WHERE, JOIN, HAVING, GROUP BY, ORDER BY, DISTINCT,
 * windows, FILTER, CASE conditions, LIMIT, set operations, conditions in subqueries), with one exception the role
 * may grant per PHI type ({@code roles[].lookup}): {@code column = constant-or-parameter} as a conjunct of a WHERE,
 * which tells at most whether a row with that value exists, one bit per statement. Pure.
 */
public final class PredicateRule {

    private PredicateRule() {
    }

    /**
     * Null when no predicate steers by a masked column beyond the lookups the role is granted; else why not.
     *
     * @param masked  the PHI type of a column this session sees masked; null for any other column
     * @param lookups the PHI types the role may look up by equality
     * @param role    the role's name, or null when the policy defines no roles
     */
    public static String refusal(List<PredicateUse> uses, Function<ColumnRef, PhiType> masked, Set<PhiType> lookups,
                                 String role) {
        for (PredicateUse use : uses) {
            PhiType type = masked.apply(use.column());
            if (type == null || (use.equalityLookup() && lookups.contains(type))) {
                continue;
            }
            String key = role == null ? "roles[].lookup (the policy defines no roles)"
                    : "roles[" + role + "].lookup";
            return "column " + use.column() + " holds PHI (" + type.policyName() + ") this session sees masked, and"
                    + " its value would steer what comes back in " + use.clause() + ", which can reveal it row by row;"
                    + " refused. Only a lookup by equality with a constant or parameter in WHERE (" + use.column()
                    .column() + " = $1) can be allowed, with policy " + key + ": [" + type.policyName() + "]";
        }
        return null;
    }

    /** The lookups by equality {@link #refusal} let through: column to {@code lookup:TYPE}, for the audit record. */
    public static Map<String, String> lookups(List<PredicateUse> uses, Function<ColumnRef, PhiType> masked,
                                              Set<PhiType> lookups) {
        Map<String, String> out = new TreeMap<>();
        for (PredicateUse use : uses) {
            PhiType type = masked.apply(use.column());
            if (type != null && use.equalityLookup() && lookups.contains(type)) {
                out.put(use.column().toString(), "lookup:" + type.policyName());
            }
        }
        return out;
    }
}
