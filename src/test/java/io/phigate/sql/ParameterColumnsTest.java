package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which column each $n is bound to, for masking parameters per the approver's role; unknown whenever unsure. */
class ParameterColumnsTest {
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(DemoCatalog.get());

    private static List<String> columns(String sql) {
        return ParameterColumns.of(ANALYZER.analyze(sql).getFirst(), DemoCatalog.get()).stream()
                .map(c -> c == null ? null : c.toString()).toList();
    }

    @Test
    void comparisonsAssignmentsInListsAndInsertValuesNameTheirColumn() {
        assertThat(columns("UPDATE patients SET city = $1 WHERE ssn = $2 AND last_name LIKE $3"))
                .containsExactly("public.patients.city", "public.patients.ssn", "public.patients.last_name");
        assertThat(columns("DELETE FROM patients p WHERE $1 = p.mrn OR p.id IN ($2, $3) OR birth_date <= $4::date"))
                .containsExactly("public.patients.mrn", "public.patients.id", "public.patients.id",
                        "public.patients.birth_date");
        assertThat(columns("INSERT INTO patients (mrn, first_name, last_name) VALUES ($1, $2, upper($3))"))
                .containsExactly("public.patients.mrn", "public.patients.first_name", null);
    }

    @Test
    void anythingUnsureIsUnknown() {
        assertThat(columns("SELECT * FROM patients p JOIN encounters e ON e.patient_id = p.id WHERE id = $1"))
                .as("id is a column of both tables").containsExactly((String) null);
        assertThat(columns("SELECT * FROM patients WHERE ssn = $1 OR mrn = $1")).as("one parameter, two columns")
                .containsExactly((String) null);
        assertThat(columns("SELECT * FROM patients WHERE lower(last_name) = lower($1) AND id = $2"))
                .containsExactly(null, "public.patients.id");
        assertThat(columns("SELECT * FROM patient_directory WHERE ident = $1")).as("a view's column")
                .containsExactly((String) null);
        assertThat(columns("SELECT * FROM patients WHERE id = $3")).isEqualTo(Arrays.asList(null, null,
                "public.patients.id"));
    }
}
