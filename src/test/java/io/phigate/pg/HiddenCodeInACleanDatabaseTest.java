package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.mask.SecretRef;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
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

/**
 * A database that holds no code of its own is not guarded (decision 0064), but a session can bring code: a DO block
 * (granted {@code function} on {@code *}) that moves search_path. The settings the session started with were asked
 * before its first request, so the change is seen at the next one, and a table-scoped role does not read a table
 * outside its scope under the name of one inside it.
 */
class HiddenCodeInACleanDatabaseTest {
    private static final String DATABASE = "hidden_clean";
    private static final String RUNNER = "system:serviceaccount:clinical:hidden-runner";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DATABASE);
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + db.user());
        }
        try (Connection c = owner(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public.records (id int, label text)");
            s.execute("INSERT INTO public.records VALUES (1, 'harmless')");
            s.execute("CREATE TABLE public.secrets (id int, secret text)");
            s.execute("INSERT INTO public.secrets VALUES (1, 'outside-the-scope')");
            s.execute("CREATE SCHEMA hidden_evil");
            s.execute("CREATE VIEW hidden_evil.records AS SELECT id, secret AS label FROM public.secrets");
        }
        UpstreamConfig clean = new UpstreamConfig("clinical", new HostPort("127.0.0.1", db.port()), DATABASE,
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, db.user(), new SecretRef(null, db.passwordFile())),
                UpstreamTlsConfig.DISABLED);
        gw = GatewayHarness.startWithPolicy(dir, clean, """
                roles:
                  - name: runner
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.records"], operations: [select] }
                      - { tables: ["*"], operations: [function] }
                """.formatted(RUNNER));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
        }
    }

    private static Connection owner() throws SQLException {
        TestDatabase db = TestDatabase.get();
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + db.port() + "/" + DATABASE, p);
    }

    private static final String MOVE = "DO $$ BEGIN PERFORM set_config('search_path', 'hidden_evil, public', false);"
            + " END $$";

    @Test
    void straightToTheServerTheBlockMakesTheScopedNameReadTheSecret() throws Exception {
        try (Connection c = owner(); Statement s = c.createStatement()) {
            s.execute(MOVE);
            assertThat(column(s, "SELECT label FROM records")).containsExactly("outside-the-scope");
        }
    }

    @Test
    void aDoBlockThatMovesSearchPathEndsTheSessionBeforeTheNextRead() throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connectAs(RUNNER, new Properties()); Statement s = c.createStatement()) {
            assertThat(column(s, "SELECT label FROM records")).containsExactly("harmless");
            s.execute(MOVE);
            assertThatThrownBy(() -> received.addAll(column(s, "SELECT label FROM records")))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("changed search_path");
                    });
        }
        assertThat(received).doesNotContain("outside-the-scope");
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
