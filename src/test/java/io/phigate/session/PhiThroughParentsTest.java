package io.phigate.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.config.PolicyLoader;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.Scrubber;
import io.phigate.policy.ColumnTags;
import io.phigate.policy.Policy;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.TableRef;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A child whose PHI is in a column its parent lacks still has its rows read through the parent: the table-level
 * questions (does the statement touch PHI, which types, does it copy PHI-holding rows out) count the child, as
 * risk rules' {@code phi} condition and the copy refusal need (decision 0088). The parent's own columns stay
 * untagged: the child's extra column never comes back through the parent.
 */
class PhiThroughParentsTest {
    static final TableRef PARENT = new TableRef("public", "visits");
    static final TableRef CHILD = new TableRef("public", "visits_private");

    @Test
    void aParentsReadTouchesTheExtraPhiOfItsChild() throws Exception {
        Policy policy = PolicyLoader.parse("""
                phi:
                  clinical:
                    columns:
                      public.visits_private.ssn: ssn
                """, Path.of("."), "policy.yaml");
        PgCatalog catalog = PgCatalog.builder().searchPath("public")
                .table(16800, "public", "visits", "id").table(16801, "public", "visits_private", "id", "ssn")
                .table(16802, "public", "sink", "id").inherits(CHILD, PARENT).build();
        SessionMasking masking = new SessionMasking(policy, null, "clinical", catalog,
                ColumnTags.resolve(policy.catalog("clinical"), catalog),
                (spec, type) -> Operators.create(OperatorSpec.REDACT, type, null), Scrubber.NONE);
        SqlAnalyzer analyzer = new SqlAnalyzer(catalog, 0);
        StatementAnalysis read = analyzer.analyze("SELECT id FROM visits").getFirst();
        assertThat(masking.touchesPhi(read)).isTrue();
        assertThat(masking.phiTouched(read)).containsExactly(PhiType.SSN);
        assertThat(masking.phiRead(read)).as("the parent's id is no PHI").isEmpty();
        assertThat(masking.copiesPhiOut(analyzer.analyze("INSERT INTO sink SELECT id FROM visits").getFirst()))
                .isTrue();
        assertThat(masking.touchesPhi(analyzer.analyze("SELECT id FROM sink").getFirst())).isFalse();
    }
}
