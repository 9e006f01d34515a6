package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.sql.Catalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The open-batch rules, message by message, without a server: what code earlier in the batch forbids later. */
class OpenBatchTest {
    private final SqlAnalyzer analyzer = new SqlAnalyzer(Catalog.EMPTY, 0);

    /** A catalog's word on code: here, only writes may run it. */
    private static class Writes implements OpenBatch.Code {
        final boolean guarded;
        int noted;

        Writes(boolean guarded) {
            this.guarded = guarded;
        }

        @Override
        public boolean guarded() {
            return guarded;
        }

        @Override
        public boolean mayRunCode(StatementAnalysis a) {
            return a == null || a.kind() == StatementKind.INSERT;
        }

        @Override
        public void mayHaveRun() {
            noted++;
        }

        final List<String> ran = new java.util.ArrayList<>();

        @Override
        public void runs(StatementAnalysis a) {
            ran.add(a == null ? null : a.text());
        }
    }

    private StatementAnalysis one(String sql) {
        return analyzer.analyze(sql).getFirst();
    }

    @Test
    void aBindReadingNamesAfterAWriteInTheSameBatchWaitsForTheServersWord() {
        Writes code = new Writes(true);
        OpenBatch batch = new OpenBatch(true, code);
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isFalse();
        batch.bind(one("INSERT INTO log VALUES (1)"), 0, null);
        batch.executes(List.of(one("INSERT INTO log VALUES (1)")));
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isTrue();
        // An unknown statement may read anything.
        assertThat(batch.askBeforeBind(null)).isTrue();
        assertThat(code.noted).isPositive();
        batch.asked();
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isFalse();
        // Every row of an executeBatch of writes is asked before: each may have run code.
        batch.bind(one("INSERT INTO log VALUES (2)"), 0, null);
        assertThat(batch.askBeforeBind(one("INSERT INTO log VALUES (3)"))).isTrue();
        batch.synced();
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isFalse();
    }

    /** A utility statement resolves its names when its portal runs; a planned one did so at its Bind. */
    @Test
    void anExecuteAfterCodeIsAskedBeforeOnlyWhereItsStatementReadsNamesAsItRuns() {
        OpenBatch batch = new OpenBatch(true, new Writes(true));
        batch.bind(one("INSERT INTO log VALUES (1)"), 0, null);
        batch.executes(List.of(one("INSERT INTO log VALUES (1)")));
        for (String planned : List.of("SELECT * FROM patients", "INSERT INTO log VALUES (2)",
                "UPDATE log SET a = 1", "DELETE FROM log", "FETCH 1 FROM c", "COMMIT")) {
            assertThat(batch.askBeforeExecute(one(planned))).as(planned).isFalse();
        }
        for (String atRun : List.of("EXECUTE shadowed", "DECLARE c CURSOR FOR SELECT * FROM patients",
                "EXPLAIN ANALYZE SELECT * FROM patients", "CREATE TABLE t AS SELECT * FROM patients",
                "SELECT * INTO t FROM patients", "COPY patients TO STDOUT", "CALL p()")) {
            assertThat(batch.askBeforeExecute(one(atRun))).as(atRun).isTrue();
        }
        assertThat(batch.askBeforeExecute(null)).isTrue();
        batch.asked();
        assertThat(batch.askBeforeExecute(one("EXECUTE shadowed"))).isFalse();
        assertThat(new OpenBatch(true, new Writes(false)).askBeforeExecute(one("EXECUTE shadowed"))).isFalse();
    }

    /**
     * The server converts a Bind's values before it reads the statement's names: a value whose type may run code at
     * input (inferred, or made after initdb: a domain's CHECK) makes even a planned statement's Execute ask first.
     */
    @Test
    void aBindWhoseValuesMayRunCodeMakesItsOwnExecuteAsk() {
        OpenBatch batch = new OpenBatch(true, new Writes(true));
        batch.bind(one("SELECT * FROM patients WHERE id = $1"), 1, new int[]{23});
        assertThat(batch.askBeforeExecute(one("SELECT * FROM patients WHERE id = $1"))).isFalse();
        for (int[] types : new int[][]{null, {0}, {16385}, {23, 0}}) {
            batch.synced();
            batch.bind(one("SELECT * FROM patients WHERE id = $1"), 2, types);
            assertThat(batch.askBeforeExecute(one("SELECT * FROM patients WHERE id = $1"))).isTrue();
            batch.asked();
            assertThat(batch.askBeforeExecute(one("SELECT * FROM patients WHERE id = $1"))).isFalse();
        }
    }

    /** Where no type's values run code (no code-running domain or cast), an inferred or user type runs none. */
    @Test
    void aBindOfInferredOrUserTypesRunsNothingWhereNoTypesValuesRunCode() {
        Writes noCodeTypes = new Writes(true) {
            @Override
            public boolean valuesMayRunCode() {
                return false;
            }
        };
        OpenBatch batch = new OpenBatch(true, noCodeTypes);
        for (int[] types : new int[][]{null, {0}, {16385}, {23, 0}}) {
            batch.bind(one("SELECT * FROM patients WHERE id = $1"), 2, types);
            assertThat(batch.askBeforeExecute(one("SELECT * FROM patients WHERE id = $1"))).isFalse();
            batch.executes(List.of(one("SELECT * FROM patients WHERE id = $1")));
            batch.synced();
        }
        assertThat(noCodeTypes.noted).isZero();
    }

    @Test
    void readsThatRunNoCodeNeverAsk() {
        OpenBatch batch = new OpenBatch(true, new Writes(true));
        for (int i = 0; i < 3; i++) {
            assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isFalse();
            batch.bind(one("SELECT * FROM patients"), 0, null);
            batch.executes(List.of(one("SELECT * FROM patients")));
        }
    }

    @Test
    void statementsThatResolveNoNameStillRunAfterCode() {
        OpenBatch batch = new OpenBatch(true, new Writes(true));
        batch.executes(List.of(one("INSERT INTO log VALUES (1)")));
        for (String nameless : List.of("SHOW search_path", "SET application_name = 'x'", "COMMIT",
                "DEALLOCATE ALL", "FETCH 1 FROM c")) {
            assertThat(batch.askBeforeBind(one(nameless))).as(nameless).isFalse();
        }
    }

    @Test
    void anUnguardedSessionNeverRefusesForNames() {
        Writes code = new Writes(false);
        OpenBatch batch = new OpenBatch(true, code);
        batch.executes(List.of(one("INSERT INTO log VALUES (1)")));
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isFalse();
        assertThat(batch.query(analyzer.analyze("INSERT INTO log VALUES (1); SELECT * FROM patients"))).isNull();
        assertThat(code.noted).isZero();
    }

    @Test
    void aSimpleQueryReadingAfterItsOwnCodeIsRefusedAndCodeLastIsOnlyNoted() {
        Writes code = new Writes(true);
        OpenBatch batch = new OpenBatch(true, code);
        assertThat(batch.query(analyzer.analyze("INSERT INTO log VALUES (1); SELECT * FROM patients")))
                .isNotNull();
        assertThat(code.noted).isZero();
        assertThat(batch.query(analyzer.analyze("SELECT * FROM patients; INSERT INTO log VALUES (1)"))).isNull();
        assertThat(code.noted).isEqualTo(1);
        // Outside an extended batch a Query's code does not make the next message of the batch suspect.
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isFalse();
    }

    @Test
    void aFunctionCallForwardedInsideAnOpenBatchCountsAsCode() {
        OpenBatch batch = new OpenBatch(true, new Writes(true));
        batch.bind(one("SELECT 1"), 0, null);
        batch.forwarded(List.of(Op.of(Op.Kind.FUNCTION_CALL)), true);
        assertThat(batch.askBeforeBind(one("SELECT * FROM patients"))).isTrue();
        assertThat(batch.text("SELECT 'é'")).isNotNull();
    }

    @Test
    void encodingDependentTextIsRefusedAfterAnyBindUntilTheServerReports() {
        OpenBatch batch = new OpenBatch(true, null);
        assertThat(batch.text("SELECT 'é'")).isNull();
        batch.bound();
        assertThat(batch.text("SELECT 'plain'")).isNull();
        assertThat(batch.text("SELECT 'é'")).isNotNull();
        assertThat(batch.names("S_1")).isNull();
        assertThat(batch.names("é")).isNotNull();
        batch.encodingReported();
        assertThat(batch.text("SELECT 'é'")).isNull();
    }

    @Test
    void anUnanalysedSessionJudgesNothing() {
        OpenBatch batch = new OpenBatch(false, null);
        batch.bound();
        batch.executes(null);
        assertThat(batch.encodingMayHaveChanged()).isFalse();
        assertThat(batch.text("SELECT 'é'")).isNull();
        assertThat(batch.askBeforeBind(null)).isFalse();
    }

    /** The session's own DDL is told by what a chunk runs: a Bind or Execute says so itself, asking changes nothing. */
    @Test
    void aBindAndAnExecuteSayWhatTheyRunAndAskingWhetherCodeMayRunNotesNothing() {
        Writes code = new Writes(true);
        OpenBatch batch = new OpenBatch(true, code);
        code.mayRunCode(one("CREATE TABLE t (id int)"));
        assertThat(code.ran).isEmpty();
        batch.bind(one("CREATE TABLE t (id int)"), 0, null);
        // every statement an Execute runs, also after one that may run code
        batch.executes(List.of(one("INSERT INTO log VALUES (1)"), one("CREATE TABLE u (id int)")));
        // a Bind whose values may run code, and an Execute of something unknown, run what nobody's DDL explains
        batch.bind(one("CREATE TABLE v (id int)"), 1, new int[] {0});
        batch.executes(null);
        assertThat(code.ran).containsExactly("CREATE TABLE t (id int)", "INSERT INTO log VALUES (1)",
                "CREATE TABLE u (id int)", null, null);
        // an unguarded session keeps no such account
        Writes unguarded = new Writes(false);
        new OpenBatch(true, unguarded).executes(List.of(one("CREATE TABLE t (id int)")));
        assertThat(unguarded.ran).isEmpty();
    }
}
