package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import java.io.IOException;
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

/**
 * {@link PgCatalog#settingCode}: whether code the analyser does not read may change a session's search_path or
 * role (decision 0064), read from a real server in a database of its own, so that what other tests leave in the
 * shared one does not decide. The common path (tables, serial defaults, checks, views over built-ins that change
 * nothing) must read as free of such code; each kind of object that can hold it must not.
 */
class SettingCodeTest {
    private static final String DATABASE = "hidden_setting_code";
    private static Connection c;

    @BeforeAll
    static void createDatabase() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DATABASE);
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + db.user());
        }
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + db.port() + "/" + DATABASE, p);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA app");
            s.execute("SET search_path = app");
            s.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL CHECK (name <> ''),"
                    + " seen timestamptz DEFAULT now(), code uuid DEFAULT gen_random_uuid())");
            s.execute("CREATE VIEW named AS SELECT id, lower(name) AS name, random() AS r FROM people");
        }
    }

    @AfterAll
    static void dropDatabase() throws Exception {
        if (c != null) {
            c.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DATABASE);
        }
    }

    private static boolean settingCode() throws IOException {
        return PgCatalog.settingCode(sql -> {
            List<List<String>> rows = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= n; i++) {
                        row.add(rs.getString(i));
                    }
                    rows.add(row);
                }
            } catch (SQLException e) {
                throw new IOException(e);
            }
            return rows;
        });
    }

    /** Creates {@code ddl}, reads the catalog, drops it again with {@code drop}. */
    private static boolean with(String ddl, String drop) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute(ddl);
            try {
                return settingCode();
            } finally {
                s.execute(drop);
            }
        }
    }

    @Test
    void tablesDefaultsChecksAndViewsOverUnchangingBuiltInsHoldNone() throws Exception {
        assertThat(settingCode()).isFalse();
    }

    @Test
    void anyFunctionCreatedAfterInitdbMayChangeThem() throws Exception {
        assertThat(with("CREATE FUNCTION app.one() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                "DROP FUNCTION app.one()")).isTrue();
    }

    @Test
    void aViewThatCallsSetConfigMayChangeThem() throws Exception {
        assertThat(with("CREATE VIEW app.switch AS SELECT set_config('search_path', 'x', false) AS v",
                "DROP VIEW app.switch")).isTrue();
    }

    @Test
    void aViewThatRunsSqlTextMayChangeThem() throws Exception {
        // query_to_xml is stable, yet runs its text, which may call set_config.
        assertThat(with("CREATE VIEW app.runs AS SELECT query_to_xml('SELECT 1', false, false, '') AS x",
                "DROP VIEW app.runs")).isTrue();
    }

    @Test
    void aDefaultOrCheckOrPolicyThatCallsAChangingBuiltInMayChangeThem() throws Exception {
        assertThat(with("ALTER TABLE app.people ADD COLUMN s text DEFAULT set_config('role', 'none', false)",
                "ALTER TABLE app.people DROP COLUMN s")).isTrue();
        assertThat(with("ALTER TABLE app.people ADD CONSTRAINT sneaky"
                        + " CHECK (set_config('search_path', 'x', false) IS NOT NULL)",
                "ALTER TABLE app.people DROP CONSTRAINT sneaky")).isTrue();
        assertThat(with("CREATE POLICY sneaky ON app.people USING (set_config('search_path', 'x', false) = 'x')",
                "DROP POLICY sneaky ON app.people")).isTrue();
    }

    @Test
    void aRuleMayChangeThem() throws Exception {
        assertThat(with("CREATE RULE noted AS ON INSERT TO app.people DO ALSO NOTIFY people",
                "DROP RULE noted ON app.people")).isTrue();
    }
}
