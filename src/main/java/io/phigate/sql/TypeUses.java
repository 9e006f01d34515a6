package io.phigate.sql;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which stored columns hold values of each domain and enum, and which tables are typed by each composite type: what
 * the server reads when a domain's constraint is added, validated or made NOT NULL (every value of every column of
 * the domain, of a domain over it, or of a container of it, is tested), what an enum's RENAME VALUE changes (every
 * stored value of the label reads as the new one, decision 0080) and what ALTER TYPE ... CASCADE rewrites (the
 * typed tables of {@code CREATE TABLE t OF comp}). The statements name neither, so the catalog must (decision 0074).
 * Immutable; keyed by the type's name and then its schema, as the grammar gives them.
 */
final class TypeUses {
    /**
     * One edge per way a type is built over another ({@code sub} → {@code typ}): an array over its element, a domain
     * over its base, a range and its multirange over the subtype (the multirange read by name, so that servers before
     * 14 answer too), a composite (a relation's row type included) over each attribute's type. Shared by every
     * recursion over "types built over a type" so that they cannot drift apart.
     */
    static final String BUILT_OVER = """
            edges(sub, typ) AS (
              SELECT t.typelem, t.oid FROM pg_catalog.pg_type t WHERE t.typelem <> 0
              UNION ALL SELECT t.typbasetype, t.oid FROM pg_catalog.pg_type t WHERE t.typbasetype <> 0
              UNION ALL SELECT r.rngsubtype, r.rngtypid FROM pg_catalog.pg_range r
              UNION ALL SELECT r.rngsubtype, (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid
                FROM pg_catalog.pg_range r WHERE pg_catalog.to_jsonb(r) ? 'rngmultitypid'
              UNION ALL SELECT a.atttypid, t.oid FROM pg_catalog.pg_attribute a
                JOIN pg_catalog.pg_type t ON t.typrelid = a.attrelid
                WHERE a.attnum > 0 AND NOT a.attisdropped)""";

    static final TypeUses NONE = new TypeUses(Map.of(), Map.of());

    /** Domain or enum name → schema → the columns holding its values. */
    private final Map<String, Map<String, Set<ColumnRef>>> domainColumns;
    /** Composite type name → schema → the tables typed by it. */
    private final Map<String, Map<String, Set<TableRef>>> typedTables;

    private TypeUses(Map<String, Map<String, Set<ColumnRef>>> domainColumns,
                     Map<String, Map<String, Set<TableRef>>> typedTables) {
        this.domainColumns = deepCopy(domainColumns);
        this.typedTables = deepCopy(typedTables);
    }

    /**
     * The columns holding values of the domain or enum {@code schema.name}; unqualified ({@code schema} null), of
     * every such type by that name in any schema (the server may resolve the name in pg_temp or any schema on its path: a superset,
     * never fewer). Empty when the catalog knows no such type: the caller fails closed.
     */
    Optional<Set<ColumnRef>> columnsHoldingType(String schema, String name) {
        return union(domainColumns, schema, name);
    }

    /** The tables typed by the composite type {@code schema.name} (any schema when unqualified); empty when unknown. */
    Optional<Set<TableRef>> typedTables(String schema, String name) {
        return union(typedTables, schema, name);
    }

    private static <T> Optional<Set<T>> union(Map<String, Map<String, Set<T>>> map, String schema, String name) {
        Map<String, Set<T>> bySchema = map.get(name);
        if (bySchema == null) {
            return Optional.empty();
        }
        if (schema != null) {
            return Optional.ofNullable(bySchema.get(schema));
        }
        Set<T> out = new HashSet<>();
        bySchema.values().forEach(out::addAll);
        return Optional.of(Set.copyOf(out));
    }

    /**
     * Reads both over {@code q}. Stored columns only (tables, partitioned tables, materialized views): the server
     * tests no view's or foreign table's column. A column of an array, range or composite over the domain makes the
     * server refuse the ALTER outright (naming the column, testing no value); it is counted all the same, a superset
     * that costs nothing the server would have done. Enums are read as domains are (a column of an enum, or of a
     * container of one, holds its labels). Domains made at initdb (information_schema's, owned by the
     * bootstrap superuser, whose columns are views') are not read, so they count as unknown.
     * {@code rels} maps a relation's OID to its schema and name.
     */
    static TypeUses load(PgCatalog.Queries q, Map<Integer, String[]> rels) throws IOException {
        Builder b = new Builder();
        for (List<String> row : q.query("""
                WITH RECURSIVE %s,
                over(domain, typ) AS (
                  SELECT t.oid, t.oid FROM pg_catalog.pg_type t WHERE t.typtype IN ('d', 'e') AND t.oid >= 16384
                  UNION SELECT over.domain, edges.typ FROM over JOIN edges ON edges.sub = over.typ)
                SELECT DISTINCT n.nspname, d.typname, a.attrelid, a.attname
                FROM over JOIN pg_catalog.pg_type d ON d.oid = over.domain
                JOIN pg_catalog.pg_namespace n ON n.oid = d.typnamespace
                LEFT JOIN (pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c
                           ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'm'))
                  ON a.atttypid = over.typ AND a.attnum > 0 AND NOT a.attisdropped""".formatted(BUILT_OVER))) {
            b.domain(row.get(0), row.get(1));
            String[] rel = row.get(2) == null ? null : rels.get(Integer.parseUnsignedInt(row.get(2)));
            if (rel != null) {
                b.domainColumn(row.get(0), row.get(1), new ColumnRef(rel[0], rel[1], row.get(3)));
            }
        }
        for (List<String> row : q.query("""
                SELECT n.nspname, t.typname, c.oid
                FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                JOIN pg_catalog.pg_class ct ON ct.oid = t.typrelid AND ct.relkind = 'c'
                LEFT JOIN pg_catalog.pg_class c ON c.reloftype = t.oid""")) {
            b.composite(row.get(0), row.get(1));
            String[] rel = row.get(2) == null ? null : rels.get(Integer.parseUnsignedInt(row.get(2)));
            if (rel != null) {
                b.typedTable(row.get(0), row.get(1), new TableRef(rel[0], rel[1]));
            }
        }
        return b.build();
    }

    private static <T> Map<String, Map<String, Set<T>>> deepCopy(Map<String, Map<String, Set<T>>> m) {
        Map<String, Map<String, Set<T>>> out = new HashMap<>();
        m.forEach((name, bySchema) -> {
            Map<String, Set<T>> s = new HashMap<>();
            bySchema.forEach((schema, set) -> s.put(schema, Set.copyOf(set)));
            out.put(name, Map.copyOf(s));
        });
        return Map.copyOf(out);
    }

    /** Collects domains, composite types and their uses (the catalog's loader and tests). */
    static final class Builder {
        private final Map<String, Map<String, Set<ColumnRef>>> domainColumns = new HashMap<>();
        private final Map<String, Map<String, Set<TableRef>>> typedTables = new HashMap<>();

        Builder domain(String schema, String name) {
            domainColumns.computeIfAbsent(name, k -> new HashMap<>()).computeIfAbsent(schema, k -> new HashSet<>());
            return this;
        }

        Builder domainColumn(String schema, String name, ColumnRef column) {
            domain(schema, name);
            domainColumns.get(name).get(schema).add(column);
            return this;
        }

        Builder composite(String schema, String name) {
            typedTables.computeIfAbsent(name, k -> new HashMap<>()).computeIfAbsent(schema, k -> new HashSet<>());
            return this;
        }

        Builder typedTable(String schema, String name, TableRef table) {
            composite(schema, name);
            typedTables.get(name).get(schema).add(table);
            return this;
        }

        TypeUses build() {
            return new TypeUses(domainColumns, typedTables);
        }
    }
}
