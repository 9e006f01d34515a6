package io.phigate.pg;


import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code the catalog's reading of code skipped (decision 0087): a trigger made on a partitioned table runs on a write
 * to a partition named directly, and before PostgreSQL 15 the partition's copy of it is an internal trigger; an index
 * whose operator class compares with a function runs it when a read scans the index. Kept apart from
 * {@link WritesRunningCodeOutOfSightTest}, whose casts make every write count as code.
 */
class ClonedTriggersAndIndexScansOutOfSightTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static List<String> ssns;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE SCHEMA ptr_evil");
            s.execute("CREATE VIEW ptr_evil.patients AS SELECT id, ssn AS state FROM public.patients");
            s.execute("GRANT USAGE ON SCHEMA ptr_evil TO " + db.user());
            s.execute("GRANT SELECT ON ptr_evil.patients TO " + db.user());
            s.execute("CREATE FUNCTION public.ptr_move() RETURNS trigger LANGUAGE plpgsql AS $$"
                    + " BEGIN PERFORM set_config('search_path', 'ptr_evil, public', false); RETURN NEW; END $$");
            s.execute("CREATE TABLE public.ptr_parts (id int, n int) PARTITION BY RANGE (id)");
            s.execute("CREATE TABLE public.ptr_parts_1 PARTITION OF public.ptr_parts FOR VALUES FROM (0) TO (100)");
            s.execute("CREATE TRIGGER ptr_each AFTER INSERT ON public.ptr_parts"
                    + " FOR EACH ROW EXECUTE FUNCTION public.ptr_move()");
            s.execute("GRANT SELECT, INSERT ON public.ptr_parts, public.ptr_parts_1 TO " + db.user());
            // A read scanning an index whose operator class compares with such a function calls it too.
            s.execute("CREATE FUNCTION public.ptr_cmp(a int, b int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$"
                    + " BEGIN PERFORM set_config('search_path', 'ptr_evil, public', false); RETURN btint4cmp(a, b);"
                    + " END $$");
            s.execute("""
                    CREATE OPERATOR CLASS public.ptr_int_ops FOR TYPE int USING btree AS
                      OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
                      FUNCTION 1 public.ptr_cmp(int, int)""");
            s.execute("CREATE TABLE public.ptr_sorted (id int, n int)");
            s.execute("INSERT INTO public.ptr_sorted SELECT g, g FROM generate_series(1, 1000) g");
            s.execute("CREATE INDEX ON public.ptr_sorted (n public.ptr_int_ops)");
            s.execute("ANALYZE public.ptr_sorted");
            s.execute("GRANT SELECT ON public.ptr_sorted TO " + db.user());
        }
        ssns = SsnUnderAMovedPath.ssnsInClear();
        gw = SsnUnderAMovedPath.startMasking(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP TABLE IF EXISTS public.ptr_parts, public.ptr_sorted");
        s.execute("DROP OPERATOR FAMILY IF EXISTS public.ptr_int_ops USING btree CASCADE");
        s.execute("DROP FUNCTION IF EXISTS public.ptr_cmp(int, int)");
        s.execute("DROP FUNCTION IF EXISTS public.ptr_move()");
        s.execute("DROP SCHEMA IF EXISTS ptr_evil CASCADE");
    }

    @Test
    void aReadScanningAnIndexWhoseOperatorClassCallsAFunctionEndsTheSessionBeforeTheNextRead() throws Exception {
        SsnUnderAMovedPath.assertEndedAfterARowOf(gw, ssns, "SELECT id FROM ptr_sorted WHERE n = 7");
    }

    @Test
    void aWriteToAPartitionWhoseParentHasATriggerEndsTheSessionBeforeTheNextRead() throws Exception {
        for (String write : List.of("INSERT INTO ptr_parts_1 VALUES (1, 1)", "INSERT INTO ptr_parts VALUES (2, 2)")) {
            SsnUnderAMovedPath.assertEndedAfter(gw, ssns, write);
        }
    }
}
