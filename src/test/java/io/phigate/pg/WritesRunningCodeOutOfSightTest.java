package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes to tables with no trigger, rule, row security or code in a default, CHECK or index expression that still
 * run code on the server (decision 0087): an assignment cast made with a function, an index whose operator class
 * compares with a function, a default or generated column through an operator. Each function moves
 * {@code search_path} to a schema whose {@code patients.state} is the SSN; the session must end before the next
 * read. The database holds no domain whose CHECK calls code, so no write counts as code for that reason.
 */
class WritesRunningCodeOutOfSightTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static List<String> ssns;

    private static final String MOVE = "PERFORM set_config('search_path', 'wrc_evil, public', false);";

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE SCHEMA wrc_evil");
            s.execute("CREATE VIEW wrc_evil.patients AS SELECT id, ssn AS state FROM public.patients");
            s.execute("GRANT USAGE ON SCHEMA wrc_evil TO " + db.user());
            s.execute("GRANT SELECT ON wrc_evil.patients TO " + db.user());
            // An assignment cast from int into a composite: INSERT ... VALUES (1, 1) calls it, naming nothing.
            s.execute("CREATE TYPE public.wrc_box AS (n int)");
            s.execute("CREATE FUNCTION public.wrc_to_box(v int) RETURNS public.wrc_box IMMUTABLE LANGUAGE plpgsql"
                    + " AS $$ BEGIN " + MOVE + " RETURN ROW(v)::public.wrc_box; END $$");
            s.execute("CREATE CAST (int AS public.wrc_box) WITH FUNCTION public.wrc_to_box(int) AS ASSIGNMENT");
            s.execute("CREATE TABLE public.wrc_cast (id int, b public.wrc_box)");
            // A btree operator class whose comparison is a function: every insertion into the index calls it.
            s.execute("CREATE FUNCTION public.wrc_cmp(a int, b int) RETURNS int IMMUTABLE LANGUAGE plpgsql"
                    + " AS $$ BEGIN " + MOVE + " RETURN btint4cmp(a, b); END $$");
            s.execute("""
                    CREATE OPERATOR CLASS public.wrc_int_ops FOR TYPE int USING btree AS
                      OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
                      FUNCTION 1 public.wrc_cmp(int, int)""");
            s.execute("CREATE TABLE public.wrc_sorted (id int, n int)");
            s.execute("CREATE INDEX ON public.wrc_sorted (n public.wrc_int_ops)");
            s.execute("INSERT INTO public.wrc_sorted VALUES (1, 1)");
            // A default and a generated column through an operator whose function is marked immutable.
            s.execute("CREATE FUNCTION public.wrc_plus(a int, b int) RETURNS int IMMUTABLE LANGUAGE plpgsql"
                    + " AS $$ BEGIN " + MOVE + " RETURN a + b; END $$");
            s.execute("CREATE OPERATOR public.#%# (LEFTARG = int, RIGHTARG = int, FUNCTION = public.wrc_plus)");
            s.execute("CREATE TABLE public.wrc_op_default (id int, n int DEFAULT (1 OPERATOR(public.#%#) 2))");
            s.execute("CREATE TABLE public.wrc_op_generated (id int,"
                    + " n int GENERATED ALWAYS AS (id OPERATOR(public.#%#) 1) STORED)");
            // An implicit cast from a composite to int: a read comparing the column with 1 calls it, naming nothing.
            s.execute("CREATE TYPE public.wrc_num AS (n int)");
            s.execute("CREATE FUNCTION public.wrc_num_int(v public.wrc_num) RETURNS int IMMUTABLE LANGUAGE plpgsql"
                    + " AS $$ BEGIN " + MOVE + " RETURN v.n; END $$");
            s.execute("CREATE CAST (public.wrc_num AS int) WITH FUNCTION public.wrc_num_int(public.wrc_num)"
                    + " AS IMPLICIT");
            s.execute("CREATE TABLE public.wrc_nums (id int, v public.wrc_num)");
            s.execute("INSERT INTO public.wrc_nums VALUES (1, ROW(1))");
            // A table whose writes run nothing: the control, which must not end the session.
            s.execute("CREATE TABLE public.wrc_plain (id int, n int)");
            s.execute("GRANT SELECT, INSERT, UPDATE ON public.wrc_cast, public.wrc_sorted, public.wrc_op_default,"
                    + " public.wrc_op_generated, public.wrc_plain, public.wrc_nums TO " + db.user());
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
        s.execute("DROP TABLE IF EXISTS public.wrc_cast, public.wrc_sorted, public.wrc_op_default,"
                + " public.wrc_op_generated, public.wrc_plain, public.wrc_nums");
        s.execute("DROP CAST IF EXISTS (public.wrc_num AS int)");
        s.execute("DROP FUNCTION IF EXISTS public.wrc_num_int(public.wrc_num)");
        s.execute("DROP TYPE IF EXISTS public.wrc_num");
        s.execute("DROP CAST IF EXISTS (int AS public.wrc_box)");
        s.execute("DROP FUNCTION IF EXISTS public.wrc_to_box(int)");
        s.execute("DROP TYPE IF EXISTS public.wrc_box");
        s.execute("DROP OPERATOR FAMILY IF EXISTS public.wrc_int_ops USING btree CASCADE");
        s.execute("DROP FUNCTION IF EXISTS public.wrc_cmp(int, int)");
        s.execute("DROP OPERATOR IF EXISTS public.#%# (int, int)");
        s.execute("DROP FUNCTION IF EXISTS public.wrc_plus(int, int)");
        s.execute("DROP SCHEMA IF EXISTS wrc_evil CASCADE");
    }

    @Test
    void anAssignmentCastMadeWithAFunctionEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter("INSERT INTO wrc_cast VALUES (1, 1)");
        assertEndedAfter("UPDATE wrc_cast SET b = 2");
    }

    @Test
    void anIndexWhoseOperatorClassComparesWithAFunctionEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter("INSERT INTO wrc_sorted VALUES (2, 2)");
    }

    @Test
    void aDefaultOrGeneratedColumnThroughAnOperatorEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter("INSERT INTO wrc_op_default (id) VALUES (1)");
        assertEndedAfter("INSERT INTO wrc_op_generated (id) VALUES (1)");
    }

    @Test
    void aReadThroughAnImplicitCastMadeWithAFunctionEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedAfter("SELECT count(*) FROM wrc_nums WHERE v = id");
    }

    @Test
    void aWriteToATableThatRunsNothingStillGoesOn() throws Exception {
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("INSERT INTO wrc_plain VALUES (1, 1)");
            assertThat(SsnUnderAMovedPath.column(s, "SELECT state FROM patients")).doesNotContainAnyElementsOf(ssns);
            assertThat(c.isValid(2)).isTrue();
        }
    }

    private static void assertEndedAfter(String write) throws Exception {
        SsnUnderAMovedPath.assertEndedAfter(gw, ssns, write);
    }
}
