package io.phigate.policy;

import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.OutputColumn;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.Relation;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.TableRef;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tags for the columns that hold whole rows of a relation carrying tagged values (decisions 0093, 0095). A table's
 * row carries the tags declared on its columns. A view's or materialized view's row carries no declared tag, but its
 * columns carry what lineage says they are made of: {@code CREATE VIEW pv AS SELECT id, ssn FROM patients} and a
 * history table {@code (old pv)} an administrator fills keep every SSN in {@code old}. So a view's row is tagged by
 * its columns' lineage, and as every declared type when its lineage cannot be read (fail closed). Holders of holders
 * (a view over a history table, a table of that view's rows) are reached by repeating until nothing changes: tags
 * only ever strengthen, so this ends.
 */
final class RowHolderTags {
    private RowHolderTags() {
    }

    /** Tags, in {@code tags}, every column holding rows of a relation whose row carries tagged values. */
    static void spread(PgCatalog pg, Map<ColumnRef, PhiType> tags) {
        if (tags.isEmpty()) {
            return;
        }
        PhiType anyDeclared = tags.values().stream().reduce(null, PhiType::strongest);
        Map<TableRef, Lineage> views = viewsWithHolders(pg);
        boolean changed = true;
        while (changed) {
            Map<TableRef, PhiType> carried = new HashMap<>();
            tags.forEach((c, t) -> carried.merge(new TableRef(c.schema(), c.table()), t, PhiType::strongest));
            views.forEach((view, lineage) -> {
                PhiType t = lineage.opaque() ? anyDeclared : lineage.strongest(tags);
                if (t != null) {
                    carried.merge(view, t, PhiType::strongest);
                }
            });
            changed = false;
            for (Map.Entry<TableRef, PhiType> e : carried.entrySet()) {
                for (ColumnRef holder : pg.rowHolders(e.getKey())) {
                    changed |= tag(tags, holder, e.getValue());
                    for (TableRef member : pg.family(new TableRef(holder.schema(), holder.table()))) {
                        changed |= tag(tags, new ColumnRef(member.schema(), member.table(), holder.column()),
                                e.getValue());
                    }
                }
            }
        }
    }

    /** What a view's columns are made of, read once; {@code opaque} when the analysis cannot follow them. */
    private record Lineage(Set<ColumnRef> sources, boolean opaque) {
        PhiType strongest(Map<ColumnRef, PhiType> tags) {
            PhiType out = null;
            for (ColumnRef c : sources) {
                out = PhiType.strongest(out, tags.get(c));
            }
            return out;
        }
    }

    /** The views and materialized views some column holds rows of, with their columns' lineage. */
    private static Map<TableRef, Lineage> viewsWithHolders(PgCatalog pg) {
        Map<TableRef, Lineage> out = new HashMap<>();
        SqlAnalyzer analyzer = null;
        for (Relation r : pg.relations()) {
            boolean view = r.kind() == Relation.Kind.VIEW || r.kind() == Relation.Kind.MATERIALIZED_VIEW;
            if (!view || pg.rowHolders(r.ref()).isEmpty()) {
                continue;
            }
            if (analyzer == null) {
                analyzer = new SqlAnalyzer(pg, 0);
            }
            out.put(r.ref(), lineage(analyzer, r.ref()));
        }
        return out;
    }

    private static Lineage lineage(SqlAnalyzer analyzer, TableRef view) {
        List<StatementAnalysis> read = analyzer.analyze("TABLE " + quoted(view.schema()) + "." + quoted(view.table()));
        if (read.size() != 1 || !read.get(0).parsed() || read.get(0).outputs().isEmpty()) {
            return new Lineage(Set.of(), true);
        }
        Set<ColumnRef> sources = new HashSet<>();
        boolean opaque = false;
        for (OutputColumn c : read.get(0).outputs()) {
            sources.addAll(c.sources());
            opaque |= c.opaque();
        }
        return new Lineage(Set.copyOf(sources), opaque);
    }

    private static boolean tag(Map<ColumnRef, PhiType> tags, ColumnRef column, PhiType type) {
        PhiType before = tags.get(column);
        PhiType after = PhiType.strongest(before, type);
        tags.put(column, after);
        return after != before;
    }

    private static String quoted(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
