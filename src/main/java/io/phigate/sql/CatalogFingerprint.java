package io.phigate.sql;

import java.io.IOException;
import java.util.List;

/**
 * A short text that changes whenever DDL changes what {@link PgCatalog#load} reads about the objects made after
 * initdb (decision 0075): relations, their columns, view bodies, comments (PHI tags), types, functions, constraints,
 * triggers, defaults, policies, inheritance, event triggers, ranges, operators and collations. The gateway masks by
 * lineage read once; comparing this text with the one read with the catalog tells it that the catalog it judges by
 * is no longer the server's, whoever changed it (code the session ran, another session, an administrator).
 *
 * <p>Per catalog row it sums the row's {@code xmin}: every DDL writes a new row version, and a new version carries
 * the writing transaction's id, so any insert or update changes the sum and any insert or delete the count. Built-in
 * objects (OID under 16384) are left out, which lets every lookup use the catalogs' OID indexes. {@code pg_class}
 * is summed over the columns the catalog reads instead of {@code xmin}, because TRUNCATE, CLUSTER, VACUUM FULL,
 * REINDEX and GRANT rewrite its rows without changing what any name means; a unique index the catalog reads through
 * {@code pg_index} comes and goes with its own {@code pg_class} row, and typed tables ({@code reloftype}, which
 * {@link TypeUses} reads) are in the hash. Of {@code pg_attribute} only the user columns ({@code attnum > 0}: system
 * columns come and go with their relation) of the relation kinds the catalog reads (tables, views, sequences, foreign
 * tables, composite types) count; TOAST tables and indexes have no columns anyone names, and TOAST's own
 * {@code pg_class} rows follow their table. {@code pg_depend}, read to tell which defaults and CHECKs call code,
 * changes only with the default's or constraint's own row. Temporary objects (the session's own,
 * which {@link SessionTables} follows, and other sessions') are left out: creating them changes no shared name.
 */
public final class CatalogFingerprint {
    /** One row, one column: {@code rows:sum}. Run in the session (its own uncommitted DDL counts) or apart. */
    public static final String QUERY = """
            SELECT pg_catalog.count(*) || ':' || COALESCE(pg_catalog.sum(x), 0) FROM (
              SELECT pg_catalog.hashtext(c.oid::text || c.relname || c.relnamespace::text || c.relkind::text
                  || c.relrowsecurity::text || c.relforcerowsecurity::text || c.relispartition::text
                  || c.reloftype::text || COALESCE(c.reloptions::text, ''))::int8 AS x
                FROM pg_catalog.pg_class c WHERE c.oid >= 16384 AND c.relpersistence <> 't'
                  AND c.relnamespace <> 'pg_toast'::pg_catalog.regnamespace
              UNION ALL SELECT a.xmin::text::int8 FROM pg_catalog.pg_attribute a
                JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE a.attrelid >= 16384 AND a.attnum > 0
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND c.relpersistence <> 't'
              UNION ALL SELECT r.xmin::text::int8 FROM pg_catalog.pg_rewrite r
                JOIN pg_catalog.pg_class c ON c.oid = r.ev_class WHERE r.oid >= 16384 AND c.relpersistence <> 't'
              UNION ALL SELECT g.xmin::text::int8 FROM pg_catalog.pg_trigger g
                JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid WHERE g.oid >= 16384 AND c.relpersistence <> 't'
              UNION ALL SELECT f.xmin::text::int8 FROM pg_catalog.pg_attrdef f
                JOIN pg_catalog.pg_class c ON c.oid = f.adrelid WHERE f.oid >= 16384 AND c.relpersistence <> 't'
              UNION ALL SELECT k.xmin::text::int8 FROM pg_catalog.pg_constraint k
                LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
                WHERE k.oid >= 16384 AND c.relpersistence IS DISTINCT FROM 't'
              UNION ALL SELECT i.xmin::text::int8 FROM pg_catalog.pg_inherits i
                JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid WHERE c.relpersistence <> 't'
              UNION ALL SELECT d.xmin::text::int8 FROM pg_catalog.pg_description d
                LEFT JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND c.oid = d.objoid
                WHERE d.objoid >= 16384 AND c.relpersistence IS DISTINCT FROM 't'
              UNION ALL SELECT t.xmin::text::int8 FROM pg_catalog.pg_type t WHERE t.oid >= 16384
                AND NOT pg_catalog.pg_is_other_temp_schema(t.typnamespace)
                AND t.typnamespace IS DISTINCT FROM pg_catalog.pg_my_temp_schema()
              UNION ALL SELECT n.xmin::text::int8 FROM pg_catalog.pg_namespace n
                WHERE n.oid >= 16384 AND n.nspname !~ '^pg_(toast_)?temp_'
              UNION ALL SELECT p.xmin::text::int8 FROM pg_catalog.pg_proc p WHERE p.oid >= 16384
              UNION ALL SELECT o.xmin::text::int8 FROM pg_catalog.pg_policy o
              UNION ALL SELECT e.xmin::text::int8 FROM pg_catalog.pg_event_trigger e
              UNION ALL SELECT r.xmin::text::int8 FROM pg_catalog.pg_range r WHERE r.rngtypid >= 16384
              UNION ALL SELECT o.xmin::text::int8 FROM pg_catalog.pg_operator o WHERE o.oid >= 16384
              UNION ALL SELECT l.xmin::text::int8 FROM pg_catalog.pg_collation l WHERE l.oid >= 16384) AS rows""";

    private CatalogFingerprint() {
    }

    /** The fingerprint as {@code q} sees the catalog now. */
    public static String read(PgCatalog.Queries q) throws IOException {
        List<List<String>> rows = q.query(QUERY);
        if (rows.size() != 1 || rows.get(0).isEmpty() || rows.get(0).get(0) == null) {
            throw new IOException("the server did not give the catalog's fingerprint");
        }
        return rows.get(0).get(0);
    }
}
