package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.PgGrammar.Parsed;
import io.phigate.sql.PgGrammar.Reader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The protobuf reader must give the analysis exactly the tree the JSON reader gave it (decision 0082): what the
 * gateway decides on is its reading of the statement, and a difference between two readings of the same parse is
 * a place for a statement to be read as something it is not.
 */
class ParseResultDecoderTest {

    private static final Path INSTALLED_SCHEMA = Path.of("/usr/include/pg_query/pg_query.proto");

    /**
     * Message types of pg_query.proto the raw parser never makes: the planner's and executor's nodes (the schema
     * lists every node PostgreSQL has), parse analysis's (Query, RangeTblEntry, SetOperationStmt, ...), PL/pgSQL's
     * assignment (parsed in another mode), and the scanner's result.
     */
    private static final Set<String> NOT_FROM_THE_RAW_PARSER = Set.of(
            "ScanResult", "ScanToken", "IntList", "OidList", "Var", "Param", "Aggref", "WindowFunc",
            "SubscriptingRef", "FuncExpr", "OpExpr", "DistinctExpr", "NullIfExpr",
            "ScalarArrayOpExpr", "SubPlan", "AlternativeSubPlan", "FieldSelect", "FieldStore", "RelabelType",
            "CoerceViaIO", "ArrayCoerceExpr", "ConvertRowtypeExpr", "CollateExpr", "CaseTestExpr", "ArrayExpr",
            "RowCompareExpr", "CoerceToDomain", "CoerceToDomainValue", "NextValueExpr",
            "InferenceElem", "TargetEntry", "RangeTblRef", "FromExpr", "OnConflictExpr", "MergeAction", "Query",
            "RangeTblEntry", "RangeTblFunction", "TableSampleClause", "WithCheckOption", "SortGroupClause",
            "WindowClause", "RowMarkClause", "SetOperationStmt", "TableFunc", "PartitionRangeDatum", "InlineCodeBlock", "CallContext", "PLAssignStmt");

    /** Statements for node types the regression sample lacks (extensions are tested outside the core suite). */
    private static final List<String> SUPPLEMENT = List.of(
            "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA s VERSION '1.3' CASCADE",
            "ALTER EXTENSION pgcrypto UPDATE TO '1.3'", "ALTER EXTENSION pgcrypto ADD FUNCTION f(int)",
            "ALTER DATABASE d REFRESH COLLATION VERSION", "ALTER DATABASE d WITH CONNECTION LIMIT 5",
            "ALTER FUNCTION f(int) DEPENDS ON EXTENSION pgcrypto", "CREATE PUBLICATION p FOR TABLE t (a, b) WHERE (a > 1)",
            "SELECT B'101', X'1F', -2147483648, 4294967296, 1.5e300, -0.0",
            "INSERT INTO t VALUES (1) ON CONFLICT (a) WHERE b DO UPDATE SET c = 2 WHERE t.d",
            "CREATE TABLE p (a int) PARTITION BY RANGE (a)",
            "WITH RECURSIVE r(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM r) SEARCH DEPTH FIRST BY a SET o "
                    + "CYCLE a SET c USING p SELECT * FROM r",
            "CREATE TABLE c PARTITION OF p FOR VALUES FROM (MINVALUE) TO (10)",
            "FETCH ALL IN c", "FETCH BACKWARD 2147483648 FROM c", "SELECT 'ü', U&'\\00e9', E'\\u00e9\\n', $q$x$q$");

    @Test
    void theBundledSchemaIsTheInstalledLibrarysOwn() throws IOException {
        assertThat(INSTALLED_SCHEMA).as("libpg-query-dev installs the schema the bundled copy is checked against")
                .exists();
        try (InputStream in = ParseTreeSchema.class.getResourceAsStream(ParseTreeSchema.RESOURCE)) {
            assertThat(in).isNotNull();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .as("src/main/resources/io/phigate/sql/pg_query.proto must be copied from the installed library")
                    .isEqualTo(Files.readString(INSTALLED_SCHEMA));
        }
    }

    @Test
    void everyStatementOfTheCorpusReadsTheSameThroughProtobufAsThroughJson() throws IOException {
        List<String> corpus = corpus();
        int compared = 0;
        int statements = 0;
        for (String sql : corpus) {
            Parsed json = PgGrammar.parse(sql, Reader.JSON);
            assertSame(sql, PgGrammar.parse(sql), json);
            if (!PgGrammar.mayHoldAnEmptyString(sql)) {
                assertSame(sql, PgGrammar.parse(sql, Reader.PROTOBUF), json);
                compared++;
                statements += json.statements().size();
            }
        }
        assertThat(corpus).hasSizeGreaterThan(3_000);
        assertThat(compared).isGreaterThan(2_500);
        assertThat(statements).isGreaterThan(2_500);
    }

    @Test
    void everyMessageTypeTheRawParserMakesOccursInTheCorpus() throws IOException {
        ParseTreeSchema schema = ParseTreeSchema.bundled();
        Set<String> seen = new TreeSet<>();
        for (String sql : corpus()) {
            for (PgGrammar.Statement s : PgGrammar.parse(sql).statements()) {
                walk(schema, s.tree(), schema.message("Node"), seen);
            }
        }
        seen.add("ParseResult");
        seen.add("RawStmt");
        Set<String> unseen = new TreeSet<>(schema.messageNames());
        unseen.removeAll(seen);
        System.out.printf("parse corpus: %d of %d message types of pg_query.proto occur%n", seen.size(),
                schema.messageNames().size());
        assertThat(unseen).as("message types of pg_query.proto that no corpus statement has (%s seen)", seen.size())
                .isEqualTo(new TreeSet<>(NOT_FROM_THE_RAW_PARSER));
    }

    /** Records the message type of every object in {@code tree}, reading the types from the schema. */
    private static void walk(ParseTreeSchema schema, JsonNode tree, ParseTreeSchema.Message type, Set<String> seen) {
        seen.add(type.name);
        for (var e : tree.properties()) {
            int field = java.util.Arrays.asList(type.names).indexOf(e.getKey());
            assertThat(field).as("%s.%s is in the schema", type.name, e.getKey()).isPositive();
            if (type.kinds[field] == ParseTreeSchema.Kind.MESSAGE) {
                for (JsonNode v : e.getValue().isArray() ? e.getValue() : List.of(e.getValue())) {
                    walk(schema, v, type.messages[field], seen);
                }
            }
        }
    }

    @Test
    void anEmptyStringIsKeptBecauseTheProtobufOutputCannotTellItFromNone() {
        // protobuf-c leaves out an empty string as it leaves out a null one; COPY's file name '' is not STDIN.
        String sql = "COPY patients TO PROGRAM ''";
        JsonNode read = PgGrammar.parse(sql).statements().getFirst().tree();
        assertThat(Tree.body(read).path("filename").isTextual()).isTrue();
        assertThat(Tree.body(read).path("filename").asText()).isEmpty();
        assertThat(Tree.body(PgGrammar.parse(sql, Reader.PROTOBUF).statements().getFirst().tree()).has("filename"))
                .isFalse();
        assertThat(PgGrammar.mayHoldAnEmptyString("CREATE TABLESPACE t LOCATION $x$$x$")).isTrue();
        assertThat(PgGrammar.mayHoldAnEmptyString("UPDATE a SET b = b + -1 WHERE c = 'it'")).isFalse();
    }

    @Test
    void negativeIntegersReadAsTheJsonReaderReadsThem() {
        for (String sql : List.of("SET extra_float_digits = -3", "CREATE TABLE t (a int[])",
                "SELECT 1 ORDER BY -1", "ALTER TABLE t ALTER COLUMN a SET STATISTICS -1")) {
            assertSame(sql, PgGrammar.parse(sql, Reader.PROTOBUF), PgGrammar.parse(sql, Reader.JSON));
        }
        JsonNode set = PgGrammar.parse("SET extra_float_digits = -3").statements().getFirst().tree();
        assertThat(set.toString()).contains("\"A_Const\":{\"ival\":{},");
    }

    @Test
    void nestingIsRefusedAtTheSameDepthBothWays() {
        int accepted = 0;
        int refused = 0;
        for (int depth = 300; depth <= 700; depth += 7) {
            String sql = "SELECT " + "1 + (".repeat(depth) + "1" + ")".repeat(depth);
            Parsed json = PgGrammar.parse(sql, Reader.JSON);
            assertSame("depth " + depth, PgGrammar.parse(sql, Reader.PROTOBUF), json);
            if (json.ok()) {
                accepted++;
            } else {
                refused++;
            }
        }
        for (int depth = 150; depth <= 400; depth += 3) {
            String sql = "SELECT " + "ARRAY[".repeat(depth) + "1" + "]".repeat(depth);
            assertSame("array depth " + depth, PgGrammar.parse(sql, Reader.PROTOBUF), PgGrammar.parse(sql, Reader.JSON));
        }
        assertThat(accepted).as("depths the limit lets through").isPositive();
        assertThat(refused).as("depths past the limit").isPositive();
    }

    @Test
    void aBufferThatDoesNotMatchTheSchemaIsAnErrorNotAPartialTree() {
        assertThatThrownBy(() -> ParseResultDecoder.decode(new byte[]{(byte) 0x80}, 1_000))
                .isInstanceOf(IllegalStateException.class);
        // field 9 does not exist in ParseResult
        assertThatThrownBy(() -> ParseResultDecoder.decode(new byte[]{(byte) (9 << 3), 1}, 1_000))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("unknown field");
        // stmts (field 2, length-delimited) claiming more bytes than there are
        assertThatThrownBy(() -> ParseResultDecoder.decode(new byte[]{(byte) (2 << 3 | 2), 5, 0}, 1_000))
                .isInstanceOf(IllegalStateException.class);
        // version (varint) sent as length-delimited
        assertThatThrownBy(() -> ParseResultDecoder.decode(new byte[]{(byte) (1 << 3 | 2), 0}, 1_000))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("wire type");
    }

    private static void assertSame(String what, Parsed actual, Parsed expected) {
        // toString too: ObjectNode's equals ignores the order of fields, and a reader that takes the first field
        // would not.
        assertThat(actual).as(what).isEqualTo(expected);
        assertThat(actual.toString()).as(what).isEqualTo(expected.toString());
    }

    /**
     * The regression-suite sample, every text in the lineage cases and the fuzz corpora, and every string literal
     * in the sources (most are SQL the tests and the gateway send; the rest are harmless syntax errors).
     */
    static List<String> corpus() throws IOException {
        List<String> texts = new ArrayList<>();
        String regress = Files.readString(Path.of("src/test/resources/sql/parse-corpus.sql"));
        texts.addAll(List.of(regress.split("\n-- ---\n")));
        texts.addAll(SUPPLEMENT);
        for (String line : Files.readAllLines(Path.of("src/test/resources/sql/lineage-cases.txt"))) {
            if (line.startsWith("sql: ")) {
                texts.add(line.substring(5).replace("\\n", "\n"));
            }
        }
        for (String dir : List.of("SqlAnalyzerFuzzTestInputs", "SqlLineageFuzzTestInputs")) {
            try (Stream<Path> files = Files.walk(Path.of("src/test/resources/io/phigate/sql", dir))) {
                for (Path p : files.filter(Files::isRegularFile).toList()) {
                    texts.add(new String(Files.readAllBytes(p), StandardCharsets.UTF_8));
                }
            }
        }
        Pattern literal = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");
        for (String root : List.of("src/test/java", "src/main/java")) {
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = literal.matcher(Files.readString(p));
                    while (m.find()) {
                        String s = m.group(1).replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"")
                                .replace("\\\\", "\\");
                        if (s.length() > 5 && s.indexOf(' ') > 0) {
                            texts.add(s);
                        }
                    }
                }
            }
        }
        return texts;
    }
}
