package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import io.phigate.pg.backend.HousekeepingClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The code a write runs with no trigger, rule, row security or function named in a default, CHECK or index
 * expression, as {@link PgCatalog#load} reads it from a real server (decision 0087): each route on a table of its
 * own, so that one route's table is judged by that route alone.
 */
class WritesRunningCodeLoadTest {
    private static final TestDatabase DB = TestDatabase.get();
    private static PgCatalog catalog;

    @BeforeAll
    static void createAndLoad() throws Exception {
        try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
            dropAll(s);
            s.execute("CREATE FUNCTION public.wcl_cmp(a int, b int) RETURNS int IMMUTABLE LANGUAGE sql"
                    + " AS 'SELECT btint4cmp(a, b)'");
            s.execute("""
                    CREATE OPERATOR CLASS public.wcl_int_ops FOR TYPE int USING btree AS
                      OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
                      FUNCTION 1 public.wcl_cmp(int, int)""");
            s.execute("CREATE TABLE public.wcl_sorted (n int)");
            s.execute("CREATE INDEX ON public.wcl_sorted (n public.wcl_int_ops)");
            // The key's unique index compares with the function: the check of a child's insert scans it.
            s.execute("CREATE TABLE public.wcl_parent (id int)");
            s.execute("CREATE UNIQUE INDEX wcl_parent_key ON public.wcl_parent (id public.wcl_int_ops)");
            s.execute("CREATE TABLE public.wcl_child (parent int REFERENCES public.wcl_parent (id))");
            s.execute("CREATE TABLE public.wcl_partitioned (n int) PARTITION BY RANGE (n public.wcl_int_ops)");
            s.execute("CREATE FUNCTION public.wcl_plus(a int, b int) RETURNS int IMMUTABLE LANGUAGE sql"
                    + " AS 'SELECT a + b'");
            s.execute("CREATE OPERATOR public.#%# (LEFTARG = int, RIGHTARG = int, FUNCTION = public.wcl_plus)");
            s.execute("CREATE TABLE public.wcl_op_default (n int DEFAULT (1 OPERATOR(public.#%#) 2))");
            // A function made after initdb in pg_catalog is no built-in for being there.
            s.execute("CREATE FUNCTION pg_catalog.wcl_in_catalog() RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 1'");
            s.execute("CREATE TABLE public.wcl_catalog_default (n int DEFAULT pg_catalog.wcl_in_catalog())");
            s.execute("CREATE TABLE public.wcl_plain (id int PRIMARY KEY, n int DEFAULT 1)");
            s.execute("CREATE TABLE public.wcl_plain_child (parent int REFERENCES public.wcl_plain)");
            // A cascade into a partitioned table reaches its partitions: each holds a clone of the key.
            s.execute("CREATE TABLE public.wcl_parts (parent int REFERENCES public.wcl_plain ON DELETE CASCADE)"
                    + " PARTITION BY RANGE (parent)");
            s.execute("CREATE TABLE public.wcl_parts_1 PARTITION OF public.wcl_parts FOR VALUES FROM (0) TO (10)");
            // A trigger on a partitioned table is cloned onto each partition (as internal before PostgreSQL 15).
            s.execute("CREATE FUNCTION public.wcl_on_row() RETURNS trigger LANGUAGE plpgsql"
                    + " AS 'BEGIN RETURN NEW; END'");
            s.execute("CREATE TABLE public.wcl_trig_parts (n int) PARTITION BY RANGE (n)");
            s.execute("CREATE TABLE public.wcl_trig_parts_1 PARTITION OF public.wcl_trig_parts"
                    + " FOR VALUES FROM (0) TO (10)");
            s.execute("CREATE TRIGGER wcl_each AFTER INSERT ON public.wcl_trig_parts"
                    + " FOR EACH ROW EXECUTE FUNCTION public.wcl_on_row()");
            s.execute("CREATE TABLE public.wcl_trig_parts_2 PARTITION OF public.wcl_trig_parts"
                    + " FOR VALUES FROM (10) TO (20)");
            s.execute("CREATE TYPE public.wcl_box AS (n int)");
            s.execute("CREATE TYPE public.wcl_crate AS (n int)");
            s.execute("CREATE FUNCTION public.wcl_to_box(v public.wcl_crate) RETURNS public.wcl_box IMMUTABLE"
                    + " LANGUAGE sql AS 'SELECT ROW(v.n)::public.wcl_box'");
            // Between two types of its own, so no built-in type (and no range over one) counts through it here.
            s.execute("CREATE CAST (public.wcl_crate AS public.wcl_box) WITH FUNCTION"
                    + " public.wcl_to_box(public.wcl_crate) AS ASSIGNMENT");
            s.execute("CREATE FUNCTION public.wcl_diff(a float8, b float8) RETURNS float8 IMMUTABLE LANGUAGE sql"
                    + " AS 'SELECT a - b'");
            s.execute("CREATE TYPE public.wcl_rng AS RANGE (subtype = float8, subtype_diff = public.wcl_diff)");
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
        s.execute("DROP TABLE IF EXISTS public.wcl_trig_parts, public.wcl_parts, public.wcl_sorted, public.wcl_child, public.wcl_parent,"
                + " public.wcl_partitioned, public.wcl_op_default, public.wcl_catalog_default, public.wcl_plain_child,"
                + " public.wcl_plain");
        s.execute("DROP OPERATOR FAMILY IF EXISTS public.wcl_int_ops USING btree CASCADE");
        s.execute("DROP FUNCTION IF EXISTS public.wcl_cmp(int, int)");
        s.execute("DROP OPERATOR IF EXISTS public.#%# (int, int)");
        s.execute("DROP FUNCTION IF EXISTS public.wcl_plus(int, int)");
        s.execute("DROP FUNCTION IF EXISTS pg_catalog.wcl_in_catalog()");
        s.execute("DROP CAST IF EXISTS (public.wcl_crate AS public.wcl_box)");
        s.execute("DROP FUNCTION IF EXISTS public.wcl_to_box(public.wcl_crate)");
        s.execute("DROP TYPE IF EXISTS public.wcl_box, public.wcl_crate, public.wcl_rng");
        s.execute("DROP FUNCTION IF EXISTS public.wcl_diff(float8, float8)");
        s.execute("DROP FUNCTION IF EXISTS public.wcl_on_row()");
    }

    private static boolean runsCode(String table) {
        return catalog.runsCode(new TableRef("public", table));
    }

    @Test
    void anIndexOrPartitionKeyWhoseOperatorClassCallsAFunctionRunsCodeAndSoDoesAForeignKeyOverOne() {
        assertThat(runsCode("wcl_sorted")).isTrue();
        assertThat(catalog.runsCodeWhenRead(new TableRef("public", "wcl_sorted"))).as("a scan of the index").isTrue();
        assertThat(runsCode("wcl_partitioned")).isTrue();
        assertThat(runsCode("wcl_parent")).isTrue();
        assertThat(runsCode("wcl_child")).isTrue();
    }

    @Test
    void aDefaultThroughAnOperatorOrAFunctionMadeInPgCatalogRunsCode() {
        assertThat(runsCode("wcl_op_default")).isTrue();
        assertThat(runsCode("wcl_catalog_default")).isTrue();
    }

    @Test
    void aCastsTypesAndARangeWithAFunctionMadeAfterInitdbMakeValuesRunningCode() {
        assertThat(catalog.makingValuesRunsCode("wcl_box")).isTrue();
        assertThat(catalog.makingValuesRunsCode("wcl_crate")).isTrue();
        assertThat(catalog.makingValuesRunsCode("int4")).as("no cast of its own").isFalse();
        assertThat(catalog.makingValuesRunsCode("wcl_rng")).isTrue();
        assertThat(catalog.makingValuesRunsCode("wcl_rng_multirange")).isTrue();
        assertThat(catalog.hasCodeTypes()).isTrue();
    }

    @Test
    void aCascadeIntoAPartitionedTableReachesItsPartitions() {
        assertThat(catalog.writtenThroughKeys(new TableRef("public", "wcl_plain"), Operation.DELETE))
                .contains(new TableRef("public", "wcl_parts"), new TableRef("public", "wcl_parts_1"));
    }

    @Test
    void aPartitionRunsTheTriggerItsParentClonedOntoIt() {
        assertThat(runsCode("wcl_trig_parts")).isTrue();
        assertThat(runsCode("wcl_trig_parts_1")).as("attached before the trigger").isTrue();
        assertThat(runsCode("wcl_trig_parts_2")).as("attached after the trigger").isTrue();
    }

    @Test
    void aPlainTableAndAForeignKeyToItRunNothing() {
        assertThat(runsCode("wcl_plain")).isFalse();
        assertThat(runsCode("wcl_plain_child")).isFalse();
        assertThat(catalog.runsCodeWhenRead(new TableRef("public", "wcl_plain"))).isFalse();
        assertThat(catalog.runsCodeWhenRead(new TableRef("public", "wcl_child"))).as("a key's other end").isFalse();
    }
}
