package io.phigate.sql;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which columns hold whole rows of each relation: a column whose type is a relation's row type, or is built over it
 * (an array of it, a domain over it, a composite with an attribute of it, recursively). A history table written by a
 * trigger as {@code (at timestamptz, old patients)} keeps every value of {@code patients.ssn} in {@code old}, so a tag
 * on the relation's column must reach that column too (decision 0093). Read with the catalog, over the same edges as
 * {@link TypeUses#BUILT_OVER}.
 */
final class RowTypeHolders {
    private RowTypeHolders() {
    }

    /**
     * Relation → the columns (of tables, views, materialized views and foreign tables) holding its rows.
     * {@code rels} maps a relation's OID to its schema and name.
     */
    static Map<TableRef, Set<ColumnRef>> load(PgCatalog.Queries q, Map<Integer, String[]> rels) throws IOException {
        Map<TableRef, Set<ColumnRef>> out = new HashMap<>();
        for (List<String> row : q.query("""
                WITH RECURSIVE %s,
                held(rel, typ) AS (
                  SELECT c.oid, c.reltype FROM pg_catalog.pg_class c
                  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.reltype <> 0
                  UNION SELECT held.rel, edges.typ FROM held JOIN edges ON edges.sub = held.typ)
                SELECT DISTINCT held.rel, a.attrelid, a.attname
                FROM held JOIN pg_catalog.pg_attribute a ON a.atttypid = held.typ
                JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                WHERE a.attnum > 0 AND NOT a.attisdropped""".formatted(TypeUses.BUILT_OVER))) {
            String[] held = rels.get(Integer.parseUnsignedInt(row.get(0)));
            String[] holder = rels.get(Integer.parseUnsignedInt(row.get(1)));
            if (held != null && holder != null) {
                out.computeIfAbsent(new TableRef(held[0], held[1]), k -> new HashSet<>())
                        .add(new ColumnRef(holder[0], holder[1], row.get(2)));
            }
        }
        Map<TableRef, Set<ColumnRef>> copy = new HashMap<>();
        out.forEach((t, cols) -> copy.put(t, Set.copyOf(cols)));
        return Map.copyOf(copy);
    }
}
