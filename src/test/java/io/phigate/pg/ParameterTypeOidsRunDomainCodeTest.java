package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PGobject;

/**
 * A Parse message may give a parameter's type as an OID: a domain whose CHECK calls a function then runs that
 * function when a value is bound, though no type is named in the text (decision 0080). A risk rule that denies
 * deletes from {@code ptoid_t} must deny a statement whose parameter's domain deletes from it, as it denies the same
 * statement with the domain named in the text (decision 0070); an OID the catalog does not know fails closed as an
 * unknown type name does.
 */
class ParameterTypeOidsRunDomainCodeTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;
    static int domainOid;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            dropAll(s);
            s.execute("CREATE TABLE ptoid_t (id int PRIMARY KEY)");
            s.execute("INSERT INTO ptoid_t SELECT generate_series(1, 10)");
            s.execute("CREATE FUNCTION ptoid_chk(i int) RETURNS boolean LANGUAGE plpgsql AS"
                    + " $$ BEGIN DELETE FROM ptoid_t WHERE id = i; RETURN true; END $$");
            s.execute("CREATE DOMAIN ptoid_dom AS int CHECK (ptoid_chk(VALUE))");
            try (ResultSet rs = s.executeQuery("SELECT 'ptoid_dom'::regtype::oid")) {
                rs.next();
                domainOid = rs.getInt(1);
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                rules:
                  - name: purges
                    when: { operations: [delete], tables: [ptoid_t] }
                    deny: "no purges of ptoid_t"
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection c = db.direct(); Statement s = c.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP TABLE IF EXISTS ptoid_t");
        s.execute("DROP DOMAIN IF EXISTS ptoid_dom");
        s.execute("DROP FUNCTION IF EXISTS ptoid_chk(int)");
    }

    private static boolean present(int id) throws SQLException {
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM ptoid_t WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    private static PGobject domainValue(int id) throws SQLException {
        PGobject o = new PGobject();
        o.setType("ptoid_dom");
        o.setValue(Integer.toString(id));
        return o;
    }

    @Test
    void bindingAValueOfTheDomainRunsItsCheckWithNoTypeInTheText() throws Exception {
        try (Connection c = db.direct(); PreparedStatement ps = c.prepareStatement("SELECT ? IS NOT NULL")) {
            ps.setObject(1, domainValue(10));
            ps.executeQuery().close();
        }
        assertThat(present(10)).as("the domain's CHECK deleted the row").isFalse();
    }

    @Test
    void aParameterTypedByTheDomainsOidIsJudgedAsTheDomainNamedInTheText() throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("preferQueryMode", "extended");
        try (Connection c = gw.connectAs(GatewayHarness.AGENT, p)) {
            try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("SELECT 2::ptoid_dom IS NOT NULL")).as("named in the text")
                        .isInstanceOf(SQLException.class).hasMessageContaining("no purges");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ? IS NOT NULL")) {
                ps.setObject(1, domainValue(3));
                assertThatThrownBy(ps::executeQuery).as("typed by OID in the Parse")
                        .isInstanceOf(SQLException.class).hasMessageContaining("no purges");
            }
        }
        assertThat(present(2)).isTrue();
        assertThat(present(3)).as("the CHECK never ran").isTrue();
    }

    @Test
    void aRawParseWithTheDomainsOidOrAnUnknownOidIsDenied() throws Exception {
        for (int oid : new int[] {domainOid, (int) 3_999_999_999L}) {
            List<BackendMessage> got = parseBindExecute(oid, "4");
            assertThat(got).as("OID " + Integer.toUnsignedString(oid) + ": " + got)
                    .anySatisfy(m -> assertThat(m).isInstanceOfSatisfying(BackendMessage.ErrorResponse.class,
                            e -> assertThat(e.fields().get((byte) 'M')).contains("no purges")));
        }
        assertThat(present(4)).isTrue();
        // A built-in type by OID is judged as its name in the text: int4 runs no code.
        assertThat(parseBindExecute(23, "5")).noneMatch(m -> m instanceof BackendMessage.ErrorResponse);
    }

    private static List<BackendMessage> parseBindExecute(int oid, String value) throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token(GatewayHarness.AGENT, Duration.ofMinutes(5)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(MessageCodec.encode(new FrontendMessage.Parse("", "SELECT $1 IS NOT NULL", new int[] {oid})));
            out.write(MessageCodec.encode(new FrontendMessage.Bind("", "", new short[0],
                    new byte[][] {value.getBytes(StandardCharsets.UTF_8)}, new short[0])));
            out.write(MessageCodec.encode(new FrontendMessage.Execute("", 0)));
            out.write(MessageCodec.encode(FrontendMessage.Sync.INSTANCE));
            c.send(out.toByteArray());
            return c.readUntilReadyOrError();
        }
    }
}
