package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masking is keyed by table and column; a composite type's attributes are its typed tables' columns. Renaming the
 * type (so that the catalog read at the session's start no longer knows it by its name) and then its attribute must
 * not leave a tagged column readable under a name no tag holds (decision 0080).
 */
class RenamedTypesKeepTheirMaskingTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE TYPE rnt_comp AS (id int, ssn text)");
            s.execute("CREATE TABLE rnt_typed OF rnt_comp");
            s.execute("INSERT INTO rnt_typed VALUES (1, '123-45-6789')");
            s.execute("ALTER TYPE rnt_comp OWNER TO " + db.user());
            s.execute("ALTER TABLE rnt_typed OWNER TO " + db.user());
        }
        gw = GatewayHarness.startMasked(dir, "public.rnt_typed.ssn: ssn");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP TABLE IF EXISTS rnt_typed");
        s.execute("DROP TYPE IF EXISTS rnt_comp, rnt_comp2, rnt_other CASCADE");
    }

    @Test
    void aTaggedColumnRenamedThroughItsRenamedTypeIsNeverReadInClear() throws Exception {
        List<String> seen = new ArrayList<>();
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, GatewayHarness.AGENT, mode); Statement s = c.createStatement()) {
                for (String sql : List.of("ALTER TYPE public.rnt_comp RENAME TO rnt_comp2",
                        "ALTER TYPE public.rnt_comp2 RENAME ATTRIBUTE ssn TO x CASCADE",
                        "ALTER TYPE public.rnt_comp RENAME ATTRIBUTE ssn TO x CASCADE",
                        "SELECT x FROM public.rnt_typed", "SELECT * FROM public.rnt_typed",
                        "SELECT ssn FROM public.rnt_typed")) {
                    try {
                        if (s.execute(sql)) {
                            try (ResultSet rs = s.getResultSet()) {
                                while (rs.next()) {
                                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                                        seen.add(sql + " -> " + rs.getString(i));
                                    }
                                }
                            }
                        } else {
                            seen.add(sql + " -> ran");
                        }
                    } catch (SQLException e) {
                        seen.add(sql + " -> " + e.getSQLState() + " " + e.getMessage());
                    }
                }
            }
        }
        assertThat(seen).as(String.join("\n", seen)).noneMatch(line -> line.contains("123-45-6789"));
        assertThat(seen).contains("ALTER TYPE public.rnt_comp RENAME TO rnt_comp2 -> 42501 ERROR: ALTER of"
                + " public.rnt_typed, which holds PHI, is refused for a session that sees PHI masked: retyping or"
                + " reshaping a tagged column changes what masking reads; schema changes belong to a role that sees PHI");
    }
}
