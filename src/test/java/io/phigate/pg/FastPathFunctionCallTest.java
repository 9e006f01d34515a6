package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.fastpath.FastpathArg;
import org.postgresql.largeobject.LargeObject;
import org.postgresql.largeobject.LargeObjectManager;

/**
 * The fast-path FunctionCall names its function by OID and carries no SQL: in every analysed session only the
 * large-object calls pgjdbc makes may go that way (decision 0063). A session analysed for its justification (no
 * allow rules, no risk rules, nothing masked) could otherwise call set_config by OID and become another role.
 */
class FastPathFunctionCallTest {
    static final String JUSTIFIED = "system:serviceaccount:clinical:fastpath-justified";
    static final String SCOPED = "system:serviceaccount:clinical:fastpath-scoped";
    static final String OTHER_ROLE = "fastpath_other";
    static final int SET_CONFIG = 2078;

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + OTHER_ROLE);
            s.execute("CREATE ROLE " + OTHER_ROLE + " NOLOGIN");
            s.execute("GRANT " + OTHER_ROLE + " TO " + db.user());
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: justified
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    justification: required
                  - name: scoped
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.patients"], operations: [select] }
                """.formatted(JUSTIFIED, SCOPED));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + OTHER_ROLE);
        }
    }

    private static Connection justified() throws Exception {
        Properties p = new Properties();
        p.setProperty("options", "-c phigate.justification=fast-path-test");
        return gw.connectAs(JUSTIFIED, p);
    }

    /** The allow list is the server's own: each OID names the large-object function it says, in pg_catalog. */
    @Test
    void theAllowedOidsAreTheLargeObjectFunctionsInTheServersCatalog() throws Exception {
        List<String> expected = List.of("lo_close", "lo_creat", "lo_create", "lo_lseek", "lo_lseek64", "lo_open",
                "lo_tell", "lo_tell64", "lo_truncate", "lo_truncate64", "lo_unlink", "loread", "lowrite");
        List<String> named = new ArrayList<>();
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            for (String name : expected) {
                try (ResultSet rs = s.executeQuery("SELECT oid FROM pg_proc WHERE proname = '" + name + "'"
                        + " AND pronamespace = 'pg_catalog'::regnamespace")) {
                    assertThat(rs.next()).as(name).isTrue();
                    int oid = rs.getInt(1);
                    assertThat(rs.next()).as(name + " has one overload").isFalse();
                    assertThat(io.phigate.session.FastPathFunctions.allowed(oid)).as(name)
                            .isEqualTo("pg_catalog." + name);
                    named.add(name);
                }
            }
        }
        assertThat(named).hasSize(expected.size());
        assertThat(io.phigate.session.FastPathFunctions.allowed(SET_CONFIG)).isNull();
    }

    @Test
    void pgjdbcsLargeObjectManagerWorksInASessionAnalysedForItsJustification() throws Exception {
        byte[] scan = new byte[100_000];
        new java.util.Random(63).nextBytes(scan);
        try (Connection c = justified()) {
            c.setAutoCommit(false);
            LargeObjectManager lom = c.unwrap(PGConnection.class).getLargeObjectAPI();
            long oid = lom.createLO();
            try (LargeObject lo = lom.open(oid, LargeObjectManager.WRITE)) {
                lo.write(scan);
                lo.truncate(scan.length);
            }
            try (LargeObject lo = lom.open(oid, LargeObjectManager.READ)) {
                lo.seek(10);
                assertThat(lo.tell()).isEqualTo(10);
                lo.seek(0);
                assertThat(lo.read(scan.length)).isEqualTo(scan);
            }
            lom.delete(oid);
            c.commit();
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and protocol = 'function_call'"
                + " and statement like '%(pg_catalog.lowrite)%'", 1)).isNotEmpty();
    }

    /** The control: straight to the server, set_config by OID makes the session another role. */
    @Test
    void setConfigByOidChangesTheRoleStraightToTheServer() throws Exception {
        try (Connection c = TestDatabase.get().direct()) {
            setRoleByFastPath(c);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(OTHER_ROLE);
            }
        }
    }

    @Test
    void setConfigByOidIsRefusedInASessionAnalysedForItsJustificationAndTheRoleStays() throws Exception {
        try (Connection c = justified()) {
            assertThatThrownBy(() -> setRoleByFastPath(c)).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("call the function from a SELECT");
            });
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(TestDatabase.get().user());
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%call the function from a SELECT%'", 1)).isNotEmpty();
        assertThat(gw.audit("kind = 'statement_requested' and protocol = 'function_call'"
                + " and statement = '-- function call: oid " + SET_CONFIG + "'")).isNotEmpty();
    }

    /** The same refusal through a hand-made FunctionCall, for a function pgjdbc's API would never name. */
    @Test
    void aRawFunctionCallOfAnyOtherOidIsRefusedAndTheSessionGoesOn() throws Exception {
        int readFile;
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'pg_read_file(text)'::regprocedure::oid")) {
            rs.next();
            readFile = rs.getInt(1);
        }
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token(JUSTIFIED, Duration.ofMinutes(5)));
            c.send(MessageCodec.encode(new FrontendMessage.Query("SET phigate.justification = 'raw'")));
            assertThat(c.readUntilReadyOrError().getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
            for (int oid : List.of(SET_CONFIG, readFile, 764 /* lo_import: a server file */)) {
                byte[][] args = oid == SET_CONFIG ? new byte[][]{text("role"), text(OTHER_ROLE), text("false")}
                        : new byte[][]{text("postgresql.conf")};
                c.send(MessageCodec.encode(new FrontendMessage.FunctionCall(oid, new short[]{0}, args, (short) 0)));
                List<BackendMessage> got = c.readUntilReadyOrError();
                assertThat(got.getLast()).as("oid " + oid).isInstanceOfSatisfying(BackendMessage.ErrorResponse.class,
                        e -> assertThat(e.fields()).containsEntry((byte) 'C', "42501"));
                assertThat(c.readUntilReadyOrError().getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
            }
            c.send(MessageCodec.encode(new FrontendMessage.Query("SELECT current_user")));
            List<BackendMessage> got = c.readUntilReadyOrError();
            assertThat(got).anySatisfy(m -> assertThat(m).isInstanceOfSatisfying(BackendMessage.DataRow.class,
                    row -> assertThat(new String(row.values()[0], StandardCharsets.UTF_8))
                            .isEqualTo(TestDatabase.get().user())));
        }
    }

    /**
     * Large objects are not tables, so a table scope cannot say which of them a role may read. A scoped role's
     * fast-path call stays refused (its scope cannot be checked on an unparsed statement), and the same functions
     * from a SELECT are volatile built-ins that need a {@code function} grant (decision 0058).
     */
    @Test
    void aScopedRoleReachesLargeObjectsNeitherByFastPathNorFromASelectWithoutAGrant() throws Exception {
        long oid;
        try (Connection d = TestDatabase.get().direct(); Statement s = d.createStatement();
             ResultSet rs = s.executeQuery("SELECT lo_from_bytea(0, 'not a table'::bytea)")) {
            rs.next();
            oid = rs.getLong(1);
        }
        try (Connection c = gw.connectAs(SCOPED, new Properties())) {
            c.setAutoCommit(false);
            // (pgjdbc's LargeObjectManager cannot even start: it reads pg_proc, outside the scope.)
            assertThatThrownBy(() -> c.unwrap(PGConnection.class).getFastpathAPI().fastpath(952,
                    new FastpathArg[]{new FastpathArg((int) oid), new FastpathArg(LargeObjectManager.READ)}))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("its scope cannot be checked"));
            c.rollback();
            try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("SELECT lo_get(" + oid + ")"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("42501");
                            assertThat(e.getMessage()).contains("lo_get");
                        });
            }
        } finally {
            try (Connection d = TestDatabase.get().direct(); Statement s = d.createStatement()) {
                s.execute("SELECT lo_unlink(" + oid + ")");
            }
        }
    }

    private static void setRoleByFastPath(Connection c) throws SQLException {
        c.unwrap(PGConnection.class).getFastpathAPI().fastpath(SET_CONFIG, new FastpathArg[]{
            new FastpathArg("role"), new FastpathArg(OTHER_ROLE), new FastpathArg(new byte[]{0})});
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

}
