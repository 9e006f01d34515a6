package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.config.PolicyLoader;
import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.Relation;
import io.phigate.sql.TableRef;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Decision 0095: a column holding rows of a view is tagged by what the view's columns are made of, as every declared
 * type when that cannot be read, and not at all when they hold nothing tagged.
 */
class RowHolderTagsTest {
    private static TableRef t(String name) {
        return new TableRef("public", name);
    }

    private static ColumnRef c(String table, String column) {
        return new ColumnRef("public", table, column);
    }

    static final PgCatalog CATALOG = PgCatalog.builder()
            .table(1, "public", "patients", "id", "ssn", "dob")
            .view(2, "public", "ssns", "SELECT id, ssn FROM public.patients", "id", "ssn")
            .view(3, "public", "ids", "SELECT id FROM public.patients", "id")
            .relation(new Relation(4, "public", "unreadable", Relation.Kind.VIEW, List.of("x"), null))
            .table(5, "public", "history", "at", "old", "plain", "opaque")
            .view(6, "public", "olds", "SELECT old FROM public.history", "old")
            .table(7, "public", "archive", "kept")
            .rowHolder(t("ssns"), c("history", "old"))
            .rowHolder(t("ids"), c("history", "plain"))
            .rowHolder(t("unreadable"), c("history", "opaque"))
            .rowHolder(t("olds"), c("archive", "kept"))
            .build();

    private static Map<ColumnRef, PhiType> tags() throws Exception {
        Policy p = PolicyLoader.parse("""
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.patients.dob: dob
                masking:
                  key_file: masking.key
                """, Path.of("."), "policy.yaml");
        return ColumnTags.resolve(p.catalog("clinical"), CATALOG).byColumn();
    }

    @Test
    void aViewsRowIsTaggedByItsColumnsLineage() throws Exception {
        assertThat(tags()).containsEntry(c("history", "old"), PhiType.SSN);
    }

    @Test
    void aViewsRowOfUntaggedColumnsStaysUntagged() throws Exception {
        assertThat(tags()).doesNotContainKey(c("history", "plain"));
    }

    @Test
    void aViewsRowOfUnreadableLineageIsTaggedAsTheStrongestDeclaredType() throws Exception {
        assertThat(tags()).containsEntry(c("history", "opaque"), PhiType.SSN);
    }

    @Test
    void rowsOfAViewOverKeptRowsAreTaggedToo() throws Exception {
        assertThat(tags()).containsEntry(c("archive", "kept"), PhiType.SSN);
    }
}
