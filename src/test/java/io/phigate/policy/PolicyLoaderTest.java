package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.config.ConfigException;
import io.phigate.config.PolicyLoader;
import io.phigate.identity.Identity;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.Operation;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyLoaderTest {

    private static Policy parse(String yaml) throws ConfigException {
        return PolicyLoader.parse(yaml, Path.of("."), "policy.yaml");
    }

    /**
     * PostgreSQL keeps a name written longer than 63 bytes as its first 63, in DDL and queries alike: a tag, subject,
     * allow rule or risk rule written with the long name names that relation (before decision 0065 the tag matched
     * nothing and the column went out in clear).
     */
    @Test
    void namesLongerThanTheServerKeepsAreCutAsTheServerCutsThem() throws Exception {
        String table = "a_table_whose_name_is_longer_than_postgresql_keeps_identifiers_x";
        String kept = table.substring(0, 63);
        Policy p = parse("""
                phi:
                  clinical:
                    columns: { "public.%1$s.ssn": ssn }
                    subjects: { "public.%1$s": id }
                roles:
                  - name: reader
                    match: { subject: "*" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.%1$s", "*.%1$s"], operations: [select] }
                rules:
                  - name: edits
                    when: { operations: [update], tables: ["%1$s"] }
                    deny: "no"
                """.formatted(table));
        assertThat(p.catalog("clinical").columns()).containsOnlyKeys(new ColumnRef("public", kept, "ssn"));
        assertThat(p.roles().getFirst().allow().getFirst().tables()).containsExactly("public." + kept, "*." + kept);
        assertThat(p.rules().getFirst().when().tables()).containsExactly("*." + kept);
    }

    @Test
    void readsTheDocumentedShapes() throws Exception {
        Policy p = parse("""
                phi:
                  clinical:
                    columns: { "public.patients.ssn": ssn, "public.patients.first": name, "Public.Patients.Birthdate": dob }
                    subjects: { "public.patients": id }
                    functions: [public.safe_fn]
                masking:
                  key_env: PHIGATE_MASKING_KEY
                  defaults:
                    ssn: { operator: partial, keep: 2 }
                    name: token
                roles:
                  - name: triage-agent
                    match: { issuer: "https://issuer.example", subject: "system:serviceaccount:clinical:*" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.*"], operations: [select] }
                    unmasked: [date]
                    masking: { dob: { operator: date_shift, max_days: 30 } }
                    justification: required
                  - name: analyst
                    match: { claims: { groups: analysts } }
                    upstreams: ["*"]
                """);
        PhiCatalog c = p.catalog("clinical");
        assertThat(c.columns()).containsEntry(new ColumnRef("public", "patients", "ssn"), PhiType.SSN)
                .containsEntry(new ColumnRef("public", "patients", "birthdate"), PhiType.DOB);
        assertThat(p.catalog("other").declaresNothing()).isTrue();
        Role triage = p.roles().getFirst();
        assertThat(triage.allow().getFirst().operations()).containsExactly(Operation.SELECT);
        assertThat(triage.justification()).isEqualTo(Role.Justification.REQUIRED);

        Identity agent = new Identity("https://issuer.example", "system:serviceaccount:clinical:triage", Instant.now(),
                "d", Map.of());
        Identity analyst = new Identity("https://other", "bob", Instant.now(), "d", Map.of("groups", "staff,analysts"));
        Identity nobody = new Identity("https://issuer.example", "system:serviceaccount:billing:x", Instant.now(), "d", Map.of());
        assertThat(p.roleFor(agent)).contains(triage);
        assertThat(p.roleFor(analyst).orElseThrow().name()).isEqualTo("analyst");
        assertThat(p.roleFor(nobody)).isEmpty();

        assertThat(p.operatorFor(triage, PhiType.DATE)).isEqualTo(OperatorSpec.NONE);
        assertThat(p.operatorFor(triage, PhiType.DOB)).isEqualTo(new OperatorSpec(OperatorSpec.Kind.DATE_SHIFT, 0, 30));
        assertThat(p.operatorFor(triage, PhiType.SSN)).isEqualTo(new OperatorSpec(OperatorSpec.Kind.PARTIAL, 2, 0));
        assertThat(p.operatorFor(null, PhiType.ZIP).kind()).isEqualTo(OperatorSpec.Kind.ZIP3);
    }

    @Test
    void reportsEveryMistakeWithItsLine() {
        assertThatThrownBy(() -> parse("""
                phi:
                  clinical:
                    columns: { "patients.ssn": ssn, "public.patients.x": socialsecurity }
                    unparsd: allow
                roles:
                  - name: a
                    match: {}
                    upstreams: [clinical]
                    masking: { ssn: redcat }
                """))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("policy.yaml:3: phi.clinical.columns.patients.ssn: expected schema.table.column")
                .hasMessageContaining("unknown PHI type \"socialsecurity\"")
                .hasMessageContaining("policy.yaml:4: phi.clinical.unparsd: unknown key; did you mean \"unparsed\"?")
                .hasMessageContaining("unknown masking operator \"redcat\"; did you mean \"redact\"?");
    }

    @Test
    void globMatchesLikeAShell() {
        assertThat(Match.glob("system:serviceaccount:clinical:*", "system:serviceaccount:clinical:a")).isTrue();
        assertThat(Match.glob("*:clinical:*", "system:serviceaccount:clinical:a")).isTrue();
        assertThat(Match.glob("a.b", "axb")).isFalse();
        assertThat(Match.glob("*", "")).isTrue();
    }
}
