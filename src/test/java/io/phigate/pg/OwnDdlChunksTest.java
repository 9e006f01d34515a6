package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.pg.OwnDdlChunks.Verdict;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.TableRef;
import org.junit.jupiter.api.Test;

/** Which chunks hold only the session's own DDL, whose catalog change may be adopted (decision 0075, 3; 0081). */
class OwnDdlChunksTest {
    private static final PgCatalog CATALOG = PgCatalog.builder().searchPath("public").fingerprint("10:100")
            .table(16400, "public", "plain", "id")
            .table(16401, "public", "checked", "x")
            .runsCode(new TableRef("public", "checked"))
            .view(16402, "public", "summary", "SELECT id FROM public.plain", "id")
            .build();
    private final SqlAnalyzer analyzer = new SqlAnalyzer(CATALOG, 0);
    private boolean codeCreated;
    private final OwnDdlChunks chunks = new OwnDdlChunks(CATALOG, () -> codeCreated);

    private StatementAnalysis one(String sql) {
        return analyzer.analyze(sql).getFirst();
    }

    @Test
    void aChunkOfCreatingDdlAloneIsTheSessionsOwn() {
        chunks.joins(one("CREATE TABLE own (id int)"));
        assertThat(chunks.went(false)).isEqualTo(Verdict.OWN_DDL);
        // the next chunk starts empty
        assertThat(chunks.went(false)).isEqualTo(Verdict.NOTHING);
    }

    @Test
    void ddlBesideAnythingElseIsNotTheSessionsOwn() {
        chunks.joins(one("CREATE TABLE junk (id int)"));
        chunks.joins(one("SELECT hidden_redefine()"));
        assertThat(chunks.went(true)).isEqualTo(Verdict.CODE_MAY_HAVE_RUN);
        chunks.joins(one("CREATE TABLE junk (id int)"));
        chunks.functionCall();
        assertThat(chunks.went(true)).isEqualTo(Verdict.CODE_MAY_HAVE_RUN);
        // a Bind or Execute running something unknown
        chunks.joins(one("CREATE TABLE junk (id int)"));
        chunks.joins(null);
        assertThat(chunks.went(false)).isEqualTo(Verdict.CODE_MAY_HAVE_RUN);
    }

    @Test
    void ownDdlAfterCodeInTheSameTransactionIsNotAdoptedUntilTheSessionIsBetweenTransactions() {
        chunks.joins(one("INSERT INTO deferred VALUES (1)"));
        assertThat(chunks.went(true)).isEqualTo(Verdict.CODE_MAY_HAVE_RUN);
        chunks.joins(one("CREATE TABLE batch_junk (id int)"));
        assertThat(chunks.went(false)).isEqualTo(Verdict.CODE_MAY_HAVE_RUN);
        chunks.betweenTransactions();
        chunks.joins(one("CREATE TABLE batch_junk (id int)"));
        assertThat(chunks.went(false)).isEqualTo(Verdict.OWN_DDL);
    }

    @Test
    void chunksOfOwnDdlAloneDoNotCountAsCodeBeforeTheNextOne() {
        // pgjdbc's Parse/Execute split: the DDL's Parse in one chunk, its Execute in the next
        chunks.joins(one("ALTER TABLE plain ADD PRIMARY KEY (id)"));
        assertThat(chunks.went(true)).isEqualTo(Verdict.OWN_DDL);
        chunks.joins(one("ALTER TABLE plain ADD PRIMARY KEY (id)"));
        assertThat(chunks.went(true)).isEqualTo(Verdict.OWN_DDL);
    }

    @Test
    void alteringARelationWhoseChecksRunCodeIsNotTheSessionsOwn() {
        assertThat(chunks.runsNoCode(one("ALTER TABLE checked VALIDATE CONSTRAINT c"))).isFalse();
        assertThat(chunks.runsNoCode(one("ALTER TABLE plain VALIDATE CONSTRAINT c"))).isTrue();
        // a relation the catalog does not know: another's (the shared reading's business) or the session's own,
        // which may carry code only where the session created some
        assertThat(chunks.runsNoCode(one("ALTER TABLE made_since VALIDATE CONSTRAINT c"))).isTrue();
        codeCreated = true;
        assertThat(chunks.runsNoCode(one("ALTER TABLE made_since VALIDATE CONSTRAINT c"))).isFalse();
        // creating DDL tests no stored row
        assertThat(chunks.runsNoCode(one("CREATE TABLE made_now (id int)"))).isTrue();
    }

    @Test
    void ddlRunningAQueryOverAViewOrCallingAFunctionIsNotTheSessionsOwn() {
        assertThat(chunks.runsNoCode(one("CREATE TABLE copy AS SELECT id FROM plain"))).isTrue();
        assertThat(chunks.runsNoCode(one("CREATE TABLE copy AS SELECT id FROM summary"))).isFalse();
        assertThat(chunks.runsNoCode(one("CREATE TABLE copy AS SELECT hidden_redefine()"))).isFalse();
    }

    @Test
    void ddlRunningAQueryOverAParentWithAForeignChildIsNotTheSessionsOwn() {
        // The parent is a plain table, but its scan runs the foreign child's wrapper (an attacker's review of 0088).
        TableRef parent = new TableRef("public", "ledger");
        TableRef remote = new TableRef("public", "ledger_remote");
        PgCatalog catalog = PgCatalog.builder().searchPath("public").fingerprint("10:100")
                .table(16410, "public", "ledger", "id")
                .relation(new io.phigate.sql.Relation(16411, "public", "ledger_remote",
                        io.phigate.sql.Relation.Kind.FOREIGN_TABLE, java.util.List.of("id"), null))
                .inherits(remote, parent).build();
        SqlAnalyzer reach = new SqlAnalyzer(catalog, 0);
        OwnDdlChunks own = new OwnDdlChunks(catalog, () -> false);
        assertThat(own.runsNoCode(reach.analyze("CREATE TABLE copy AS SELECT id FROM ledger").getFirst())).isFalse();
        assertThat(own.runsNoCode(reach.analyze("CREATE TABLE copy AS SELECT id FROM ONLY ledger").getFirst()))
                .isFalse(); // ONLY is not read, as for rules: never fewer relations than the server may scan
        assertThat(own.runsNoCode(reach.analyze("CREATE TABLE copy (id int)").getFirst())).isTrue();
    }

    @Test
    void nothingIsTheSessionsOwnWhereEventTriggersExistOrNoCatalogIsKnown() {
        PgCatalog triggers = PgCatalog.builder().searchPath("public").eventTriggers().build();
        assertThat(new OwnDdlChunks(triggers, () -> false).runsNoCode(one("CREATE TABLE own (id int)"))).isFalse();
        OwnDdlChunks none = new OwnDdlChunks(null, () -> false);
        none.joins(one("CREATE TABLE own (id int)"));
        assertThat(none.went(false)).isEqualTo(Verdict.NOTHING);
    }
}
