package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where a statement looks each column up by equality, so that a granted lookup is one guess per column per statement
 * whatever route it takes (decisions 0093, 0094): a WHERE or JOIN conjunct, a value written where a unique or
 * foreign key checks it, or any of those inside a view the statement reads. A site is the path of parse-tree nodes
 * that leads to the lookup, compared by identity: the same conjunct walked again (a recursive CTE's passes) is one
 * site, the same text written twice is two, and a view's lookup read through two FROM items is two.
 */
final class LookupSites {
    /** One lookup's place: the node itself, after the FROM items of the views it was read through, outermost first. */
    private record Site(List<JsonNode> path) {
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Site s) || s.path.size() != path.size()) {
                return false;
            }
            for (int i = 0; i < path.size(); i++) {
                if (s.path.get(i) != path.get(i)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (JsonNode n : path) {
                h = 31 * h + System.identityHashCode(n);
            }
            return h;
        }

        Site via(JsonNode from) {
            List<JsonNode> p = new ArrayList<>(path.size() + 1);
            p.add(from);
            p.addAll(path);
            return new Site(List.copyOf(p));
        }
    }

    private final Map<ColumnRef, Set<Site>> sites = new LinkedHashMap<>();

    /** Counts a lookup of {@code columns} at {@code node}; true when one of them is looked up at another site too. */
    boolean add(Collection<ColumnRef> columns, JsonNode node) {
        boolean elsewhere = false;
        for (ColumnRef c : columns) {
            elsewhere |= add(c, new Site(List.of(node)));
        }
        return elsewhere;
    }

    private boolean add(ColumnRef column, Site site) {
        Set<Site> at = sites.computeIfAbsent(column, k -> new HashSet<>());
        at.add(site);
        return at.size() > 1;
    }

    /** Every site of {@code other} (another statement's: a CTE of DDL, say), as they are. */
    void addAll(LookupSites other) {
        other.sites.forEach((c, s) -> sites.computeIfAbsent(c, k -> new HashSet<>()).addAll(s));
    }

    /**
     * A view's lookups, read through the FROM item {@code from}; {@code second} hears each column that is then
     * looked up at more than one site of this statement.
     */
    void addView(LookupSites view, JsonNode from, Consumer<ColumnRef> second) {
        view.sites.forEach((c, at) -> {
            boolean elsewhere = false;
            for (Site s : at) {
                elsewhere |= add(c, s.via(from));
            }
            if (elsewhere) {
                second.accept(c);
            }
        });
    }
}
