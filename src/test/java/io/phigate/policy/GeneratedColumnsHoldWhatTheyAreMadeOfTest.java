package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stored generated column is computed by the server from the columns it names, on every write: it holds what they
 * hold, with its lineage in the catalog as a view's column has. Before an attacker's review of decision 0095, with
 * only {@code ssn} tagged, {@code SELECT last4} gave the SSN's last four digits in clear and {@code WHERE whole LIKE
 * '0%'} answered by count; and a unique key on a generated column ({@code upper(ssn)}) checked every masked value
 * written into {@code ssn} with no lookup counted: a single INSERT answered by 23505 whether an SSN exists, and under
 * ON CONFLICT DO NOTHING many of them per statement by the row count.
 */
class GeneratedColumnsHoldWhatTheyAreMadeOfTest {
    static final String MASKED = "system:serviceaccount:clinical:generated-masked";
    static final String LOOKER = "system:serviceaccount:clinical:generated-lookup";
    private static final String DROP = "DROP TABLE IF EXISTS public.gen_referencing, public.gen_derived,"
            + " public.gen_keyed";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static List<String> ssns = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
            s.execute("CREATE TABLE public.gen_derived (id int, ssn text,"
                    + " last4 text GENERATED ALWAYS AS (right(ssn, 4)) STORED,"
                    + " whole text GENERATED ALWAYS AS (ssn || '') STORED)");
            s.execute("CREATE TABLE public.gen_keyed (ssn text,"
                    + " ssn_key text GENERATED ALWAYS AS (upper(ssn)) STORED UNIQUE)");
            s.execute("CREATE TABLE public.gen_referencing (raw text,"
                    + " k text GENERATED ALWAYS AS (upper(trim(raw))) STORED REFERENCES public.gen_keyed (ssn_key))");
            s.execute("INSERT INTO public.gen_derived (id, ssn) SELECT id, ssn FROM patients WHERE ssn IS NOT NULL");
            s.execute("INSERT INTO public.gen_keyed (ssn) SELECT ssn FROM patients WHERE ssn IS NOT NULL");
            s.execute("GRANT SELECT, INSERT ON public.gen_derived, public.gen_keyed,"
                    + " public.gen_referencing TO " + TestDatabase.get().user());
            try (ResultSet rs = s.executeQuery("SELECT ssn FROM gen_keyed ORDER BY ssn")) {
                while (rs.next()) {
                    ssns.add(rs.getString(1));
                }
            }
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.gen_derived.ssn: ssn
                      public.gen_keyed.ssn: ssn
                    detection:
                      enabled: false
                roles:
                  - name: masked
                    match: { subject: "%s" }
                    upstreams: [clinical]
                  - name: looker
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    lookup: [ssn]
                """.formatted(MASKED, LOOKER));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
        }
    }

    @Test
    void aColumnGeneratedFromATaggedOneIsMaskedAndSteersNothing() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, MASKED, mode); Statement s = c.createStatement()) {
                for (String sql : List.of("SELECT whole FROM gen_derived", "SELECT last4 FROM gen_derived")) {
                    List<String> got = new ArrayList<>();
                    try (ResultSet rs = s.executeQuery(sql)) {
                        while (rs.next()) {
                            got.add(rs.getString(1));
                        }
                    }
                    assertThat(got).as(mode + ": " + sql).hasSize(ssns.size());
                    assertThat(got).as(mode + ": " + sql).noneMatch(v -> ssns.stream().anyMatch(
                            ssn -> v != null && (v.contains(ssn) || v.equals(ssn.substring(ssn.length() - 4)))));
                }
                assertRefused(s, "SELECT count(*) FROM gen_derived WHERE whole LIKE '0%'", "holds PHI (ssn)");
                assertRefused(s, "SELECT id FROM gen_derived ORDER BY last4 LIMIT 1", "holds PHI (ssn)");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%gen_derived%holds PHI (ssn)%'", 4)).hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void aKeyOnAGeneratedColumnChecksTheValueItIsMadeFrom() throws Exception {
        String known = ssns.getFirst();
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, MASKED, mode); Statement s = c.createStatement()) {
                assertRefused(s, "INSERT INTO gen_keyed (ssn) VALUES ('" + known + "')",
                        "key, unique or foreign-key check");
                // A foreign key on a generated column checks the value it is made from against the referenced
                // column: 23503 or success answered whether the SSN exists.
                assertRefused(s, "INSERT INTO gen_referencing (raw) VALUES (' " + known + " ')",
                        "key, unique or foreign-key check");
            }
            try (Connection c = ThroughTheGateway.as(gw, LOOKER, mode); Statement s = c.createStatement()) {
                assertRefused(s, "INSERT INTO gen_keyed (ssn) VALUES ('" + known + "'), ('000-00-0000')"
                        + " ON CONFLICT DO NOTHING", "a second lookup of the column in one statement");
                // One row is one lookup for a role allowed lookups, as for a key on the column itself.
                assertThat(s.executeUpdate("INSERT INTO gen_keyed (ssn) VALUES ('" + known + "')"
                        + " ON CONFLICT DO NOTHING")).isZero();
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM gen_keyed WHERE ssn = '000-00-0000'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).isZero();
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%gen_keyed%'", 4)).hasSizeGreaterThanOrEqualTo(4);
    }
}
