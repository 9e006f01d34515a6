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
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The shared fixture of the tests where code out of the gateway's sight moves {@code search_path} to a schema whose
 * {@code patients.state} is the SSN (decisions 0064, 0086, 0087): the SSNs as the server holds them, a gateway that
 * masks {@code patients.ssn}, and the check that the session ends before its next read shows one.
 */
final class SsnUnderAMovedPath {
    private SsnUnderAMovedPath() {
    }

    /** Every SSN of the shared test database, read straight from the server; never empty. */
    static List<String> ssnsInClear() throws SQLException {
        List<String> ssns;
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            ssns = column(s, "SELECT ssn FROM patients WHERE ssn IS NOT NULL");
        }
        assertThat(ssns).isNotEmpty();
        return ssns;
    }

    /** A gateway masking {@code public.patients.ssn}, content detection off, its files in {@code dir}. */
    static GatewayHarness startMasking(Path dir) throws Exception {
        return GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    detection:
                      enabled: false
                masking:
                  key_file: masking.key
                """);
    }

    /** After {@code first}, the session ends (0A000, search_path changed) before its read shows any of {@code ssns}. */
    static void assertEndedAfter(GatewayHarness gw, List<String> ssns, String first) throws Exception {
        endedAfter(gw, ssns, first, s -> s.execute(first));
    }

    /** As {@link #assertEndedAfter}, where {@code read} must return a row first (so its scan did run). */
    static void assertEndedAfterARowOf(GatewayHarness gw, List<String> ssns, String read) throws Exception {
        endedAfter(gw, ssns, read, s -> assertThat(column(s, read)).as(read).isNotEmpty());
    }

    private interface Run {
        void on(Statement s) throws SQLException;
    }

    private static void endedAfter(GatewayHarness gw, List<String> ssns, String first, Run run) throws Exception {
        List<String> received = new ArrayList<>();
        try (Connection c = gw.connect(new Properties()); Statement s = c.createStatement()) {
            run.on(s);
            assertThatThrownBy(() -> received.addAll(column(s, "SELECT state FROM patients")))
                    .as(first)
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("phigate ended the session", "changed search_path");
                    });
            assertThat(c.isValid(2)).isFalse();
        }
        assertThat(received).as(first).doesNotContainAnyElementsOf(ssns);
    }

    /** The first column of every row {@code sql} returns. */
    static List<String> column(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
