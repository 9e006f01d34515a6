package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.clients.ClientTools;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One simple Query may hold several COPY ... TO STDOUT statements, each with its own FORMAT and HEADER. The masker
 * read the rows of every one of them by the options of the last (decision 0079): a header promised by a later COPY
 * let the first row of an earlier one through unread, as if it were the header line, and a later text COPY had an
 * earlier CSV one parsed as text. A database of its own that holds no code, so the several statements of one query
 * are not refused as reading names after code that may move search_path (decision 0064) and reach the server.
 */
class CopyOptionsPerStatementTest {
    private static final String DATABASE = "copy_options_clean";
    private static final String SSN = "900-11-2233";
    private static final String NAME = "Quixotelle";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + db.user());
        }
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + db.port() + "/" + DATABASE, p);
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public.patients (id int, ssn text, last_name text)");
            s.execute("INSERT INTO public.patients VALUES (1, '" + SSN + "', '" + NAME + "'),"
                    + " (2, '900-44-5566', 'Ombrellino')");
        }
        UpstreamConfig clean = new UpstreamConfig("clinical", new HostPort("127.0.0.1", db.port()), DATABASE,
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, db.user(),
                        new io.phigate.mask.SecretRef(null, db.passwordFile())), UpstreamTlsConfig.DISABLED);
        gw = GatewayHarness.startWithPolicy(dir, clean, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.patients.last_name: name
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
            s.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT (FORMAT csv); COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER)",
            "COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT; COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER true)",
            "COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT (FORMAT csv); COPY (SELECT 1) TO STDOUT",
            "COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER); COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT",
            "SELECT 1; COPY (SELECT id, ssn, last_name FROM patients ORDER BY id) TO STDOUT; COPY (SELECT 2) TO STDOUT (FORMAT csv, HEADER)"})
    void everyCopyInOneQueryIsMaskedByItsOwnOptions(String sql) throws Exception {
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir, ClientTools.find("psql").toString(), "-X",
                "-c", sql);
        assertThat(r.output()).as("a seeded PHI value reached psql").doesNotContain(SSN).doesNotContain(NAME)
                .doesNotContain("900-44-5566").doesNotContain("Ombrellino");
        assertThat(r.output()).contains("[SSN]").contains("[NAME]");
    }
}
