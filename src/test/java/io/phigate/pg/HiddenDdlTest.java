package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DDL the gateway does not see leaves the lineage it masks by stale (decision 0075; 0070's attacker's read 5):
 * {@code CREATE OR REPLACE VIEW hidden_summary AS SELECT id, ssn::text AS state FROM patients} keeps the view's OID
 * and column names, so a catalog read before it judges {@code state} as the untagged last name. Run by a vetted
 * SECURITY DEFINER function inside the session (a), or by an administrator while the session is open (b), the next
 * read must not hand the client an SSN.
 */
class HiddenDdlTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static final List<String> ssns = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP FUNCTION IF EXISTS public.hidden_redefine()");
            s.execute("DROP VIEW IF EXISTS public.hidden_summary");
            s.execute("CREATE VIEW public.hidden_summary AS SELECT id, last_name::text AS state FROM public.patients");
            s.execute("GRANT SELECT ON public.hidden_summary TO " + db.user());
            // Owned by the superuser that made the view: it may replace it whoever calls it.
            s.execute("""
                    CREATE FUNCTION public.hidden_redefine() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$
                    BEGIN
                      CREATE OR REPLACE VIEW public.hidden_summary AS SELECT id, ssn::text AS state FROM public.patients;
                      RETURN 1;
                    END $$""");
        }
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            ssns.addAll(column(s, "SELECT ssn FROM patients WHERE ssn IS NOT NULL"));
        }
        assertThat(ssns).isNotEmpty();
        // An operator vetted the function as one that reads no table and returns a constant.
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    functions: [hidden_redefine, hidden_shadow]
                    detection:
                      enabled: false
                masking:
                  key_file: masking.key
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        asSuperuser("DROP FUNCTION IF EXISTS public.hidden_redefine()", "DROP VIEW IF EXISTS public.hidden_summary");
    }

    /** Every test starts with the view reading the last name, and a gateway catalog read that way. */
    @BeforeEach
    void harmlessView() throws Exception {
        redefine("last_name::text");
        // A session started within the interval of the shared reading would be handed the catalog it shows and ended
        // at its next check (DDL by others is seen within CatalogCache.INTERVAL, decision 0075 "Shared freshness").
        pastTheSharedReading();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            assertThat(column(s, "SELECT state FROM hidden_summary")).doesNotContainAnyElementsOf(ssns).isNotEmpty();
        }
    }

    @Test
    void straightToTheServerTheFunctionMakesStateTheSsn() throws Exception {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("SELECT hidden_redefine()");
            assertThat(column(s, "SELECT state FROM hidden_summary")).containsAnyElementsOf(ssns);
        }
    }

    @Test
    void aVettedFunctionRedefiningAViewEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedBeforeTheRead(true);
    }

    @Test
    void aVettedFunctionRedefiningAViewInsideATransactionEndsTheSessionBeforeTheNextRead() throws Exception {
        assertEndedBeforeTheRead(false);
    }

    @Test
    void aVettedFunctionRedefiningAViewEarlierInTheSameBatchEndsTheSessionBeforeTheRead() throws Exception {
        // pgjdbc sends the two as Parse/Bind/Execute each and one Sync: the question comes within the batch (0070).
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties());
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "SELECT hidden_redefine(); SELECT state FROM hidden_summary")) {
            assertThatThrownBy(() -> {
                ps.execute();
                while (ps.getMoreResults() || ps.getUpdateCount() != -1) {
                    try (ResultSet rs = ps.getResultSet()) {
                        while (rs != null && rs.next()) {
                            received.add(rs.getString(1));
                        }
                    }
                }
            }).isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("catalog changed"));
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void anAdministratorRedefiningAViewDuringTheSessionEndsItBeforeItsNextTransaction() throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            assertThat(column(s, "SELECT state FROM hidden_summary")).doesNotContainAnyElementsOf(ssns);
            redefine("ssn::text");
            Thread.sleep(CatalogCheck.INTERVAL.toMillis() + 200);
            assertTheReadEndsTheSession(s, received);
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void anAdministratorsDdlAfterStatementsRunningNoCodeEndsTheSessionByTheSharedReading() throws Exception {
        // SELECT 1 runs no code, so nothing is asked in-band after it: only the upstream's shared reading shows it.
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            assertThat(column(s, "SELECT 1")).containsExactly("1");
            redefine("ssn::text");
            Thread.sleep(CatalogCheck.INTERVAL.toMillis() + 200);
            assertTheReadEndsTheSession(s, received);
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void straightToTheServerALaterStatementOfATransactionReadsTheViewAsReplacedMeanwhileAtEveryIsolationLevel()
            throws Exception {
        // Catalog lookups take their own snapshot, not the transaction's: REPEATABLE READ reads the new view's body too.
        // (The transaction must not have read the view yet: its lock would hold the administrator's DDL back.)
        for (int isolation : List.of(Connection.TRANSACTION_READ_COMMITTED, Connection.TRANSACTION_REPEATABLE_READ,
                Connection.TRANSACTION_SERIALIZABLE)) {
            redefine("last_name::text");
            try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
                c.setTransactionIsolation(isolation);
                c.setAutoCommit(false);
                assertThat(column(s, "SELECT count(*) FROM patients")).isNotEmpty(); // the snapshot is taken here
                redefine("ssn::text");
                assertThat(column(s, "SELECT state FROM hidden_summary")).as("isolation " + isolation)
                        .containsAnyElementsOf(ssns);
                c.rollback();
            }
        }
    }

    @Test
    void anAdministratorsDdlDuringAReadCommittedTransactionEndsTheSessionBeforeItsNextStatement() throws Exception {
        // SELECT 1 runs no code, so nothing is asked in-band after it: only the shared reading can show the change.
        assertEndedWithinATransaction(Connection.TRANSACTION_READ_COMMITTED, "SELECT 1");
    }

    @Test
    void anAdministratorsDdlDuringARepeatableReadTransactionEndsTheSessionBeforeItsNextStatement() throws Exception {
        // The transaction's snapshot is taken before the administrator's commit; the next statement's rewrite reads
        // the view's body by the catalog as committed now all the same.
        assertEndedWithinATransaction(Connection.TRANSACTION_REPEATABLE_READ, "SELECT count(*) FROM patients");
    }

    @Test
    void anAdministratorsDdlBeforeARollbackToASavepointEndsTheSessionBeforeTheRead() throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            java.sql.Savepoint savepoint = c.setSavepoint("before");
            assertThat(column(s, "SELECT 1")).containsExactly("1");
            redefine("ssn::text");
            pastTheSharedReading();
            received.addAll(summaryAfter(s, "catalog changed", () -> c.rollback(savepoint)));
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void theSessionsOwnDdlInsideATransactionDoesNotEndItThereNorAfterItsCommit() throws Exception {
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                assertThat(column(s, "SELECT 1")).containsExactly("1");
                s.execute("CREATE TABLE hidden_own_in_transaction (id int)");
                pastTheSharedReading();
                assertThat(column(s, "SELECT state FROM hidden_summary")).doesNotContainAnyElementsOf(ssns);
                c.commit();
                pastTheSharedReading();
                assertThat(column(s, "SELECT state FROM hidden_summary")).doesNotContainAnyElementsOf(ssns);
                pastTheSharedReading();
                assertThat(column(s, "SELECT 1")).containsExactly("1");
            } finally {
                c.rollback();
                c.setAutoCommit(true);
                s.execute("DROP TABLE IF EXISTS hidden_own_in_transaction");
            }
        }
    }

    @Test
    void aSessionStartedAfterAnAdministratorsDdlIsJudgedByTheNewView() throws Exception {
        redefine("ssn::text");
        pastTheSharedReading();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            List<String> states = column(s, "SELECT state FROM hidden_summary");
            assertThat(states).isNotEmpty().doesNotContainAnyElementsOf(ssns);
        }
    }

    @Test
    void theSessionsOwnDdlDoesNotEndIt() throws Exception {
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE hidden_own (id int)");
            try {
                Thread.sleep(CatalogCheck.INTERVAL.toMillis() + 200);
                assertThat(column(s, "SELECT state FROM hidden_summary")).doesNotContainAnyElementsOf(ssns);
            } finally {
                s.execute("DROP TABLE hidden_own");
            }
        }
    }

    @Test
    void theSessionsOwnDdlBesideTheFunctionDoesNotExplainTheFunctionsChange() throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE hidden_junk (id int); SELECT hidden_redefine()");
            assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM hidden_summary")))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("catalog changed"));
        } finally {
            asSuperuser("DROP TABLE IF EXISTS public.hidden_junk");
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void theSessionsOwnDdlRunningACheckConstraintsFunctionDoesNotLaunderItsChange() throws Exception {
        // ALTER TABLE ... VALIDATE CONSTRAINT names no function, yet runs the CHECK's (volatile, SECURITY DEFINER)
        // function over every row: the change it makes is not the session's own DDL's, and must not be adopted.
        TestDatabase db = TestDatabase.get();
        checkFunctionReplacingTheView();
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.hidden_checked");
            s.execute("CREATE TABLE public.hidden_checked (x int)");
            s.execute("INSERT INTO public.hidden_checked VALUES (1)");
            s.execute("ALTER TABLE public.hidden_checked ADD CONSTRAINT hidden_check"
                    + " CHECK (public.hidden_redefine_check(x)) NOT VALID");
        }
        List<String> received = readInANewSession(SELECT_ONE, "catalog changed",
                (c, s) -> s.execute("ALTER TABLE public.hidden_checked VALIDATE CONSTRAINT hidden_check"),
                "DROP TABLE IF EXISTS public.hidden_checked", "DROP FUNCTION IF EXISTS public.hidden_redefine_check(int)");
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    @Test
    void aVettedFunctionMakingATemporaryViewThatShadowsAViewDoesNotHandOutItsValues() throws Exception {
        // pg_temp comes first in every search_path: a temporary view the function makes in the session's own
        // temporary schema takes the unqualified name, and temporary objects are left out of the fingerprint.
        asSuperuser("""
                CREATE OR REPLACE FUNCTION public.hidden_shadow() RETURNS int LANGUAGE plpgsql
                SECURITY DEFINER AS $$
                BEGIN
                  CREATE TEMP VIEW hidden_summary AS SELECT id, ssn::text AS state FROM public.patients;
                  GRANT SELECT ON pg_temp.hidden_summary TO PUBLIC;
                  RETURN 1;
                END $$""");
        readInANewSession(NOTHING, "phigate", (c, s) -> s.execute("SELECT hidden_shadow()"),
                "DROP FUNCTION IF EXISTS public.hidden_shadow()");
    }

    @Test
    void theSessionsOwnAlterDomainValidateDoesNotLaunderWhatItsCheckRan() throws Exception {
        TestDatabase db = TestDatabase.get();
        checkFunctionReplacingTheView();
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.hidden_domained");
            s.execute("DROP DOMAIN IF EXISTS public.hidden_dom");
            s.execute("CREATE DOMAIN public.hidden_dom AS int");
            s.execute("CREATE TABLE public.hidden_domained (x public.hidden_dom)");
            s.execute("INSERT INTO public.hidden_domained VALUES (1)");
            s.execute("ALTER DOMAIN public.hidden_dom ADD CONSTRAINT hidden_dom_check"
                    + " CHECK (public.hidden_redefine_check(VALUE)) NOT VALID");
        }
        readInANewSession(SELECT_ONE, "phigate",
                (c, s) -> s.execute("ALTER DOMAIN public.hidden_dom VALIDATE CONSTRAINT hidden_dom_check"),
                "DROP TABLE IF EXISTS public.hidden_domained", "DROP DOMAIN IF EXISTS public.hidden_dom",
                "DROP FUNCTION IF EXISTS public.hidden_redefine_check(int)");
    }

    @Test
    void theSessionsOwnCreateTableAsCallingAUserOperatorDoesNotLaunderWhatTheOperatorRan() throws Exception {
        // An operator names no function in the text; its function replaces the view as the query runs.
        asSuperuser("""
                CREATE OR REPLACE FUNCTION public.hidden_redefine_op(bigint, int) RETURNS boolean
                LANGUAGE plpgsql SECURITY DEFINER AS $$
                BEGIN
                  CREATE OR REPLACE VIEW public.hidden_summary AS SELECT id, ssn::text AS state FROM public.patients;
                  RETURN true;
                END $$""", "DROP OPERATOR IF EXISTS public.=== (bigint, int)",
                "CREATE OPERATOR public.=== (LEFTARG = bigint, RIGHTARG = int, FUNCTION = public.hidden_redefine_op)");
        readInANewSession(SELECT_ONE, "phigate",
                (c, s) -> s.execute("CREATE TABLE hidden_ctas AS SELECT 1::bigint === 1 AS b"),
                "DROP TABLE IF EXISTS public.hidden_ctas", "DROP OPERATOR IF EXISTS public.=== (bigint, int)",
                "DROP FUNCTION IF EXISTS public.hidden_redefine_op(bigint, int)");
    }

    @Test
    void setConstraintsImmediateFiringADeferredTriggerCountsAsCode() throws Exception {
        // The INSERT queues the deferred trigger (asked after: nothing changed yet); SET CONSTRAINTS ALL IMMEDIATE
        // fires it, and the trigger's function replaces the view before the read.
        deferredTriggerReplacingTheView();
        readInANewSession((c, s) -> c.setAutoCommit(false), "catalog changed", (c, s) -> {
            s.execute("INSERT INTO hidden_deferred VALUES (1)");
            s.execute("SET CONSTRAINTS ALL IMMEDIATE");
        }, "DROP TABLE IF EXISTS public.hidden_deferred", "DROP FUNCTION IF EXISTS public.hidden_redefine_trigger()");
    }

    @Test
    void ownDdlLastInABatchWhoseCommitFiresADeferredTriggerDoesNotLaunderTheTriggersChange() throws Exception {
        // pgjdbc sends the batch with one Sync: the implicit transaction commits there, after the CREATE TABLE, and
        // the deferred trigger the INSERT queued fires then.
        deferredTriggerReplacingTheView();
        readInANewSession(NOTHING, "catalog changed", (c, s) -> {
            s.addBatch("INSERT INTO hidden_deferred VALUES (1)");
            s.addBatch("CREATE TABLE hidden_batch_junk (id int)");
            s.executeBatch();
        }, "DROP TABLE IF EXISTS public.hidden_deferred", "DROP TABLE IF EXISTS public.hidden_batch_junk",
                "DROP FUNCTION IF EXISTS public.hidden_redefine_trigger()");
    }

    /** public.hidden_deferred, whose deferred constraint trigger (SECURITY DEFINER) replaces the view. */
    private static void deferredTriggerReplacingTheView() throws SQLException {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.hidden_deferred");
            s.execute("CREATE TABLE public.hidden_deferred (id int)");
            s.execute("GRANT INSERT ON public.hidden_deferred TO " + db.user());
            s.execute("""
                    CREATE OR REPLACE FUNCTION public.hidden_redefine_trigger() RETURNS trigger LANGUAGE plpgsql
                    SECURITY DEFINER AS $$
                    BEGIN
                      CREATE OR REPLACE VIEW public.hidden_summary AS SELECT id, ssn::text AS state FROM public.patients;
                      RETURN NULL;
                    END $$""");
            s.execute("CREATE CONSTRAINT TRIGGER hidden_deferred_trigger AFTER INSERT ON public.hidden_deferred"
                    + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.hidden_redefine_trigger()");
        }
    }

    /** public.hidden_redefine_check(int): true, after replacing the view (SECURITY DEFINER, for a CHECK). */
    private static void checkFunctionReplacingTheView() throws SQLException {
        asSuperuser("""
                CREATE OR REPLACE FUNCTION public.hidden_redefine_check(int) RETURNS boolean LANGUAGE plpgsql
                SECURITY DEFINER AS $$
                BEGIN
                  CREATE OR REPLACE VIEW public.hidden_summary AS SELECT id, ssn::text AS state FROM public.patients;
                  RETURN true;
                END $$""");
    }

    private static void assertEndedBeforeTheRead(boolean autoCommit) throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            c.setAutoCommit(autoCommit);
            s.execute("SELECT hidden_redefine()");
            assertTheReadEndsTheSession(s, received);
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    /** Opens a transaction with {@code first}, has an administrator replace the view, waits, and reads it. */
    private static void assertEndedWithinATransaction(int isolation, String first) throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            c.setTransactionIsolation(isolation);
            c.setAutoCommit(false);
            assertThat(column(s, first)).doesNotContainAnyElementsOf(ssns).isNotEmpty();
            redefine("ssn::text");
            pastTheSharedReading();
            assertTheReadEndsTheSession(s, received);
        }
        assertThat(received).doesNotContainAnyElementsOf(ssns);
    }

    private static void redefine(String state) throws SQLException {
        asSuperuser("CREATE OR REPLACE VIEW public.hidden_summary AS SELECT id, " + state + " AS state FROM public.patients");
    }

    private static void asSuperuser(String... statements) throws SQLException {
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** The session was ended before the view's read, and its rows never reached {@code received}. */
    private static void assertTheReadEndsTheSession(Statement s, List<String> received) {
        assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM hidden_summary")))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("0A000");
                    assertThat(e.getMessage()).contains("phigate ended the session", "catalog changed");
                });
    }

    /** A step a test takes in its gateway session. */
    @FunctionalInterface
    private interface InSession {
        void run(Connection c, Statement s) throws SQLException;
    }

    private static final InSession NOTHING = (c, s) -> {
    };
    private static final InSession SELECT_ONE = (c, s) -> assertThat(column(s, "SELECT 1")).containsExactly("1");

    /**
     * The shape of the tests whose own statement runs code that replaces the view: past the shared reading, a new
     * session takes {@code first}, then {@code route} and the read of the view ({@link #summaryAfter}), which must
     * hand out no SSN; {@code cleanup} is run as the superuser whatever happened. Returns what the client received.
     */
    private static List<String> readInANewSession(InSession first, String endedWith, InSession route,
                                                  String... cleanup) throws Exception {
        pastTheSharedReading();
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            first.run(c, s);
            received.addAll(summaryAfter(s, endedWith, () -> route.run(c, s)));
            assertThat(received).doesNotContainAnyElementsOf(ssns);
        } finally {
            asSuperuser(cleanup);
        }
        return received;
    }

    /** A statement run by a test that may make the gateway end the session. */
    @FunctionalInterface
    private interface Route {
        void run() throws SQLException;
    }

    /**
     * Runs {@code route}, then reads the view it may have replaced: what the client received, or nothing when the
     * gateway refused or ended the session on the way, whose message must then say {@code endedWith}.
     */
    private static List<String> summaryAfter(Statement s, String endedWith, Route route) {
        List<String> received = new ArrayList<>();
        try {
            route.run();
            received.addAll(column(s, "SELECT state FROM hidden_summary"));
        } catch (SQLException e) {
            assertThat(e.getMessage()).contains(endedWith);
        }
        return received;
    }

    /** Waits past the shared reading's interval, so the next session's catalog is judged against the server's now. */
    private static void pastTheSharedReading() throws InterruptedException {
        Thread.sleep(io.phigate.sql.CatalogCache.INTERVAL.toMillis() + 200);
    }

    private static List<String> column(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
