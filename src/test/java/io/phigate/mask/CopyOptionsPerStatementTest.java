package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.clients.ClientTools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * One simple Query may hold several COPY ... TO STDOUT statements, each with its own FORMAT and HEADER. The masker
 * read the rows of every one of them by the options of the last (decision 0079): a header promised by a later COPY
 * let the first row of an earlier one through unread, as if it were the header line, and a later text COPY had an
 * earlier CSV one parsed as text.
 */
class CopyOptionsPerStatementTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static Set<String> seeds;

    @BeforeAll
    static void start() throws Exception {
        seeds = MaskingLeakTest.seededPhi(TestDatabase.get());
        gw = GatewayHarness.startMasked(dir, """
                public.patients.ssn: ssn
                public.patients.first_name: name
                public.patients.last_name: name
                public.patients.mrn: mrn
                public.patients.birth_date: dob
                public.patients.phone: phone
                public.patients.email: email
                public.patients.street: address
                public.patients.city: address
                public.patients.zip: zip
                """);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT (FORMAT csv); COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER)",
            "COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT; COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER true)",
            "COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT (FORMAT csv); COPY (SELECT 1) TO STDOUT",
            "COPY (SELECT 1) TO STDOUT (FORMAT csv, HEADER); COPY (SELECT ssn, last_name FROM patients ORDER BY id) TO STDOUT",
            "SELECT 1; COPY (SELECT id, ssn FROM patients ORDER BY id) TO STDOUT; COPY (SELECT 2) TO STDOUT (FORMAT csv, HEADER)"})
    void everyCopyInOneQueryIsMaskedByItsOwnOptions(String sql) throws Exception {
        ClientTools.Result r = ClientTools.run(Map.of("PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(10)),
                "PGHOST", "127.0.0.1", "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent",
                "PGDATABASE", "clinical", "PGSSLMODE", "disable"), dir, ClientTools.find("psql").toString(), "-X",
                "-c", sql);
        for (String seed : seeds) {
            if (r.output().contains(seed)) {
                fail("a seeded PHI value reached psql: " + MaskingLeakTest.context(r.output(), seed));
            }
        }
        assertThat(r.output()).contains("[SSN]");
    }
}
