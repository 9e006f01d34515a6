package io.phigate.sql;

import java.util.Set;

/**
 * Relations that hold values of other tables' columns (planner statistics keep a column's most common values) or
 * other sessions' statement texts, literals included, which no lineage can trace to a column: a session that sees
 * PHI masked may not read them (decisions 0079, 0080). The server's own are known by name in pg_catalog. An
 * extension's are known by the extension that owns them (pg_depend), since an extension is created in any schema
 * ({@code public} usually) and its view may be renamed; by name too, in any schema, so that a catalog built without
 * extensions, or one made since it was read, still refuses them.
 */
public final class ValueBearingRelations {
    /**
     * pg_catalog's statistics views and tables, and pg_stat_statements' view. Not pg_statistic_ext: since
     * PostgreSQL 12 it holds only the statistics objects' definitions (the values are in pg_statistic_ext_data),
     * and psql's {@code \d} reads it. Not pg_stat_activity, pg_prepared_statements and pg_cursors: lineage models
     * them ({@link SessionViews}).
     */
    private static final Set<String> NAMES = Set.of("pg_stats", "pg_stats_ext", "pg_stats_ext_exprs",
            "pg_statistic", "pg_statistic_ext_data", "pg_stat_statements");
    /**
     * Extensions whose views show other sessions' statements, plans or predicates' constants: pg_stat_statements
     * (query texts), pg_stat_monitor (query texts), pg_qualstats (the constants of WHERE clauses), pg_store_plans
     * and pg_show_plans (plans, with their constants).
     */
    private static final Set<String> EXTENSIONS = Set.of("pg_stat_statements", "pg_stat_monitor", "pg_qualstats",
            "pg_store_plans", "pg_show_plans");

    private ValueBearingRelations() {
    }

    /** True when reading {@code t} shows values no lineage can trace: refused to a session that sees PHI masked. */
    public static boolean holdsOthersValues(TableRef t, Catalog catalog) {
        if (NAMES.contains(t.table())) {
            return true;
        }
        PgCatalog pg = PgCatalog.of(catalog);
        String extension = pg == null ? null : pg.extensionOf(t);
        return extension != null && EXTENSIONS.contains(extension);
    }
}
