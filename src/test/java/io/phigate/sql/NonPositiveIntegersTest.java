package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Decision 0085: libpg_query 15-4's JSON leaves out every integer at or below zero; the tree PgGrammar hands out has them. */
class NonPositiveIntegersTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "SELECT substr(x, 1, -1) FROM t                    | 1,-1",
        "SELECT - /*c*/ 5                                  | -5",
        "SELECT x FROM t LIMIT -1 OFFSET -2                | -1,-2",
        "SELECT x FROM t ORDER BY -1                       | -1",
        "SELECT x[-2] FROM t                               | -2",
        "SELECT x FROM t WHERE x = -3                      | -3",
        "SELECT - 0, -0, 0, 000                            | 0,0,0,0",
        "SELECT -(5), - ( /*c*/ 6 ), -(-7), - - - 8        | -5,-6,7,-8",
        "SELECT (-4)::int, ARRAY[-1, 2, -3], abs(-9)       | -4,-1,2,-3,-9",
        "SELECT '-5'::int, 2147483647, -2147483647         | -2147483647,2147483647",
        "SELECT 1 FROM t WHERE a = -1 AND b = -22 AND c = 3 AND d = -0 AND e = -333 | 1,-1,-22,3,0,-333",
        "SET extra_float_digits = -3                       | -3",
        "SELECT 1 FROM t WHERE a=-1 AND b<>-2 AND c*-3 > 0 | 1,-1,-2,-3,0",
        "SELECT 1 FROM t WHERE a !=- 1 AND b @-4 = 0       | 1,1,4,0",
        "CREATE TABLE t (a numeric(10, -2), b bit varying(0)) | 10,-2,0",
        "SELECT make_interval(0), TIMESTAMP(0) 'now'       | 0,0",
    })
    void everyIntegerConstantReadsAsTheServerReadsIt(String sql, String expected) {
        assertThat(integers(only(sql))).containsExactlyInAnyOrderElementsOf(longs(expected));
    }

    @Test
    void aLineCommentBetweenTheSignAndTheDigitsIsSkippedAsTheScannerSkipsIt() {
        assertThat(integers(only("SELECT - -- a line comment\n 7, -- -8\n 9"))).containsExactly(-7L, 9L);
    }

    @Test
    void aFoldedConstantKeepsItsDigitsInAnyStatementOfAText() {
        // Locations count from the start of the whole text, in bytes: the multi-byte characters before test both.
        PgGrammar.Parsed p = PgGrammar.parse("SELECT 'ääää', -1; SELECT 'é' /* - 9 */, - /* é */ 42; SELECT 0");
        assertThat(p.ok()).isTrue();
        assertThat(p.statements()).extracting(s -> integers(s.tree()))
                .containsExactly(List.of(-1L), List.of(-42L), List.of(0L));
    }

    @Test
    void anOptionsNegativeValueIsRestoredFromTheOptionsWords() {
        assertThat(integers(only("CREATE SEQUENCE s INCREMENT BY - /* c */ 1 START WITH -10 MINVALUE -100 CACHE 5")))
                .containsExactly(-1L, -10L, -100L, 5L);
        assertThat(integers(only("CREATE TABLE t (a int) WITH (fillfactor = -1)"))).containsExactly(-1L);
        assertThat(integers(only("ALTER ROLE r CONNECTION LIMIT -1"))).containsExactly(-1L);
        assertThat(integers(only("CREATE SEQUENCE s START 0 INCREMENT +0"))).containsExactly(0L, 0L);
    }

    @Test
    void falsesTheGrammarMakesFromKeywordsStayZero() {
        assertThat(integers(only("START TRANSACTION READ WRITE, NOT DEFERRABLE"))).containsExactly(0L, 0L);
        assertThat(integers(only("SELECT xmlroot(x, version '1.0', standalone yes) FROM t"))).containsExactly(0L);
    }

    @Test
    void integersWithoutALocationThatNothingReadsAreLeftAsTheyAre() {
        // SET STATISTICS -1 and an array type's [] bound are -1 to the server; the gateway reads neither value.
        PgGrammar.Parsed p = PgGrammar.parse("ALTER TABLE t ALTER c SET STATISTICS -1; SELECT x::int[] FROM t");
        assertThat(p.ok()).isTrue();
        assertThat(p.statements().get(0).tree().at("/AlterTableStmt/cmds/0/AlterTableCmd/def/Integer").isEmpty())
                .isTrue();
    }

    @Test
    void onlyATreeTheLibraryWroteWithAnEmptyIntegerIsWalked() {
        assertThat(NonPositiveIntegers.holdsEmptyInteger(bytes("{\"A_Const\":{\"ival\":{},\"location\":20}}"))).isTrue();
        assertThat(NonPositiveIntegers.holdsEmptyInteger(bytes("{\"arg\":{\"Integer\":{}},\"location\":18}"))).isTrue();
        assertThat(NonPositiveIntegers.holdsEmptyInteger(bytes("{\"A_Const\":{\"ival\":{\"ival\":5}}}"))).isFalse();
        // A string constant holding the same words has its quotes escaped.
        assertThat(NonPositiveIntegers.holdsEmptyInteger(bytes("{\"sval\":\"\\\"ival\\\":{}\"}"))).isFalse();
    }

    private static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    private static JsonNode only(String sql) {
        PgGrammar.Parsed p = PgGrammar.parse(sql);
        assertThat(p.error()).as(sql).isNull();
        assertThat(p.statements()).hasSize(1);
        return p.statements().getFirst().tree();
    }

    /** Every A_Const integer and option Integer, in the tree's order. */
    private static List<Long> integers(JsonNode n) {
        List<Long> out = new ArrayList<>();
        collect(n, out);
        return out;
    }

    private static void collect(JsonNode n, List<Long> out) {
        if (n.isObject() && n.has("A_Const") && n.get("A_Const").has("ival")) {
            out.add(n.get("A_Const").get("ival").path("ival").asLong(0));
            return;
        }
        if (n.isObject() && n.has("DefElem") && n.get("DefElem").path("arg").has("Integer")) {
            out.add(n.get("DefElem").path("arg").get("Integer").path("ival").asLong(0));
            return;
        }
        for (JsonNode v : n) {
            collect(v, out);
        }
    }

    private static List<Long> longs(String csv) {
        List<Long> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            out.add(Long.parseLong(s.strip()));
        }
        return out;
    }
}
