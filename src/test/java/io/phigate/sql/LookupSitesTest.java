package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every route to a lookup of a column counts toward one per column per statement (decision 0094): a JOIN's ON, a
 * view read by the statement (once per FROM item that reads it), a value written where a key checks it (once per
 * row), and the WHERE conjuncts decision 0093 counted. {@code =} marks the use the predicate rule may let through.
 */
class LookupSitesTest {
    private static final ColumnRef SSN = new ColumnRef("public", "patients", "ssn");
    private static final ColumnRef MRN = new ColumnRef("public", "patients", "mrn");
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(PgCatalog.builder()
            .searchPath("public")
            .table(1, "public", "patients", "id", "mrn", "ssn")
            .table(2, "public", "encounters", "id", "patient_id")
            .view(3, "public", "known", "SELECT id FROM patients WHERE ssn = '1'", "id")
            .view(4, "public", "nobody", "SELECT id FROM patients WHERE ssn = '2'", "id")
            .view(5, "public", "over_known", "SELECT id FROM known", "id")
            .existenceChecked(MRN)
            .builtins("count", "generate_series")
            .build(), 0);

    /** The uses of {@code column} as "clause[=]". */
    private static Set<String> uses(String sql, ColumnRef column) {
        StatementAnalysis a = ANALYZER.analyze(sql).getFirst();
        assertThat(a.parsed()).as(a.error()).isTrue();
        return a.facts().predicates().stream().filter(u -> u.column().equals(column))
                .map(u -> u.clause() + (u.equalityLookup() ? "=" : "")).collect(Collectors.toSet());
    }

    private static final String SECOND = Lineage.SECOND_LOOKUP;

    @Test
    void aLookupInAJoinIsOneLookupAndCountsWithTheOthers() {
        assertThat(uses("SELECT 1 FROM patients p JOIN encounters e ON e.patient_id = p.id AND p.ssn = $1", SSN))
                .containsExactly("JOIN=");
        assertThat(uses("SELECT 1 FROM patients p JOIN encounters e ON p.ssn = '1' JOIN encounters f ON p.ssn = '2'",
                SSN)).containsExactlyInAnyOrder("JOIN=", "JOIN" + SECOND);
        assertThat(uses("SELECT 1 FROM patients p JOIN encounters e ON p.ssn = '1' WHERE p.ssn = '2'", SSN))
                .containsExactlyInAnyOrder("JOIN=", "WHERE" + SECOND);
    }

    @Test
    void aJoinOfColumnsNamesTheOtherSideAndEveryOtherUseStandsAlone() {
        StatementAnalysis a = ANALYZER.analyze("WITH c AS (SELECT ssn AS s FROM patients) SELECT 1 FROM patients x"
                + " JOIN patients y ON x.ssn = y.ssn WHERE EXISTS (SELECT 1 FROM c WHERE s LIKE '6%')").getFirst();
        assertThat(a.facts().predicates()).extracting(u -> u.clause() + " " + u.joinedWith())
                .containsExactlyInAnyOrder("JOIN " + SSN, "WHERE null");
    }

    @Test
    void aUsingJoinSteersAndIsNoJoinOfKeys() {
        assertThat(uses("SELECT 1 FROM patients a JOIN patients b USING (ssn)", SSN))
                .containsExactly(FromItems.USING);
    }

    @Test
    void aViewBringsItsLookupsOncePerRead() {
        assertThat(uses("SELECT count(*) FROM known", SSN)).containsExactly("WHERE=");
        assertThat(uses("SELECT count(*) FROM over_known", SSN)).containsExactly("WHERE=");
        assertThat(uses("SELECT (SELECT count(*) FROM known), (SELECT count(*) FROM nobody)", SSN))
                .contains("FROM public.nobody" + SECOND);
        assertThat(uses("SELECT (SELECT count(*) FROM known), (SELECT count(*) FROM known k)", SSN))
                .contains("FROM public.known" + SECOND);
        assertThat(uses("SELECT (SELECT count(*) FROM over_known), (SELECT count(*) FROM known)", SSN))
                .contains("FROM public.known" + SECOND);
        assertThat(uses("SELECT 1 FROM known WHERE id IN (SELECT id FROM patients WHERE ssn = '3')", SSN))
                .contains("WHERE" + SECOND);
        assertThat(uses("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, known WHERE n < 3)"
                + " SELECT n FROM r", SSN)).as("a recursive CTE's passes read the same FROM item").containsExactly("WHERE=");
    }

    @Test
    void eachValueWrittenWhereAKeyChecksItIsALookup() {
        String check = Lineage.EXISTENCE_CHECK;
        assertThat(uses("INSERT INTO patients (id, mrn) VALUES (1, 'a') ON CONFLICT DO NOTHING", MRN))
                .containsExactly(check + "=");
        assertThat(uses("INSERT INTO patients (id, mrn) VALUES (1, 'a'), (2, 'b') ON CONFLICT DO NOTHING", MRN))
                .containsExactlyInAnyOrder(check + "=", check + SECOND);
        assertThat(uses("INSERT INTO patients (id, mrn) SELECT g, 'm' || g FROM generate_series(1, 9) g", MRN))
                .contains(check + Lineage.UNCOUNTED_ROWS);
        assertThat(uses("UPDATE patients SET mrn = $1 WHERE id = 1", MRN)).containsExactly(check + "=");
        assertThat(uses("INSERT INTO patients (id, mrn) VALUES (1, 'a') ON CONFLICT (mrn) DO UPDATE"
                + " SET mrn = excluded.mrn", MRN)).as("the value the INSERT counted").containsExactly(check + "=");
        assertThat(uses("INSERT INTO patients (id, mrn) VALUES (1, 'a') ON CONFLICT (mrn) DO UPDATE SET mrn = 'b'",
                MRN)).containsExactlyInAnyOrder(check + "=", check + SECOND);
        assertThat(uses("UPDATE patients SET mrn = v FROM (VALUES (1, 'a'), (2, 'b')) g(i, v) WHERE id = i", MRN))
                .contains(check + Lineage.UNCOUNTED_ROWS);
        assertThat(uses("WITH a AS (INSERT INTO patients (mrn) VALUES ('a') RETURNING 1)"
                + " SELECT 1 FROM patients WHERE mrn = 'b'", MRN)).contains("WHERE" + SECOND);
        assertThat(uses("COPY patients (mrn) FROM STDIN", MRN)).contains(check + Lineage.UNCOUNTED_ROWS);
    }

    @Test
    void separateStatementsOfOneQueryCountApart() {
        var all = ANALYZER.analyze("SELECT 1 FROM patients WHERE ssn = '1'; SELECT 1 FROM patients WHERE ssn = '2'");
        assertThat(all).hasSize(2).allSatisfy(a -> assertThat(a.facts().predicates())
                .allSatisfy(u -> assertThat(u.equalityLookup()).isTrue()));
    }
}
