package io.phigate.session;

import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import java.util.Map;
import java.util.Set;

/**
 * What the client is told about a column whose values masking turns into NULL (issue 23): a NULL alone does not say
 * it was masked. The text names the column, what it derives from and the rule, never a value.
 */
final class SubstitutedNulls {
    private SubstitutedNulls() {
    }

    /**
     * Why a column's values all come out NULL, for the client's NOTICE: the column, what it derives from and the
     * rule, never a value. {@code sources} are the statement's lineage of the column (tagged ones are named).
     */
    static String reason(String column, boolean opaque, Set<ColumnRef> sources, PhiType type, OperatorSpec spec,
                         Map<ColumnRef, PhiType> tags, String role, String upstream) {
        String from;
        if (opaque) {
            from = "phigate cannot tell what it derives from (a relation or function it does not follow), so it is"
                    + " masked as PHI of any type";
        } else {
            Set<String> tagged = new java.util.TreeSet<>();
            for (ColumnRef c : sources) {
                PhiType t = tags.get(c);
                if (t != null) {
                    tagged.add(c + " (" + t.policyName() + ")");
                }
            }
            from = "it derives from " + String.join(", ", tagged) + ", which "
                    + (role == null ? "this session" : "role \"" + role + "\"") + " sees masked";
        }
        return "phigate: column \"" + column + "\" is NULL in every row: " + from + ", by rule " + spec
                + " for PHI type " + type.policyName() + " (policy phi." + upstream
                + ".columns, masking operators), and a masked value cannot keep this column's type";
    }

}
