package io.phigate.policy;

import io.phigate.mask.PhiType;
import io.phigate.sql.Catalog;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.StatementAnalysis;
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
 * may grant per PHI type ({@code roles[].lookup}): {@code column = constant-or-parameter} as a conjunct of a WHERE
 * or a JOIN's ON, which tells at most whether a row with that value exists, one bit per column per statement
 * however the statement reaches it (decisions 0093, 0094: the analysis records any further lookup as a condition). Only where equality is exact:
 * a column declared with a nondeterministic collation, or compared under a COLLATE the catalog does not know to be
 * deterministic (on the column, in a view, a CTE or a subquery it is read through), matches every value its rules
 * make equal, which turns the lookup into a search; neither is a lookup (nor a join) then (decision 0058). Pure.
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
        return refusal(uses, masked, lookups, role, c -> false);
    }

    /**
     * As above, and a column of a granted type compared by equality with another of the same type as one conjunct
     * of a WHERE or ON (a join on masked keys, {@code a.mrn = b.mrn}; issue 19) is let through: that comparison
     * alone, as the analysis recorded it ({@link PredicateUse#joinedWith}). Any other use of either column, under
     * whatever name a CTE, subquery or view gives it, is judged on its own (decision 0094: a join exempted every
     * use of the column's name, and {@code WITH c AS (SELECT ssn AS s ...) ... WHERE s LIKE '6%'} passed).
     */
    public static String refusal(StatementAnalysis a, Catalog catalog, Function<ColumnRef, PhiType> masked,
                                 Set<PhiType> lookups, String role) {
        return refusal(a.facts().predicates(), masked, lookups, role, catalog::looseEquality);
    }

    private static String refusal(List<PredicateUse> uses, Function<ColumnRef, PhiType> masked,
                                  Set<PhiType> lookups, String role, java.util.function.Predicate<ColumnRef> loose) {
        for (PredicateUse use : uses) {
            PhiType type = masked.apply(use.column());
            if (type == null) {
                continue;
            }
            if (loose.test(use.column()) && lookups.contains(type)) {
                return "column " + use.column() + " holds PHI (" + type.policyName() + ") this session sees masked,"
                        + " and its collation is nondeterministic: equality with it matches values that differ, so a"
                        + " lookup by it is a search; refused";
            }
            if (use.equalityLookup() && lookups.contains(type)) {
                continue;
            }
            if (lookups.contains(type) && joinOfKeys(use, type, masked, loose)) {
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

    /** The use is one side of {@code a = b} whose other side is a masked column of the same type, compared exactly. */
    private static boolean joinOfKeys(PredicateUse use, PhiType type, Function<ColumnRef, PhiType> masked,
                                      java.util.function.Predicate<ColumnRef> loose) {
        return use.joinedWith() != null && masked.apply(use.joinedWith()) == type && !loose.test(use.joinedWith());
    }

    /**
     * The lookups and joins by equality {@link #refusal} lets through, for the audit record: column to
     * {@code lookup:TYPE} (compared with a constant or parameter) or {@code join:TYPE} (with another masked column).
     */
    public static Map<String, String> lookups(StatementAnalysis a, Catalog catalog,
                                              Function<ColumnRef, PhiType> masked, Set<PhiType> lookups) {
        Map<String, String> out = new TreeMap<>();
        for (PredicateUse use : a.facts().predicates()) {
            PhiType type = masked.apply(use.column());
            if (type == null || !lookups.contains(type) || catalog.looseEquality(use.column())) {
                continue;
            }
            if (use.equalityLookup()) {
                out.put(use.column().toString(), "lookup:" + type.policyName());
            } else if (joinOfKeys(use, type, masked, catalog::looseEquality)) {
                out.putIfAbsent(use.column().toString(), "join:" + type.policyName());
            }
        }
        return out;
    }
}
