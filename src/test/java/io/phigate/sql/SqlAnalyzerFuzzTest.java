package io.phigate.sql;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Any text an agent sends, through the analyser the gateway uses: it answers within the parse limit, never
 * throws, keeps the invariants of {@link AnalysisInvariants}, and gives the same answer again (from its cache)
 * and from a fresh analyser. The tokenizer helpers the statement gate calls on the same text never throw.
 *
 * <p>Jazzer instruments only {@code io.phigate} (bench/fuzz.sh sets the includes): JSqlParser's generated parser
 * is large enough that instrumenting it made each input take seconds, and its coverage would mostly steer the
 * fuzzer through grammar phigate never looks at.
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
            SqlAnalyzer.lacksWhere(a.text());
            SqlAnalyzer.preparedStatementName(a.text());
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
