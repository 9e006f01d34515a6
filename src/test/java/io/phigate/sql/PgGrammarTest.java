package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PgGrammarTest {

    @Test
    void libraryIsLoaded() {
        assertThat(PgGrammar.unavailableReason()).isNull();
        assertThat(PgGrammar.available()).isTrue();
    }

    @Test
    void splitsAsTheServerDoesSkippingEmptyStatements() {
        String sql = "select 1 -- one\n; ; select 'ä;' /* a /* nested; */ still */ ;select 3";
        PgGrammar.Parsed p = PgGrammar.parse(sql);
        assertThat(p.ok()).isTrue();
        assertThat(p.statements()).hasSize(3);
        assertThat(p.statements()).extracting(s -> sql.substring(s.start(), s.end()).strip())
                .containsExactly("select 1 -- one", "select 'ä;' /* a /* nested; */ still */", "select 3");
        assertThat(p.statements().get(0).tree().has("SelectStmt")).isTrue();
    }

    @Test
    void aCommentEndsAtACarriageReturnAsTheServerReadsIt() {
        // The scanner ends a -- comment at \n or \r; the statement after a \r is real.
        PgGrammar.Parsed p = PgGrammar.parse("select 1 -- hidden\r, 2");
        assertThat(p.statements().getFirst().tree().at("/SelectStmt/targetList")).hasSize(2);
        PgGrammar.Parsed q = PgGrammar.parse("select 1; -- hidden\rdelete from t");
        assertThat(q.statements()).hasSize(2);
        assertThat(q.statements().get(1).tree().has("DeleteStmt")).isTrue();
    }

    @Test
    void syntaxErrorsCarryTheServersMessageAndCharacterPosition() {
        PgGrammar.Parsed p = PgGrammar.parse("select 'é', 1 1");
        assertThat(p.ok()).isFalse();
        assertThat(p.error().message()).isEqualTo("syntax error at or near \"1\"");
        assertThat(p.error().position()).isEqualTo(15); // characters, as the server counts, not UTF-8 bytes
    }

    @Test
    void identifiersFoldAsciiOnly() {
        PgGrammar.Parsed p = PgGrammar.parse("select ÄBC, Abc, U&\"d\\0061t\" from T");
        assertThat(p.statements().getFirst().tree().toString())
                .contains("\"sval\":\"Äbc\"").contains("\"sval\":\"abc\"").contains("\"sval\":\"dat\"")
                .contains("\"relname\":\"t\"");
    }

    @Test
    void scanReportsCommentsAndCharacterOffsets() {
        String sql = "select 'ü' /* c */, $1 -- d";
        List<PgGrammar.Token> t = PgGrammar.scan(sql);
        assertThat(t).extracting(PgGrammar.Token::token).containsExactly(
                PgGrammar.Token.SCONST == 0 ? 0 : t.get(0).token(), PgGrammar.Token.SCONST, PgGrammar.Token.C_COMMENT,
                (int) ',', PgGrammar.Token.PARAM, PgGrammar.Token.SQL_COMMENT);
        assertThat(sql.substring(t.get(1).start(), t.get(1).end())).isEqualTo("'ü'");
        assertThat(sql.substring(t.get(2).start(), t.get(2).end())).isEqualTo("/* c */");
        assertThat(t.get(0).isKeyword()).isTrue();
        assertThat(PgGrammar.scan("select 'unterminated")).isNull();
    }

    @Test
    void deepNestingIsRefusedNotCrashedOnAVirtualThread() throws Exception {
        // Parentheses add no tree levels; unary minus does, up to the parser's own stack of 10,000 entries. Run
        // where sessions run: a virtual thread, whose carrier's native stack the library's recursion uses.
        java.util.concurrent.atomic.AtomicReference<Object> seen = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                seen.set(List.of(
                        PgGrammar.parse("select " + "(".repeat(20_000) + "1" + ")".repeat(20_000)).ok(),
                        PgGrammar.parse("select " + "not ".repeat(9_990) + "true").ok(),
                        PgGrammar.parse("select " + "not ".repeat(30_000) + "true").ok(),
                        PgGrammar.parse("select " + "- ".repeat(500) + "1").ok()));
            } catch (Throwable e) {
                seen.set(e);
            }
        });
        t.join();
        assertThat(seen.get()).isEqualTo(List.of(false, false, false, true));
    }

    @Test
    void theDeepestShapesATextReadInlineCanTakeFitInAQuarterOfTheDefaultStack() throws Exception {
        // Texts up to INLINE_MAX_CHARS are read on the caller's thread (a carrier with the default 1 MiB stack).
        // Every shape that nests one level per few characters must fit in 256 KiB, a fourfold margin.
        int n = PgGrammar.INLINE_MAX_CHARS - 10;
        List<String> shapes = List.of(
                "select " + "(".repeat(n / 2) + "1" + ")".repeat(n / 2),
                "select 1" + "+1".repeat(n / 2),
                "select " + "- ".repeat(n / 2) + "a",
                "select " + "not ".repeat(n / 4) + "true",
                "select " + "array[".repeat(n / 7) + "1" + "]".repeat(n / 7),
                "select a" + "::int".repeat(n / 5),
                "select " + "(select ".repeat(n / 9) + "1" + ")".repeat(n / 9),
                "select " + "f(".repeat(n / 3) + "1" + ")".repeat(n / 3),
                "select a" + "||a".repeat(n / 3),
                "select a" + "[1]".repeat(n / 3),
                "select " + "case when a then ".repeat(n / 21) + "1" + " end".repeat(n / 21),
                "select " + "row(".repeat(n / 5) + "1" + ")".repeat(n / 5));
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                for (String shape : shapes) {
                    assertThat(shape.length()).isLessThanOrEqualTo(PgGrammar.INLINE_MAX_CHARS);
                    PgGrammar.parse(shape);
                    PgGrammar.scan(shape);
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "small-stack", 256 * 1024);
        t.start();
        t.join();
        assertThat(failed.get()).isNull();
    }
}
