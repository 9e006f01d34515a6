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
import java.util.function.Supplier;

/**
 * Predicates over PHI a session sees masked (decision 0036). Lineage follows only the values that reach the result,
 * so a condition over a masked column is a channel of its own: {@code WHERE substr(ssn, i, 1) = c} against generated
 * {@code i} and {@code c} rebuilds every SSN a character at a time, with outputs that derive from constants only.
 * Such a column may therefore not steer what comes back (WHERE, JOIN, HAVING, GROUP BY, ORDER BY, DISTINCT,
 * windows, FILTER, CASE conditions, LIMIT, set operations, conditions in subqueries), with one exception the role
 * may grant per PHI type ({@code roles[].lookup}): {@code column = constant-or-parameter} as a conjunct of a WHERE,
 * which tells at most whether a row with that value exists, one bit per statement. Only where equality is exact:
 * a column declared with a nondeterministic collation, or compared under a COLLATE the catalog does not know to be
 * deterministic (on the column, in a view, a CTE or a subquery it is read through), matches every value its rules
 * make equal, which turns the lookup into a search; neither is a lookup (nor a join) then (decision 0058). Pure.
 */
public final class PredicateRule {

    /** The clauses an equality join is written in. */
    private static final Set<String> JOINABLE = Set.of("JOIN", "WHERE");

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
        return refusal(uses, masked, lookups, role, Set::of, c -> false);
    }

    /**
     * As above, and a column of a granted type compared only by equality with another of the same type (a join on
     * masked keys, {@code a.mrn = b.mrn}) is let through. The statement is read again with the
     * server's grammar only when such a comparison could be what a WHERE or JOIN use is.
     */
    public static String refusal(StatementAnalysis a, Catalog catalog, Function<ColumnRef, PhiType> masked,
                                 Set<PhiType> lookups, String role) {
        return refusal(a.facts().predicates(), masked, lookups, role, joins(a, catalog, masked, lookups),
                catalog::looseEquality);
    }

    private static String refusal(List<PredicateUse> uses, Function<ColumnRef, PhiType> masked,
                                  Set<PhiType> lookups, String role, Supplier<Set<ColumnRef>> joined,
                                  java.util.function.Predicate<ColumnRef> loose) {
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
            if (lookups.contains(type) && JOINABLE.contains(use.clause()) && joined.get().contains(use.column())) {
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

    /**
     * The lookups and joins by equality {@link #refusal} lets through, for the audit record: column to
     * {@code lookup:TYPE} (compared with a constant or parameter) or {@code join:TYPE} (with another masked column).
     */
    public static Map<String, String> lookups(StatementAnalysis a, Catalog catalog,
                                              Function<ColumnRef, PhiType> masked, Set<PhiType> lookups) {
        Map<String, String> out = new TreeMap<>();
        Supplier<Set<ColumnRef>> joined = joins(a, catalog, masked, lookups);
        for (PredicateUse use : a.facts().predicates()) {
            PhiType type = masked.apply(use.column());
            if (type == null || !lookups.contains(type) || catalog.looseEquality(use.column())) {
                continue;
            }
            if (use.equalityLookup()) {
                out.put(use.column().toString(), "lookup:" + type.policyName());
            } else if (JOINABLE.contains(use.clause()) && joined.get().contains(use.column())) {
                out.putIfAbsent(use.column().toString(), "join:" + type.policyName());
            }
        }
        return out;
    }

    /** The columns joined by equality, computed at most once and only when asked. */
    private static Supplier<Set<ColumnRef>> joins(StatementAnalysis a, Catalog catalog,
                                                  Function<ColumnRef, PhiType> masked, Set<PhiType> lookups) {
        Set<ColumnRef>[] memo = new Set[1];
        return () -> {
            if (memo[0] == null) {
                StatementTree tree = lookups.isEmpty() ? null : StatementTree.of(a.text());
                memo[0] = tree == null ? Set.of() : EqualityJoins.of(tree, catalog, masked, lookups);
            }
            return memo[0];
        };
    }
}
