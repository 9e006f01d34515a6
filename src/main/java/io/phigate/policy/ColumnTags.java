package io.phigate.policy;

import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import io.phigate.policy.PhiCatalog;
import io.phigate.sql.Catalog;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.Relation;
import io.phigate.sql.TableRef;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An upstream's PHI tags resolved against one read of its catalog: the same for every session on that catalog,
 * so computed once per read, not per session.
 *
 * @param byColumn  each tagged column as the catalog names it, with its type
 * @param unmatched the policy file's tags that name no column of the catalog (they mask nothing)
 */
public record ColumnTags(Map<ColumnRef, PhiType> byColumn, List<ColumnRef> unmatched) {

    /**
     * Comment tags (when {@code discover_comments} is on), then the policy file's, which win over a comment. The
     * policy file's names are folded to lower case, but a table or column created with a quoted mixed-case name
     * ({@code "Patient"."LastName"}, as ORMs make them) is the one its author meant: catalog columns are matched
     * without regard to case (two that differ only in case are both tagged). Then tags spread across inheritance
     * families: a partition or child table returns the rows its tagged parent holds (and a parent scan returns its
     * children's), so a column tagged in one member is tagged, by name, in every member that has it, with the
     * strongest type any of them gives it. A catalog that is not a server's (tests) takes the tags as given.
     */
    public static ColumnTags resolve(PhiCatalog phi, Catalog catalog) {
        PgCatalog pg = PgCatalog.of(catalog);
        Map<ColumnRef, PhiType> given = new HashMap<>();
        if (pg != null && phi.discoverComments()) {
            for (Map.Entry<ColumnRef, String> tag : pg.phiTags().entrySet()) {
                // An unknown type in a comment still marks the column as PHI: mask it as the strongest kind.
                given.put(tag.getKey(), PhiType.fromPolicyName(tag.getValue().toLowerCase(Locale.ROOT))
                        .orElse(PhiType.SSN));
            }
        }
        given.putAll(phi.columns());
        if (pg == null) {
            return new ColumnTags(Collections.unmodifiableMap(given), List.of());
        }
        Map<ColumnRef, PhiType> folded = new HashMap<>();
        given.forEach((c, t) -> folded.merge(lowerCase(c), t, PhiType::strongest));
        Set<ColumnRef> matched = new java.util.HashSet<>();
        Map<ColumnRef, PhiType> tags = new HashMap<>(given);
        for (Relation r : pg.relations()) {
            for (String column : r.columns()) {
                ColumnRef own = new ColumnRef(r.schema(), r.name(), column);
                PhiType type = folded.get(lowerCase(own));
                if (type != null) {
                    tags.merge(own, type, PhiType::strongest);
                    matched.add(lowerCase(own));
                }
            }
        }
        Map<ColumnRef, PhiType> out = new HashMap<>(tags);
        for (Relation r : pg.relations()) {
            Set<TableRef> family = pg.family(r.ref());
            if (family.isEmpty()) {
                continue;
            }
            for (String column : r.columns()) {
                ColumnRef own = new ColumnRef(r.schema(), r.name(), column);
                PhiType type = tags.get(own);
                for (TableRef member : family) {
                    type = PhiType.strongest(type, tags.get(new ColumnRef(member.schema(), member.table(), column)));
                }
                if (type != null) {
                    out.put(own, type);
                }
            }
        }
        generated(pg, out);
        RowHolderTags.spread(pg, out);
        if (generated(pg, out)) {
            RowHolderTags.spread(pg, out); // a column generated from a kept row's field, itself kept in rows
        }
        if (!out.isEmpty()) {
            // Where PHI is declared, other sessions' statement texts may quote it (sql.SessionViews).
            for (ColumnRef c : io.phigate.sql.SessionViews.VALUE_COLUMNS) {
                out.putIfAbsent(c, PhiType.FREE_TEXT);
            }
        }
        List<ColumnRef> unmatched = phi.columns().keySet().stream().filter(c -> !matched.contains(lowerCase(c)))
                .sorted(java.util.Comparator.comparing(ColumnRef::toString)).toList();
        return new ColumnTags(Collections.unmodifiableMap(out), unmatched);
    }

    /**
     * Tags each generated column with the strongest tag of the columns it is computed from: the server writes
     * {@code last4 text GENERATED ALWAYS AS (right(ssn, 4)) STORED} from every SSN written, so it holds SSNs as a
     * view's column would. Untagged, it gave them in clear and answered conditions (an attacker's review of decision
     * 0095). True when a tag changed.
     */
    private static boolean generated(PgCatalog pg, Map<ColumnRef, PhiType> tags) {
        boolean changed = false;
        for (Map.Entry<ColumnRef, Set<ColumnRef>> g : pg.generatedFrom().entrySet()) {
            PhiType before = tags.get(g.getKey());
            PhiType after = before;
            for (ColumnRef source : g.getValue()) {
                after = PhiType.strongest(after, tags.get(source));
            }
            if (after != before) {
                tags.put(g.getKey(), after);
                changed = true;
            }
        }
        return changed;
    }

    /** Operators that give one value for many inputs: under a key they make a copy's keys collide. */
    private static final Set<OperatorSpec.Kind> MANY_TO_ONE = Set.of(OperatorSpec.Kind.REDACT, OperatorSpec.Kind.NULL,
            OperatorSpec.Kind.PARTIAL, OperatorSpec.Kind.YEAR, OperatorSpec.Kind.ZIP3, OperatorSpec.Kind.AGE90);

    /**
     * Tagged columns of tables under a primary key, unique constraint or index, or a foreign key, that some role
     * (or the defaults) masks with an operator giving one value for many inputs, as {@code column (operator for
     * role)}: a copy made through such a session (pg_dump) cannot restore with its keys (decision 0049). Names
     * only, never values.
     */
    public List<String> keysMaskedManyToOne(Policy policy, Catalog catalog) {
        PgCatalog pg = PgCatalog.of(catalog);
        if (pg == null) {
            return List.of();
        }
        java.util.Set<String> out = new java.util.TreeSet<>();
        List<Role> roles = new java.util.ArrayList<>(policy.roles());
        roles.add(null);
        for (Map.Entry<ColumnRef, PhiType> tag : byColumn.entrySet()) {
            ColumnRef c = tag.getKey();
            boolean table = pg.relation(c.schema(), c.table()).map(r -> r.kind() == Relation.Kind.TABLE).orElse(false);
            if (!table || pg.checkedAgainst(c).isEmpty()) {
                continue;
            }
            for (Role role : roles) {
                OperatorSpec spec = policy.operatorFor(role, tag.getValue());
                if (MANY_TO_ONE.contains(spec.kind())) {
                    out.add(c + " (" + spec.kind().policyName() + (role == null ? " by default" : " for role "
                            + role.name()) + ")");
                }
            }
        }
        return List.copyOf(out);
    }

    private static ColumnRef lowerCase(ColumnRef c) {
        return new ColumnRef(c.schema().toLowerCase(Locale.ROOT), c.table().toLowerCase(Locale.ROOT),
                c.column().toLowerCase(Locale.ROOT));
    }
}
