package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.config.PolicyLoader;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.PgCatalog;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Decision 0049: a key column masked by an operator that gives one value for many inputs makes a copy made through
 * a masked session (pg_dump) unrestorable, so the catalog read names such columns.
 */
class KeysInACopyTest {
    static final PgCatalog CATALOG = PgCatalog.builder()
            .table(1, "public", "patients", "id", "mrn", "ssn", "birth_date")
            .table(2, "public", "encounters", "id", "patient_id", "notes")
            .existenceChecked(new ColumnRef("public", "patients", "id"))
            .existenceChecked(new ColumnRef("public", "patients", "mrn"))
            .references(new ColumnRef("public", "encounters", "patient_id"), new ColumnRef("public", "patients", "id"))
            .build();

    static ColumnTags tags(Policy policy) {
        return ColumnTags.resolve(policy.catalog("clinical"), CATALOG);
    }

    static Policy policy(String roleMasking) throws Exception {
        return PolicyLoader.parse("""
                phi:
                  clinical:
                    columns:
                      public.patients.id: id
                      public.patients.mrn: mrn
                      public.patients.ssn: ssn
                      public.patients.birth_date: dob
                      public.encounters.patient_id: id
                      public.encounters.notes: free_text
                masking:
                  key_file: masking.key
                roles:
                  - { name: exporter, match: { subject: "x" }, upstreams: [clinical]%s }
                """.formatted(roleMasking), Path.of("."), "policy.yaml");
    }

    @Test
    void keysMaskedByTokenOnBothSidesAreNotNamed() throws Exception {
        Policy p = policy("");
        assertThat(tags(p).keysMaskedManyToOne(p, CATALOG)).isEmpty();
    }

    @Test
    void aKeyOrAReferenceMaskedManyToOneIsNamedWithItsOperatorAndRole() throws Exception {
        Policy p = policy(", masking: { mrn: redact, id: { operator: partial, keep: 2 } }");
        assertThat(tags(p).keysMaskedManyToOne(p, CATALOG)).containsExactly(
                "public.encounters.patient_id (partial for role exporter)",
                "public.patients.id (partial for role exporter)",
                "public.patients.mrn (redact for role exporter)");
    }
}
