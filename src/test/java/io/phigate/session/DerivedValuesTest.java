package io.phigate.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.config.PolicyLoader;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.ResultColumn;
import io.phigate.mask.Scrubber;
import io.phigate.policy.ColumnTags;
import io.phigate.policy.Policy;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.OutputColumn;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Operators apply to a column's own value only (issue 19): an output that derives from a tagged column through an
 * expression is redacted, whatever the type's operator, so reverse(zip) under zip3, make_date(day, month, year)
 * under year and token(substr(ssn, i, 1)) reveal nothing.
 */
class DerivedValuesTest {
    static final ColumnRef ZIP = new ColumnRef("public", "patients", "zip");
    static final ColumnRef DOB = new ColumnRef("public", "patients", "birth_date");
    static final ColumnRef MRN = new ColumnRef("public", "patients", "mrn");

    static SessionMasking masking() throws Exception {
        Policy policy = PolicyLoader.parse("""
                phi:
                  clinical:
                    columns:
                      public.patients.zip: zip
                      public.patients.birth_date: dob
                      public.patients.mrn: mrn
                """, Path.of("."), "policy.yaml");
        PgCatalog catalog = PgCatalog.builder().table(16400, "public", "patients", "id", "zip", "birth_date", "mrn")
                .build();
        return new SessionMasking(policy, null, "clinical", catalog,
                ColumnTags.resolve(policy.catalog("clinical"), catalog), (spec, type) -> Operators.create(OperatorSpec.REDACT, type, null),
                Scrubber.NONE);
    }

    static String summary(SessionMasking m, OutputColumn out, int typeOid) {
        StatementAnalysis a = new StatementAnalysis(StatementKind.SELECT, Set.of(), Set.of(), Set.of(), List.of(out),
                Set.of(), false, null, null, null, true, null, "select");
        return m.plan(a, List.of(new ResultColumn(out.name(), 0, 0, new ValueType(typeOid, -1, false))))
                .summary();
    }

    @Test
    void theTypesOperatorAppliesToTheColumnItself() throws Exception {
        SessionMasking m = masking();
        assertThat(summary(m, new OutputColumn("zip", Set.of(ZIP), true, false), 25)).isEqualTo("zip(zip)=zip3");
        assertThat(summary(m, new OutputColumn("birth_date", Set.of(DOB), true, false), 1082))
                .isEqualTo("birth_date(dob)=year");
        assertThat(summary(m, new OutputColumn("mrn", Set.of(MRN), true, false), 25)).isEqualTo("mrn(mrn)=token");
    }

    @Test
    void anExpressionOverATaggedColumnIsRedactedWhateverTheOperator() throws Exception {
        SessionMasking m = masking();
        assertThat(summary(m, new OutputColumn("reverse", Set.of(ZIP), false, false), 25))
                .isEqualTo("reverse(zip)=redact");
        assertThat(summary(m, new OutputColumn("make_date", Set.of(DOB), false, false), 1082))
                .isEqualTo("make_date(dob)=redact");
        assertThat(summary(m, new OutputColumn("substr", Set.of(MRN), false, false), 25))
                .isEqualTo("substr(mrn)=redact");
    }
}
