package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.AccessReport;
import java.net.http.HttpClient;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overview's "PHI read, masked vs unmasked" and the access report's PHI figures count the PHI values results
 * delivered, from the completion records: a filter, an aggregate, a PREPARE or a DECLARE over a PHI column
 * delivers none, and a role that sees a type unmasked is counted once per value it received.
 */
class PhiDeliveredCountsTest {
    static final String READER = "system:serviceaccount:clinical:reader";
    static final String MASKED = "system:serviceaccount:clinical:masked";
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.console_patients.ssn: ssn
                  public.console_patients.name: name
            roles:
              - name: reader
                match: { subject: "%s" }
                upstreams: [clinical]
                unmasked: [ssn]
              - name: masked
                match: { subject: "%s" }
                upstreams: [clinical]
            """.formatted(READER, MASKED);

    @TempDir
    static java.nio.file.Path dir;
    static ConsoleFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ConsoleFixture.start(dir, POLICY);
        try (Connection c = fx.agent(READER); Statement s = c.createStatement()) {
            s.executeQuery("SELECT count(*) FROM console_patients WHERE ssn = '" + ConsoleFixture.SSN + "'").close();
            s.execute("PREPARE by_ssn AS SELECT ssn FROM console_patients");
            try (ResultSet rs = s.executeQuery("SELECT id, ssn FROM console_patients ORDER BY id")) {
                rs.next();
                assertThat(rs.getString(2)).as("the reader's role sees SSNs").isEqualTo(ConsoleFixture.SSN);
            }
            s.executeQuery("SELECT name FROM console_patients WHERE id = 1").close();
        }
        try (Connection c = fx.agent(MASKED); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("DECLARE patients_cursor CURSOR FOR SELECT ssn FROM console_patients ORDER BY id");
            try (ResultSet rs = s.executeQuery("FETCH 1 FROM patients_cursor")) {
                rs.next();
                assertThat(rs.getString(1)).isNotEqualTo(ConsoleFixture.SSN);
            }
            c.commit();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.executeQuery(
                    "SELECT count(*) FROM console_patients WHERE ssn <> ''")).hasMessageContaining("steer");
        }
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void overviewCountsOnlyValuesDeliveredAndSaysWhatItCounts() throws Exception {
        HttpClient auditor = fx.signedIn(fx.audrey());
        Map<String, String> rows = Map.of();
        for (int i = 0; i < 100; i++) { // the completion records are written behind the responses
            String page = fx.get(auditor, "/console").body();
            rows = phiTable(page);
            if (rows.containsKey(READER) && rows.containsKey(MASKED)) {
                assertThat(page).contains("id=\"phi-counted\"").contains("completion record")
                        .contains("only filters, sorts or aggregates on");
                break;
            }
            Thread.sleep(100);
        }
        assertThat(rows).as("masked, unmasked values per identity")
                .containsEntry(READER, "1 2")   // one name masked; two SSNs delivered to a role that sees them
                .containsEntry(MASKED, "1 0");  // the FETCH's one SSN; the DECLARE and the count deliver none
    }

    @Test
    void accessReportCountsTheSameValues() throws Exception {
        AccessReport.Model m = null;
        for (int i = 0; i < 100 && (m == null || m.identities().stream().anyMatch(x -> x.phiValuesMasked() == 0)); i++) {
            Thread.sleep(100); // the completion records are written behind the responses
            m = AccessReport.build(fx.gw.auditFile(), Instant.now().minusSeconds(3600), Instant.now().plusSeconds(60),
                    null, null, Instant.now());
        }
        var reader = m.identities().stream().filter(i -> READER.equals(i.subject())).findFirst().orElseThrow();
        assertThat(reader.phiValuesUnmasked()).isEqualTo(2);
        assertThat(reader.phiTypesUnmasked()).containsExactly("ssn");
        assertThat(reader.phiValuesMasked()).isEqualTo(1);
        assertThat(reader.phiTypesMasked()).containsExactly("name");
        var masked = m.identities().stream().filter(i -> MASKED.equals(i.subject())).findFirst().orElseThrow();
        assertThat(masked.phiValuesUnmasked()).isZero();
        assertThat(masked.phiTypesUnmasked()).isEmpty();
        assertThat(masked.phiValuesMasked()).isEqualTo(1);
    }

    /** Identity to "masked unmasked" from the overview's table. */
    private static Map<String, String> phiTable(String page) {
        Map<String, String> out = new LinkedHashMap<>();
        int table = page.indexOf("id=\"phi-table\"");
        if (table < 0) {
            return out;
        }
        Matcher m = Pattern.compile("<tr><td><a [^>]*>([^<]+)</a></td><td>(\\d+)</td><td>(\\d+)</td></tr>")
                .matcher(page.substring(table));
        while (m.find()) {
            out.put(m.group(1), m.group(2) + " " + m.group(3));
        }
        return out;
    }
}
