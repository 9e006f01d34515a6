package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever an agent sends, the analyser answers: no exception, no hang. Each input must come back within
 * {@link #BOUND}, generous because the parse limit is 2 s and the test machine is shared.
 */
class SqlAnalyzerRobustnessTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(DemoCatalog.get());
    private static final String[] WORDS = {"select", "from", "where", "(", ")", ",", ";", "'", "\"", "$$", "$1",
            "::", "patients", "ssn", "p", ".", "*", "union", "with", "as", "join", "on", "copy", "to", "stdout",
            "declare", "cursor", "for", "set", "=", "E'\\'", "/*", "*/", "--", "\n", "lateral", "row_to_json",
            "values", "insert", "into", "returning", "case", "when", "then", "end", "[", "]", "over", "||"};

    private static List<StatementAnalysis> timed(String sql) {
        long t0 = System.nanoTime();
        var out = new java.util.concurrent.atomic.AtomicReference<List<StatementAnalysis>>();
        assertThatCode(() -> out.set(ANALYZER.analyze(sql))).doesNotThrowAnyException();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(BOUND);
        assertThat(out.get()).isNotEmpty();
        for (StatementAnalysis a : out.get()) {
            assertThat(a.kind()).isNotNull();
            if (!a.parsed()) {
                assertThat(a.error()).isNotBlank();
            }
        }
        return out.get();
    }

    @Test
    void randomTokenSoupNeverThrows() {
        Random r = new Random(42);
        for (int i = 0; i < 300; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(40);
            for (int j = 0; j < n; j++) {
                sb.append(WORDS[r.nextInt(WORDS.length)]).append(r.nextBoolean() ? " " : "");
            }
            timed(sb.toString());
        }
    }

    @Test
    void randomCharactersNeverThrow() {
        Random r = new Random(7);
        for (int i = 0; i < 200; i++) {
            char[] c = new char[r.nextInt(200)];
            for (int j = 0; j < c.length; j++) {
                c[j] = (char) (r.nextInt(4) == 0 ? r.nextInt(0x3000) : 32 + r.nextInt(95));
            }
            timed(new String(c));
        }
    }

    @Test
    void mutatedCaseStatementsNeverThrow() throws Exception {
        Random r = new Random(11);
        List<String> sqls = new ArrayList<>();
        for (LineageCasesTest.Case c : LineageCasesTest.cases()) {
            sqls.add(c.sql());
        }
        for (String sql : sqls) {
            for (int k = 0; k < 3; k++) {
                StringBuilder sb = new StringBuilder(sql);
                int edits = 1 + r.nextInt(3);
                for (int e = 0; e < edits && !sb.isEmpty(); e++) {
                    int at = r.nextInt(sb.length());
                    switch (r.nextInt(3)) {
                        case 0 -> sb.deleteCharAt(at);
                        case 1 -> sb.insert(at, WORDS[r.nextInt(WORDS.length)]);
                        default -> sb.setLength(at);
                    }
                }
                timed(sb.toString());
            }
        }
    }

    @Test
    void unterminatedQuotesAndCommentsAreBounded() {
        for (String s : List.of("select 'abc", "select \"abc", "select $$abc", "select E'abc\\'", "/* /* */ select 1",
                "select 1 -- ;", "$", "$a", "$$", "'", "\"", ";", "(", ")", "::", "copy (", "declare", "fetch",
                "set", "set x", "explain", "explain (", "prepare", "prepare x as", "create table t as",
                "copy t", "copy (select 1) from stdin", "U&'x", "U&\"x", "e'", "call")) {
            timed(s);
        }
    }

    @Test
    void deepNestingIsReadAsTheServerReadsItOrRefusedAsTooComplex() {
        // Parentheses alone make no tree nodes: the server runs this, and so it is analysed.
        assertThat(timed("select " + "(".repeat(5000) + "1" + ")".repeat(5000)).getFirst().parsed()).isTrue();
        timed("select " + "(".repeat(30) + "1" + ")".repeat(30));
        timed("select " + "(select ".repeat(20) + "1" + ")".repeat(20));
        timed("select 1" + " union select 1".repeat(300));
        timed("select " + "coalesce(".repeat(25) + "ssn" + ")".repeat(25) + " from patients");
        // Nested expressions deeper than the tree limit are refused unread, never walked into a stack overflow.
        StatementAnalysis deep = timed("select " + "-(1 + ".repeat(400) + "1" + ")".repeat(400)).getFirst();
        assertThat(deep.parsed()).isFalse();
        assertThat(deep.error()).contains("too complex");
        // Deeper still, the server's parser itself gives up ("memory exhausted"), and so does the analyser.
        assertThat(timed("select " + "-(1 + ".repeat(3000) + "1" + ")".repeat(3000)).getFirst().syntaxError()).isTrue();
    }

    /** Nested brackets once ran JSqlParser out of time; the server's parser reads them in microseconds. */
    @Test
    void nestedBracketsAreReadQuickly() {
        String arrays = "t.id";
        String subscripts = "t.id";
        for (int i = 0; i < 16; i++) {
            arrays = "ARRAY[" + arrays + ", t.id]";
            subscripts = "t.a[" + subscripts + "]";
        }
        for (String e : List.of(arrays, subscripts)) {
            long t0 = System.nanoTime();
            StatementAnalysis a = timed("select " + e + " from patients t").getFirst();
            assertThat(a.parsed()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(500));
        }
        StatementAnalysis broken = timed("select t.a[1 from patients t").getFirst();
        assertThat(broken.syntaxError()).isTrue();
        assertThat(broken.error()).isEqualTo("syntax error at or near \"from\"");
        assertThat(broken.errorPosition()).isEqualTo(14);
    }

    @Test
    void hugeInputsAreAnalysedInTime() {
        String huge = "select ssn from patients where id in (" + "1,".repeat(200_000) + "1)";
        List<StatementAnalysis> a = timed(huge);
        assertThat(a.getFirst().parsed()).isTrue();
        assertThat(timed("select ssn from patients; ".repeat(2000))).hasSize(2000);
        timed("select " + "ssn, ".repeat(2000) + "ssn from patients");
        timed("x".repeat(300_000));
    }

    @Test
    void aRejectedTextCarriesTheServersMessageAndPosition() {
        StatementAnalysis a = timed("select secret_value_123 from where").getFirst();
        assertThat(a.parsed()).isFalse();
        assertThat(a.error()).isEqualTo("syntax error at or near \"where\"");
        assertThat(a.errorPosition()).isEqualTo(30);
        StatementAnalysis b = timed("select 1; selec 'x'; select 2").getFirst();
        assertThat(b.error()).isEqualTo("syntax error at or near \"selec\"");
        assertThat(b.errorPosition()).isEqualTo(11);
        assertThat(timed("select 1; selec 'x'; select 2")).as("the server runs none of a rejected Query").hasSize(1);
    }
}
