package io.phigate.session;

import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.OutputColumn;
import io.phigate.sql.SessionTables;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts;
import io.phigate.sql.TableChange;
import io.phigate.sql.TableRef;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The rule that a session seeing PHI masked may not copy PHI into a table, a column or a file masking does not
 * cover, with a refusal that names what it would copy (issue 23). Copies into the session's own temporary tables
 * are judged column by column (decision 0050).
 */
final class PhiCopies {
    private PhiCopies() {
    }

    /**
     * Why the statement may not run because it would copy PHI into a table, a column or a file masking does not
     * cover, naming the tagged columns (and their tags) it would copy, or the tables holding PHI it reads; null when
     * it copies none. A copy into the session's own temporary tables ({@link SessionTables}) is followed column by
     * column: it is refused only when a tagged column would go in, since the table is masked by what it holds.
     */
    static String refusal(SessionMasking masking, StatementAnalysis a) {
        String key = keyToPhi(masking, a);
        if (key != null) {
            return key;
        }
        Map<ColumnRef, PhiType> tags = masking.tags();
        Set<String> tagged = new java.util.TreeSet<>();
        boolean temporaryOnly = !a.facts().tableChanges().isEmpty();
        Set<String> created = new HashSet<>();
        Set<String> followed = new HashSet<>();
        for (TableChange c : a.facts().tableChanges()) {
            if (c.kind() == TableChange.Kind.CREATE || c.kind() == TableChange.Kind.CREATE_DROPPED_AT_COMMIT) {
                created.add(c.table());
            }
            if (c.kind() != TableChange.Kind.TOUCHED_UNSEEN) {
                followed.add(c.table());
            }
            for (TableChange.Written w : c.columns()) {
                for (ColumnRef src : w.sources()) {
                    addTagged(tags, tagged, src);
                }
            }
        }
        for (TableRef t : a.writes()) {
            // Only a write the overlay follows (decision 0054): a view or unknown relation named pg_temp.v, or a
            // temporary table written where the statement's changes do not say so, is judged as any other copy.
            temporaryOnly &= followed.contains(t.table()) && (SessionTables.SCHEMA.equals(t.schema())
                    || (created.contains(t.table()) && "?".equals(t.schema())));
        }
        if (temporaryOnly && tagged.isEmpty()) {
            return null;
        }
        if (!temporaryOnly && !(a.copiesQuery() && masking.touchesPhi(a)) && !masking.copiesPhiOut(a)) {
            return null;
        }
        for (StatementAnalysis.ColumnWrite w : a.columnWrites()) {
            w.sources().forEach(src -> addTagged(tags, tagged, src));
        }
        for (OutputColumn out : a.outputs()) {
            out.sources().forEach(src -> addTagged(tags, tagged, src));
        }
        String what;
        if (!tagged.isEmpty()) {
            what = "PHI (" + String.join(", ", tagged) + ")";
        } else {
            Set<String> read = new java.util.TreeSet<>();
            for (TableRef t : a.scanned()) {
                if (masking.holdsPhi(t)) {
                    read.add(t.toString());
                }
            }
            what = "PHI-holding rows of " + String.join(", ", read) + " (tagged: "
                    + String.join(", ", taggedColumnsOf(tags, read)) + ")";
        }
        return "this statement would copy " + what + " into a table, column or file phigate does not mask (CREATE"
                + " TABLE AS, SELECT INTO, INSERT ... SELECT, UPDATE ... SET of a PHI value into a column tagged"
                + " otherwise or not at all, COPY to a file); refused for a session that sees PHI masked (policy"
                + " phi." + masking.upstream() + ".columns tags them)";
    }

    /**
     * Why a foreign key to a table holding PHI may not be made; null when the statement makes none. Its masked
     * columns were refused as predicates before this; a key to another column of the table reads the table as a
     * statement that copies its rows would (the read rules cannot tell a key's test of a value from a copy of it),
     * and is refused in its own words (decision 0069).
     */
    private static String keyToPhi(SessionMasking masking, StatementAnalysis a) {
        for (StatementFacts.PredicateUse p : a.facts().predicates()) {
            TableRef t = new TableRef(p.column().schema(), p.column().table());
            if (p.clause().equals(StatementFacts.FOREIGN_KEY) && masking.holdsPhi(t) && !a.writes().contains(t)) {
                return "a foreign key referencing " + t + ", which holds PHI, tests every value written to its table"
                        + " against " + t + "; refused for a session that sees PHI masked (keys to PHI-holding tables"
                        + " belong to a role that sees PHI)";
            }
        }
        return null;
    }

    private static void addTagged(Map<ColumnRef, PhiType> tags, Set<String> out, ColumnRef src) {
        PhiType t = tags.get(src);
        if (t != null) {
            out.add(src + " tagged " + t.policyName());
        }
    }

    private static Set<String> taggedColumnsOf(Map<ColumnRef, PhiType> tags, Set<String> tables) {
        Set<String> out = new java.util.TreeSet<>();
        for (Map.Entry<ColumnRef, PhiType> e : tags.entrySet()) {
            ColumnRef c = e.getKey();
            if (tables.contains(c.schema() + "." + c.table())) {
                out.add(c.column() + " tagged " + e.getValue().policyName());
            }
        }
        return out;
    }
}
