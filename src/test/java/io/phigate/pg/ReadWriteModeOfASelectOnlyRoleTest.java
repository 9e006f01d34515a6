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
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A select-only role may turn its transactions read-write ({@code SET transaction_read_only = off}, session
 * characteristics, {@code BEGIN READ WRITE}, {@code set_config}): phigate never relies on a session's read-only mode,
 * each statement is judged by the role's scope, so a write is refused all the same (decision 0095). Drivers set
 * these themselves (pgjdbc's {@code setReadOnly(false)}), so refusing them would break clients for nothing.
 */
class ReadWriteModeOfASelectOnlyRoleTest {
    static final String READER = "system:serviceaccount:clinical:read-write-mode";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.read_write_mode");
            s.execute("CREATE TABLE public.read_write_mode (id int)");
            s.execute("INSERT INTO public.read_write_mode VALUES (1)");
            s.execute("GRANT ALL ON public.read_write_mode TO " + TestDatabase.get().user());
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.*"], operations: [select] }
                """.formatted(READER));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.read_write_mode");
        }
    }

    @Test
    void liftingReadOnlyModeWritesNothing() throws Exception {
        List<String> lifts = List.of("SET transaction_read_only = off",
                "SET default_transaction_read_only = off",
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                "BEGIN READ WRITE");
        List<String> writes = List.of("INSERT INTO read_write_mode VALUES (2)",
                "UPDATE read_write_mode SET id = 3",
                "DELETE FROM read_write_mode",
                "CREATE TABLE public.read_write_made (id int)");
        for (String mode : List.of("simple", "extended")) {
            Properties p = new Properties();
            p.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connectAs(READER, p); Statement s = c.createStatement()) {
                for (String lift : lifts) {
                    s.execute(lift);
                    for (String write : writes) {
                        assertThatThrownBy(() -> s.execute(write)).as(lift + "; " + write)
                                .isInstanceOfSatisfying(SQLException.class,
                                        e -> assertThat(e.getSQLState()).isEqualTo("42501"));
                    }
                    s.execute("ROLLBACK");
                }
                c.setReadOnly(false);
                assertThatThrownBy(() -> s.execute(writes.getFirst())).isInstanceOf(SQLException.class);
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT array_agg(id)::text, to_regclass('public.read_write_made')::text"
                     + " FROM read_write_mode")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("{1}");
            assertThat(rs.getString(2)).isNull();
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'", 32))
                .hasSizeGreaterThanOrEqualTo(32);
    }
}
