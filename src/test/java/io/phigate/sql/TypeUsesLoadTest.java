package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import io.phigate.pg.backend.HousekeepingClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which stored columns hold a domain's values, as {@link PgCatalog#load} reads them from a real server: directly,
 * through a domain over it, an array, a range and its multirange, a composite, and a composite over an array of one
 * (decision 0074); and the tables a composite type types.
 */
class TypeUsesLoadTest {
    private static final TestDatabase DB = TestDatabase.get();
    private static PgCatalog catalog;

    @BeforeAll
    static void createAndLoad() throws Exception {
        try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
            dropAll(s);
            s.execute("CREATE DOMAIN tyu_d AS text");
            s.execute("CREATE DOMAIN tyu_sub AS tyu_d");
            s.execute("CREATE TYPE tyu_rng AS RANGE (subtype = tyu_d)");
            s.execute("CREATE TYPE tyu_comp AS (a tyu_d)");
            s.execute("CREATE TYPE tyu_outer AS (z tyu_comp[])");
            s.execute("CREATE TABLE tyu_direct (id int, x tyu_d)");
            s.execute("CREATE TABLE tyu_via_sub (x tyu_sub)");
            s.execute("CREATE TABLE tyu_arr (x tyu_d[])");
            s.execute("CREATE TABLE tyu_ranges (r tyu_rng, m tyu_rng_multirange)");
            s.execute("CREATE TABLE tyu_deep (x tyu_outer)");
            s.execute("CREATE TABLE tyu_typed OF tyu_comp");
            s.execute("CREATE VIEW tyu_view AS SELECT x FROM tyu_direct");
            s.execute("CREATE DOMAIN tyu_unused AS int");
            s.execute("CREATE TYPE tyu_enum AS ENUM ('a', 'b')");
            s.execute("CREATE DOMAIN tyu_enum_d AS tyu_enum");
            s.execute("CREATE TABLE tyu_enums (e tyu_enum, arr tyu_enum[], d tyu_enum_d)");
        }
        catalog = HousekeepingClient.loadCatalog(PgCatalogLoadTest.upstream());
    }

    @AfterAll
    static void drop() throws Exception {
        try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP VIEW IF EXISTS tyu_view");
        s.execute("DROP TABLE IF EXISTS tyu_direct, tyu_via_sub, tyu_arr, tyu_ranges, tyu_deep, tyu_typed, tyu_enums");
        s.execute("DROP TYPE IF EXISTS tyu_enum CASCADE");
        s.execute("DROP TYPE IF EXISTS tyu_outer, tyu_comp, tyu_rng CASCADE");
        s.execute("DROP DOMAIN IF EXISTS tyu_sub, tyu_d, tyu_unused CASCADE");
    }

    private static ColumnRef col(String table, String column) {
        return new ColumnRef("public", table, column);
    }

    @Test
    void everyStoredColumnBuiltOverTheDomainIsKnownAndNoViewsColumn() {
        Set<ColumnRef> expected = Set.of(col("tyu_direct", "x"), col("tyu_via_sub", "x"), col("tyu_arr", "x"),
                col("tyu_ranges", "r"), col("tyu_ranges", "m"), col("tyu_deep", "x"), col("tyu_typed", "a"));
        assertThat(catalog.columnsHoldingType("public", "tyu_d")).contains(expected);
        assertThat(catalog.columnsHoldingType(null, "tyu_d")).contains(expected);
        assertThat(catalog.columnsHoldingType("public", "tyu_sub")).contains(Set.of(col("tyu_via_sub", "x")));
        assertThat(catalog.columnsHoldingType("public", "tyu_unused")).contains(Set.of());
    }

    @Test
    void everyStoredColumnOfAnEnumOrBuiltOverOneIsKnown() {
        assertThat(catalog.columnsHoldingType("public", "tyu_enum")).contains(Set.of(col("tyu_enums", "e"),
                col("tyu_enums", "arr"), col("tyu_enums", "d")));
    }

    @Test
    void aDomainOrTypeItDoesNotKnowIsEmptyNotNone() {
        assertThat(catalog.columnsHoldingType("public", "tyu_missing")).isEmpty();
        assertThat(catalog.columnsHoldingType("other", "tyu_d")).isEmpty();
        assertThat(catalog.columnsHoldingType("information_schema", "sql_identifier")).isEmpty();
        assertThat(catalog.typedTables("public", "tyu_missing")).isEmpty();
    }

    @Test
    void knowsTheTablesACompositeTypeTypes() {
        assertThat(catalog.typedTables("public", "tyu_comp")).contains(Set.of(new TableRef("public", "tyu_typed")));
        assertThat(catalog.typedTables(null, "tyu_outer")).contains(Set.of());
    }
}
