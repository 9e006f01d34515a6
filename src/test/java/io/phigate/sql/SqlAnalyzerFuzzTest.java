package io.phigate.sql;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Any text an agent sends, through the analyser the gateway uses: it answers within the parse limit, never
 * throws, keeps the invariants of {@link AnalysisInvariants}, and gives the same answer again (from its cache)
 * and from a fresh analyser. The helpers the gate and the risk rules call on the same text never throw. This is
 * the fuzz target over the boundary to PostgreSQL's parser (libpg_query through FFM): every byte string crosses
 * it, and a syntax error must come back as the server's own message and position.
 *
 * <p>Jazzer instruments only {@code io.phigate} (bench/fuzz.sh sets the includes); the native grammar is not
 * instrumented, so coverage steers the fuzzer through the tree walk.
 */
class SqlAnalyzerFuzzTest extends FuzzTarget {
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(AnalysisInvariants.CATALOG);

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) {
        String sql = new String(input, StandardCharsets.UTF_8);
        List<StatementAnalysis> analyses = ANALYZER.analyze(sql);
        AnalysisInvariants.check(analyses);
        AnalysisInvariants.checkDeterministic(ANALYZER, sql, analyses);
        for (StatementAnalysis a : analyses) {
            SqlAnalyzer.preparedStatementName(a.text());
            SqlAnalyzer.copyOptions(a.text());
            StatementWords.of(a.text());
            ParameterColumns.of(a, AnalysisInvariants.CATALOG);
        }
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(); // analyze() documents that it never throws: what it cannot read comes back unparsed
    }

    @Override
    protected Duration timeBudget() {
        return AnalysisInvariants.timeBudget(1);
    }

    @Override
    protected Duration timeBudget(byte[] input) {
        return AnalysisInvariants.timeBudget(SqlAnalyzer.statementCount(new String(input, StandardCharsets.UTF_8)));
    }
}
