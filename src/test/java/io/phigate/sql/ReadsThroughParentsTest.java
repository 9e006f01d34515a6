package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A scan of a parent returns its children's and partitions' rows, transitively: the analysis keeps them apart from
 * the relations read by name ({@link StatementFacts#descendantReads}), so that rules and masking judge them while a
 * role's scope judges the parent named, as the server's privileges do.
 */
class ReadsThroughParentsTest {
    static final TableRef PARENT = new TableRef("public", "base");
    static final TableRef CHILD = new TableRef("public", "kid");
    static final TableRef GRANDCHILD = new TableRef("public", "grandkid");
    static final TableRef OPEN = new TableRef("public", "open");
    static final SqlAnalyzer ANALYZER = new SqlAnalyzer(PgCatalog.builder().searchPath("public")
            .table(16600, "public", "base", "id", "v").table(16601, "public", "kid", "v", "id", "extra")
            .table(16602, "public", "grandkid", "v", "id", "extra").table(16603, "public", "open", "id")
            .view(16604, "public", "base_view", "SELECT id, v FROM public.base", "id", "v")
            .inherits(CHILD, PARENT).inherits(GRANDCHILD, CHILD).build(), 0);

    static StatementAnalysis first(String sql) {
        return ANALYZER.analyze(sql).getFirst();
    }

    @Test
    void aReadOfAParentScansEveryDescendantWithoutReadingItByName() {
        for (String sql : new String[] {"SELECT * FROM base", "TABLE base", "SELECT count(*) FROM ONLY base",
                "WITH w AS (SELECT v FROM base) SELECT v FROM w", "SELECT (SELECT max(id) FROM base)",
                "SELECT 1 FROM open o JOIN base b USING (id)", "SELECT * FROM open WHERE id IN (SELECT id FROM base)",
                "COPY (SELECT v FROM base) TO STDOUT", "DECLARE c CURSOR FOR SELECT * FROM base",
                "PREPARE p AS SELECT * FROM base", "SELECT * FROM base_view"}) {
            StatementAnalysis a = first(sql);
            assertThat(a.reads()).as(sql).contains(PARENT).doesNotContain(CHILD, GRANDCHILD);
            assertThat(a.facts().descendantReads()).as(sql).containsExactlyInAnyOrder(CHILD, GRANDCHILD);
            assertThat(a.scanned()).as(sql).contains(PARENT, CHILD, GRANDCHILD);
        }
    }

    @Test
    void aChildReadByNameIsAReadAndOnlyItsOwnDescendantsAreScanned() {
        StatementAnalysis both = first("SELECT * FROM base b JOIN kid k USING (id)");
        assertThat(both.reads()).contains(PARENT, CHILD);
        assertThat(both.facts().descendantReads()).containsExactly(GRANDCHILD);
        assertThat(first("SELECT * FROM kid").facts().descendantReads()).containsExactly(GRANDCHILD);
        assertThat(first("SELECT * FROM grandkid").facts().descendantReads()).isEmpty();
        StatementAnalysis plain = first("SELECT * FROM open");
        assertThat(plain.scanned()).isSameAs(plain.reads()).containsExactly(OPEN);
    }
}
