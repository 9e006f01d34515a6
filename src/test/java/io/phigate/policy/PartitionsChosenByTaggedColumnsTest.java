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
 * The server stores each row of a partitioned table in the partition its key's values choose, and says which in the
 * row's {@code tableoid}: a key over a tagged column makes the partition a value derived from it. Before an attacker's
 * review of derived values (decision 0095), with {@code PARTITION BY LIST (left(ssn, 1))} and only {@code ssn}
 * tagged, {@code SELECT tableoid::regclass, id} gave each patient's first SSN digit, {@code WHERE tableoid = ...}
 * counted them, and reading a partition by its name listed the patients whose SSN starts with its digit, as a view's
 * {@code WHERE ssn LIKE '0%'} would (which is refused); also through a parent partitioned by an untagged key whose
 * partitions are partitioned by the tagged one.
 */
class PartitionsChosenByTaggedColumnsTest {
    static final String MASKED = "system:serviceaccount:clinical:partition-masked";
    private static final String DROP = "DROP TABLE IF EXISTS public.part_by_ssn, public.part_by_id, public.part_plain CASCADE";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        String user = TestDatabase.get().user();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
            s.execute("CREATE TABLE public.part_by_ssn (id int, ssn text) PARTITION BY LIST (left(ssn, 1))");
            s.execute("CREATE TABLE public.part_by_ssn_0 PARTITION OF public.part_by_ssn FOR VALUES IN ('0')");
            s.execute("CREATE TABLE public.part_by_ssn_rest PARTITION OF public.part_by_ssn DEFAULT");
            // Partitioned by an untagged key at the top, by the tagged one below it.
            s.execute("CREATE TABLE public.part_by_id (id int, ssn text) PARTITION BY RANGE (id)");
            s.execute("CREATE TABLE public.part_by_id_low PARTITION OF public.part_by_id FOR VALUES FROM (MINVALUE)"
                    + " TO (MAXVALUE) PARTITION BY LIST (right(ssn, 1))");
            s.execute("CREATE TABLE public.part_by_id_low_odd PARTITION OF public.part_by_id_low"
                    + " FOR VALUES IN ('1', '3', '5', '7', '9')");
            s.execute("CREATE TABLE public.part_by_id_low_rest PARTITION OF public.part_by_id_low DEFAULT");
            s.execute("CREATE TABLE public.part_plain (id int, ssn text) PARTITION BY RANGE (id)");
            s.execute("CREATE TABLE public.part_plain_low PARTITION OF public.part_plain FOR VALUES FROM (MINVALUE)"
                    + " TO (1000000)");
            s.execute("CREATE TABLE public.part_plain_high PARTITION OF public.part_plain DEFAULT");
            for (String t : List.of("part_by_ssn", "part_by_id", "part_plain")) {
                s.execute("INSERT INTO public." + t + " SELECT id, ssn FROM patients WHERE ssn IS NOT NULL");
            }
            s.execute("GRANT SELECT, UPDATE ON public.part_by_ssn, public.part_by_ssn_0, public.part_by_ssn_rest,"
                    + " public.part_by_id, public.part_by_id_low, public.part_by_id_low_odd, public.part_plain,"
                    + " public.part_plain_low TO " + user);
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.part_by_ssn.ssn: ssn
                      public.part_by_id.ssn: ssn
                      public.part_plain.ssn: ssn
                    detection:
                      enabled: false
                roles:
                  - name: masked
                    match: { subject: "%s" }
                    upstreams: [clinical]
                """.formatted(MASKED));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute(DROP);
        }
    }

    @Test
    void whichPartitionARowIsInIsMaskedAndSteersNothing() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, MASKED, mode); Statement s = c.createStatement()) {
                for (String t : List.of("part_by_ssn", "part_by_id")) {
                    assertRefused(s, "SELECT tableoid::regclass, id FROM " + t, "holds PHI (ssn)");
                    assertRefused(s, "SELECT count(*) FROM " + t + " p WHERE p.tableoid = 'part_by_ssn_0'::regclass",
                            "holds PHI (ssn)");
                    assertRefused(s, "UPDATE " + t + " SET id = id RETURNING tableoid::regclass", "holds PHI (ssn)");
                    List<String> got = new ArrayList<>();
                    try (ResultSet rs = s.executeQuery("SELECT x.tableoid FROM " + t + " AS x(a, b)")) {
                        while (rs.next()) {
                            got.add(rs.getString(1));
                        }
                    }
                    assertThat(got).as(mode + " " + t).isNotEmpty().noneMatch(v -> v == null || v.matches("\\d+"));
                }
                // A partition's rows are those its bound chose by the tagged key.
                assertRefused(s, "SELECT id FROM part_by_ssn_0", "the bound of partition public.part_by_ssn_0");
                assertRefused(s, "SELECT count(*) FROM ONLY part_by_ssn_rest", "the bound of partition");
                assertRefused(s, "SELECT id FROM part_by_id_low_odd", "the bound of partition");
                assertRefused(s, "UPDATE part_by_ssn_0 SET id = id", "the bound of partition"); // counts them
                // Chosen by an untagged key only, a partition and a row's partition are data like any other.
                try (ResultSet rs = s.executeQuery("SELECT tableoid::regclass, count(*) FROM part_plain GROUP BY 1"
                        + " ORDER BY 1")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("part_plain_low");
                }
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM part_plain_low")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isPositive();
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%bound of partition%'", 6)).hasSizeGreaterThanOrEqualTo(6);
    }
}
