package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PGobject;

/**
 * A guarded database (a user function and operator exist) with no type whose values run code: the session makes a
 * domain whose CHECK calls the function (vetted by the policy), then binds a value of it. The Bind runs the CHECK.
 */
class SessionMadeDomainBindTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static final List<String> ssns = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE ROLE bindd_evil NOLOGIN");
            s.execute("CREATE SCHEMA bindd_evil");
            s.execute("CREATE VIEW bindd_evil.patients AS SELECT id, ssn AS state FROM public.patients");
            s.execute("GRANT USAGE ON SCHEMA bindd_evil TO " + db.user());
            s.execute("GRANT SELECT ON bindd_evil.patients TO " + db.user());
            // An operator vetted it: it reads no table and returns a constant (what the list asks).
            s.execute("""
                    CREATE FUNCTION public.bindd_switch() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('search_path', 'bindd_evil, public', false); RETURN 1; END $$""");
            s.execute("GRANT CREATE ON SCHEMA public TO " + db.user());
        }
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE ssn IS NOT NULL")) {
            while (rs.next()) {
                ssns.add(rs.getString(1));
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    functions: [bindd_switch]
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
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP DOMAIN IF EXISTS public.bindd_dom");
        s.execute("DROP FUNCTION IF EXISTS public.bindd_switch()");
        s.execute("DROP SCHEMA IF EXISTS bindd_evil CASCADE");
        s.execute("DROP ROLE IF EXISTS bindd_evil");
    }

    @Test
    void aBindOfASessionMadeDomainWhoseCheckCallsCodeThatCallsAVettedFunctionReadsNoSsn() throws Exception {
        List<String> got = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            s.execute("CREATE DOMAIN public.bindd_dom AS text CHECK (VALUE IS NOT NULL AND public.bindd_switch() = 1)");
            try (PreparedStatement p = c.prepareStatement("SELECT state FROM patients WHERE ? IS NOT NULL")) {
                PGobject v = new PGobject();
                v.setType("bindd_dom");
                v.setValue("y");
                p.setObject(1, v);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        got.add(rs.getString(1));
                    }
                }
            }
        } catch (SQLException e) {
            got.add("ended: " + e.getMessage());
        }
        assertThat(got).doesNotContainAnyElementsOf(ssns);
    }
}
