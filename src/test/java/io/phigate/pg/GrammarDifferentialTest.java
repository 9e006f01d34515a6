package io.phigate.pg;

import io.phigate.mask.CopyFormat;

import io.phigate.session.StatementRules;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.pg.masking.CopyMasker;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.sql.Catalog;
import io.phigate.sql.OutputColumn;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The differential proof of issue 18: statements generated and mutated in the forms where a second reading once
 * differed from the server's (comment forms and terminators, whitespace, quoting and Unicode-escaped names,
 * non-ASCII letters, empty statements, multi-statement strings, EXPLAIN and COPY option spellings) are sent, as
 * simple Queries pipelined in batches, to the live server, and what it did is compared with the gateway's reading
 * of the same text: statement boundaries (one result per analysis), statement kinds (command tags), identifiers
 * (the RowDescription's column names), syntax errors (message and position), whether EXPLAIN ran its statement,
 * and the COPY format and header the masker would assume. Bounded to about a minute; the counts are printed.
 */
class GrammarDifferentialTest {
    private static final int TARGET_CASES = 100_000;
    private static final long BUDGET_NANOS = 60_000_000_000L;
    private static final int BATCH = 250;

    private static final String[] GAPS = {" ", "\t", "\n", "\r", "\f", "\r\n", "  ", "--c\n", "--c;\r", "-- x\r\n",
        "/*c*/", "/* ; */", "/*/*n;*/*/", "/*\r*/", "/**/", "--\n", " /* a */ "};
    private static final String[] NAMES = {"a", "Ab", "ÄB", "é", "İx", "ǅ", "ß", "x$y", "_1", "ÀÉ", "select", "Ω",
        "a\"b", "Ab Cd"};
    private static final String[] CONSTANTS = {"1", "'a;b'", "$$x;y$$", "$t$;$t$", "E'\\''", "U&'\\0061'", "'--'",
        "'/*'", "e'\\n;'", "'it''s'", "2.5", "B'101'", "X'1F'", "N'n'",
        // Negative and zero integers, which the tree carries only once read back from the text (decision 0085).
        "-1", "- /*c*/ 2", "-(3)", "-0", "0", "- -4"};
    private static final String[] ANALYZE = {"analyze", "ANALYZE", "analyse", "\"analyze\"", "U&\"an\\0061lyze\"",
        "Analyze", "\"ANALYZE\""};
    private static final String[] BOOLEANS = {"", " true", " 'on'", " 1", " 0", " false", " 'off'", " 'TRUE'", " on",
        " off", " 'yes'"};
    private static final String[] FORMATS = {"csv", "'csv'", "\"csv\"", "U&\"c\\0073v\"", "CSV", "\"CSV\"", "text",
        "'text'", "binary", "'binary'", "U&\"b\\0069nary\"", "Text"};
    private static final String[] HEADERS = {"HEADER", "header true", "header 'on'", "header 0", "\"header\"",
        "HEADER false", "header 'match'"};

    /**
     * How the server's scanner and grammar word their errors; other errors with SQLSTATE 42601 ("analyze requires
     * a Boolean value", "unrecognized EXPLAIN option") come from running a statement the grammar accepted.
     */
    private static final List<String> GRAMMAR_MESSAGES = List.of("syntax error", "unterminated", "zero-length",
            "trailing junk", "invalid Unicode", "invalid hexadecimal", "unsafe use of", "UESCAPE", "memory exhausted",
            "Unicode escape", "invalid binary", "invalid unicode");

    /** One generated text and what the server did with it. */
    record Outcome(List<Result> results, Map<Byte, String> error, boolean empty) {
    }

    /** One statement's response: its tag, column names, and its data (EXPLAIN's plan, COPY's rows). */
    record Result(String tag, List<String> columns, String data, int copyFormat) {
    }

    private final Random random = new Random(18);

    @Test
    void theGatewayReadsGeneratedStatementsExactlyAsTheServerDoes() throws Exception {
        TestDatabase db = TestDatabase.get();
        UpstreamConfig upstream = new UpstreamConfig("clinical", new HostPort("127.0.0.1", db.port()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, db.user(), new SecretRef(null, db.passwordFile())),
                UpstreamTlsConfig.DISABLED);
        SqlAnalyzer analyzer = new SqlAnalyzer(Catalog.EMPTY, 0);
        List<String> disagreements = new ArrayList<>();
        int cases = 0;
        int statements = 0;
        int syntaxErrors = 0;
        int explains = 0;
        int copies = 0;
        long start = System.nanoTime();
        try (UpstreamConnection server = UpstreamConnection.open(upstream, Map.of(), 1 << 20)) {
            while (cases < TARGET_CASES && System.nanoTime() - start < BUDGET_NANOS) {
                List<String> texts = new ArrayList<>(BATCH);
                for (int i = 0; i < BATCH; i++) {
                    texts.add(text());
                }
                List<Outcome> outcomes = run(server, texts);
                for (int i = 0; i < texts.size(); i++) {
                    String text = texts.get(i);
                    List<StatementAnalysis> analyses = analyzer.analyze(text);
                    String why = compare(analyses, outcomes.get(i));
                    if (why != null && disagreements.size() < 20) {
                        disagreements.add(why + " in: " + text.replace("\r", "\\r").replace("\n", "\\n")
                                .replace("\f", "\\f").replace("\t", "\\t"));
                    }
                    cases++;
                    statements += outcomes.get(i).results.size();
                    syntaxErrors += analyses.getFirst().syntaxError() ? 1 : 0;
                    explains += analyses.stream().filter(a -> a.kind() == StatementKind.EXPLAIN).count();
                    copies += analyses.stream().filter(a -> a.kind() == StatementKind.COPY_TO).count();
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("grammar differential: %d cases, %d statements run (%d EXPLAIN, %d COPY), %d syntax"
                + " errors, %d disagreements, %.1f s%n", cases, statements, explains, copies, syntaxErrors,
                disagreements.size(), seconds);
        assertThat(disagreements).isEmpty();
        assertThat(cases).as("cases checked in the time budget").isGreaterThan(20_000);
    }

    // ---- generation --------------------------------------------------------------------------------------------

    private String pick(String[] from) {
        return from[random.nextInt(from.length)];
    }

    private String gap() {
        return random.nextInt(3) == 0 ? pick(GAPS) + pick(GAPS) : pick(GAPS);
    }

    /** A name in one of the spellings the grammar accepts: plain, ASCII upper case, quoted, Unicode-escaped. */
    private String name() {
        String n = pick(NAMES);
        boolean plainOk = n.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '$')
                && !Character.isDigit(n.charAt(0)) && n.charAt(0) != '$';
        return switch (random.nextInt(4)) {
            case 0 -> plainOk ? n : quoted(n);
            case 1 -> plainOk ? n.toUpperCase(java.util.Locale.ROOT) : quoted(n);
            case 2 -> quoted(n);
            default -> unicodeEscaped(n);
        };
    }

    private static String quoted(String n) {
        return "\"" + n.replace("\"", "\"\"") + "\"";
    }

    private String unicodeEscaped(String n) {
        StringBuilder b = new StringBuilder("U&\"");
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c == '"') {
                b.append("\"\"");
            } else if (c == '\\') {
                b.append("\\\\");
            } else if (random.nextBoolean()) {
                b.append(String.format("\\%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private String statement() {
        return switch (random.nextInt(10)) {
            case 0, 1, 2, 3 -> select();
            case 4 -> "SET" + gap() + "application_name" + gap() + (random.nextBoolean() ? "TO" : "=") + gap()
                    + (random.nextBoolean() ? "'x'" : name());
            case 5 -> (random.nextBoolean() ? "SHOW" : "RESET") + gap() + (random.nextBoolean() ? "application_name"
                    : "\"application_name\"");
            case 6, 7 -> explain();
            default -> copy();
        };
    }

    private String select() {
        if (random.nextInt(4) == 0) {
            // Names given in an alias's column list, expanded by * and by a qualified star.
            String alias = name();
            String star = random.nextBoolean() ? "*" : alias + ".*";
            return "SELECT" + gap() + star + gap() + "FROM (VALUES (1, 2)) AS" + gap() + alias + "(" + name() + ","
                    + gap() + name() + ")";
        }
        StringBuilder s = new StringBuilder(random.nextBoolean() ? "SELECT" : "select");
        int items = 1 + random.nextInt(3);
        for (int i = 0; i < items; i++) {
            s.append(i == 0 ? gap() : "," + gap()).append(pick(CONSTANTS));
            if (random.nextInt(4) != 0) {
                s.append(gap()).append("AS").append(gap()).append(name());
            }
        }
        if (random.nextBoolean()) {
            s.append(gap()).append("FROM").append(gap()).append("(VALUES (1)) AS").append(gap()).append(name());
        }
        return s.toString();
    }

    private String explain() {
        String target = random.nextBoolean() ? "SELECT 1" : "VALUES (1)";
        if (random.nextInt(4) == 0) {
            String[] old = {"ANALYZE", "ANALYSE", "VERBOSE", "ANALYZE VERBOSE", ""};
            return "EXPLAIN " + pick(old) + gap() + target;
        }
        List<String> options = new ArrayList<>();
        options.add(pick(ANALYZE) + pick(BOOLEANS));
        if (random.nextBoolean()) {
            options.add(random.nextBoolean() ? "costs off" : "verbose");
        }
        java.util.Collections.shuffle(options, random);
        return "EXPLAIN" + gap() + "(" + String.join("," + gap(), options) + ")" + gap() + target;
    }

    private String copy() {
        String head = "COPY (SELECT 'a,b' AS x)" + gap() + "TO" + gap() + "STDOUT";
        return switch (random.nextInt(3)) {
            case 0 -> head + gap() + pick(new String[]{"CSV", "CSV HEADER", "BINARY", "WITH CSV", "csv header",
                "WITH BINARY", "", "CSV DELIMITER ';'"});
            default -> {
                List<String> options = new ArrayList<>();
                options.add("FORMAT " + pick(FORMATS));
                if (random.nextBoolean()) {
                    options.add(pick(HEADERS));
                }
                java.util.Collections.shuffle(options, random);
                yield head + gap() + "(" + String.join("," + gap(), options) + ")";
            }
        };
    }

    /** One to four statements with separators, empty statements and comments between and around them. */
    private String text() {
        if (random.nextInt(40) == 0) {
            return pick(new String[]{"", ";", " ; ; ", "-- only\n", "/* c */;", gap()});
        }
        StringBuilder t = new StringBuilder(random.nextInt(5) == 0 ? ";" + gap() : "");
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                t.append(";").append(gap());
                while (random.nextInt(4) == 0) {
                    t.append(";").append(gap());
                }
            }
            t.append(statement());
        }
        if (random.nextBoolean()) {
            t.append(random.nextBoolean() ? ";" : gap());
        }
        return t.toString();
    }

    // ---- the server's side -------------------------------------------------------------------------------------

    private static List<Outcome> run(UpstreamConnection server, List<String> texts) throws Exception {
        OutputStream out = server.out();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String t : texts) {
            all.write(MessageCodec.encode(new FrontendMessage.Query(t)));
        }
        // Written by another thread: the server answers while the batch is still being sent.
        Future<?> sent = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor().submit(() -> {
            out.write(all.toByteArray());
            out.flush();
            return null;
        });
        FrameReader in = server.reader();
        List<Outcome> outcomes = new ArrayList<>(texts.size());
        List<Result> results = new ArrayList<>();
        Map<Byte, String> error = null;
        boolean empty = false;
        List<String> columns = List.of();
        StringBuilder data = new StringBuilder();
        int copyFormat = -1;
        while (outcomes.size() < texts.size()) {
            if (in.next() < 0) {
                throw new IllegalStateException("server closed the connection");
            }
            BackendMessage m = MessageCodec.decodeBackend(in.type(), in.body());
            switch (m) {
                case BackendMessage.RowDescription rd -> columns = rd.fields().stream()
                        .map(BackendMessage.RowDescription.Field::name).toList();
                case BackendMessage.DataRow dr -> {
                    for (byte[] v : dr.values()) {
                        data.append(v == null ? "" : new String(v, StandardCharsets.UTF_8)).append('\n');
                    }
                }
                case BackendMessage.CopyOutResponse co -> copyFormat = co.format();
                case BackendMessage.CopyData cd -> data.append(new String(cd.data(), StandardCharsets.ISO_8859_1));
                case BackendMessage.CommandComplete cc -> {
                    results.add(new Result(cc.tag(), columns, data.toString(), copyFormat));
                    columns = List.of();
                    data.setLength(0);
                    copyFormat = -1;
                }
                case BackendMessage.EmptyQueryResponse e -> empty = true;
                case BackendMessage.ErrorResponse e -> error = e.fields();
                case BackendMessage.ReadyForQuery r -> {
                    outcomes.add(new Outcome(List.copyOf(results), error, empty));
                    results.clear();
                    error = null;
                    empty = false;
                    columns = List.of();
                    data.setLength(0);
                }
                default -> {
                }
            }
        }
        sent.get();
        return outcomes;
    }

    // ---- comparison --------------------------------------------------------------------------------------------

    /** Why the gateway's reading differs from what the server did, or null when it does not. */
    static String compare(List<StatementAnalysis> analyses, Outcome o) {
        StatementAnalysis first = analyses.getFirst();
        boolean serverSyntaxError = o.error != null && "42601".equals(o.error.get((byte) 'C')) && o.results.isEmpty()
                && GRAMMAR_MESSAGES.stream().anyMatch(o.error.getOrDefault((byte) 'M', "")::startsWith);
        if (first.syntaxError() || serverSyntaxError) {
            if (!(first.syntaxError() && serverSyntaxError)) {
                return "one side rejects the text (" + (first.syntaxError() ? "gateway: " + first.error()
                        : "server: " + o.error.get((byte) 'M')) + ")";
            }
            if (!first.error().equals(o.error.get((byte) 'M'))
                    || !String.valueOf(first.errorPosition()).equals(o.error.get((byte) 'P'))) {
                return "different syntax errors";
            }
            return null;
        }
        if (o.empty) {
            return analyses.size() == 1 && first.kind() == StatementKind.EMPTY && o.results.isEmpty() ? null
                    : "an empty query read as statements";
        }
        if (o.error == null ? analyses.size() != o.results.size() : analyses.size() <= o.results.size()) {
            return "statement count " + analyses.size() + " where the server ran " + o.results.size()
                    + (o.error == null ? "" : " before an error");
        }
        for (int i = 0; i < o.results.size(); i++) {
            String why = compare(analyses.get(i), o.results.get(i));
            if (why != null) {
                return "statement " + (i + 1) + ": " + why;
            }
        }
        return null;
    }

    private static String compare(StatementAnalysis a, Result r) {
        String verb = r.tag.split(" ")[0];
        StatementKind expected = switch (verb) {
            case "SELECT" -> StatementKind.SELECT;
            case "SET" -> StatementKind.SET;
            case "SHOW" -> StatementKind.SHOW;
            case "RESET" -> StatementKind.RESET;
            case "EXPLAIN" -> StatementKind.EXPLAIN;
            case "COPY" -> StatementKind.COPY_TO;
            default -> null;
        };
        if (a.kind() != expected) {
            return "kind " + a.kind() + " for tag " + r.tag;
        }
        if (a.kind() == StatementKind.SELECT && !a.outputs().stream().map(OutputColumn::name).toList()
                .equals(r.columns)) {
            return "columns " + a.outputs().stream().map(OutputColumn::name).toList() + " where the server named "
                    + r.columns;
        }
        if (a.kind() == StatementKind.SET || a.kind() == StatementKind.SHOW || a.kind() == StatementKind.RESET) {
            if (!"application_name".equals(a.setting())) {
                return "setting " + a.setting();
            }
        }
        if (a.kind() == StatementKind.EXPLAIN) {
            // EXPLAIN ANALYZE takes on the operations of the statement it runs; plain EXPLAIN is a utility.
            boolean gateway = a.operations().contains(io.phigate.sql.Operation.SELECT);
            boolean ran = r.data.contains("actual");
            if (gateway != ran) {
                return "EXPLAIN analyze read as " + gateway + " where the server " + (ran ? "ran" : "did not run")
                        + " the statement";
            }
        }
        if (a.kind() == StatementKind.COPY_TO) {
            CopyFormat format = StatementRules.copyFormat(a.facts().options());
            boolean header = StatementRules.copyHeader(a.text());
            if (format != null) {
                String[] lines = r.data.split("\n", -1);
                boolean binary = r.copyFormat == 1;
                boolean serverHeader = lines.length > 2 && lines[0].equals("x");
                String row = serverHeader ? lines[1] : lines[0];
                CopyFormat server = binary ? null : row.equals("\"a,b\"") ? CopyFormat.CSV
                        : row.equals("a,b") ? CopyFormat.TEXT : null;
                if (server != format || serverHeader != header) {
                    return "COPY read as " + format + (header ? " with header" : "") + " where the server wrote "
                            + (binary ? "binary" : server) + (serverHeader ? " with header" : "");
                }
            }
        }
        return null;
    }
}
