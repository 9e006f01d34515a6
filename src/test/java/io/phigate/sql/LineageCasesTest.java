package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The lineage cases in {@code src/test/resources/sql/lineage-cases.txt}, one per block, run against
 * {@link DemoCatalog}. The file's header explains the format; a field a case leaves out is not checked, except
 * that when any {@code out:} line is given the outputs must match them exactly, in order.
 */
class LineageCasesTest {
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(DemoCatalog.get());

    record Case(String name, String sql, List<String> fields) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        try (InputStream in = LineageCasesTest.class.getResourceAsStream("/sql/lineage-cases.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String name = null;
            StringBuilder sql = null;
            List<String> fields = null;
            boolean inSql = false;
            for (String line : text.split("\n", -1)) {
                if (line.startsWith("## ")) {
                    if (name != null) {
                        out.add(new Case(name, sql.toString().strip(), fields));
                    }
                    name = line.substring(3).strip();
                    sql = new StringBuilder();
                    fields = new ArrayList<>();
                    inSql = false;
                } else if (name == null || line.startsWith("#")) {
                    continue;
                } else if (line.startsWith("sql:")) {
                    sql.append(line.substring(4).strip());
                    inSql = true;
                } else if (inSql && line.startsWith("  ")) {
                    sql.append('\n').append(line.substring(2));
                } else if (!line.isBlank()) {
                    inSql = false;
                    fields.add(line);
                }
            }
            if (name != null) {
                out.add(new Case(name, sql.toString().strip(), fields));
            }
        }
        return out;
    }

    static Stream<Case> all() throws IOException {
        return cases().stream();
    }

    @Test
    void theSuiteHasAtLeastEightyCases() throws IOException {
        assertThat(cases()).hasSizeGreaterThanOrEqualTo(80);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("all")
    void caseHolds(Case c) {
        List<StatementAnalysis> all = ANALYZER.analyze(c.sql.replace("\\n", "\n"));
        SoftAssertions soft = new SoftAssertions();
        int index = 0;
        List<String> outs = new ArrayList<>();
        boolean outsGiven = false;
        for (String f : c.fields) {
            int colon = f.indexOf(':');
            String key = f.substring(0, colon).strip();
            String value = f.substring(colon + 1).strip();
            if (key.equals("statements")) {
                soft.assertThat(all).as("statement count").hasSize(Integer.parseInt(value));
                continue;
            }
            if (key.equals("statement")) {
                index = Integer.parseInt(value);
                continue;
            }
            StatementAnalysis a = all.get(index);
            switch (key) {
                case "kind" -> soft.assertThat(a.kind()).as("kind").isEqualTo(StatementKind.valueOf(value));
                case "ops" -> soft.assertThat(a.operations()).as("operations").isEqualTo(ops(value));
                case "reads" -> soft.assertThat(a.reads()).as("reads").isEqualTo(tables(value));
                case "writes" -> soft.assertThat(a.writes()).as("writes").isEqualTo(tables(value));
                case "fns" -> soft.assertThat(a.opaqueFunctions()).as("opaque functions").isEqualTo(list(value));
                case "copies" -> soft.assertThat(a.copiesQuery()).as("copiesQuery").isEqualTo(Boolean.parseBoolean(value));
                case "cursor" -> soft.assertThat(a.cursor()).as("cursor").isEqualTo(nullable(value));
                case "setting" -> soft.assertThat(a.setting()).as("setting").isEqualTo(nullable(value));
                case "value" -> soft.assertThat(a.settingValue()).as("settingValue").isEqualTo(nullable(value));
                case "parsed" -> soft.assertThat(a.parsed()).as("parsed (error: " + a.error() + ")")
                        .isEqualTo(Boolean.parseBoolean(value));
                case "text" -> soft.assertThat(a.text()).as("text").isEqualTo(value);
                case "out-count" -> soft.assertThat(a.outputs()).as("outputs").hasSize(Integer.parseInt(value));
                case "out" -> {
                    outsGiven = true;
                    outs.add(value);
                }
                case "out-none" -> {
                    outsGiven = true;
                }
                case "out-all-opaque" -> soft.assertThat(a.outputs()).as("every output opaque")
                        .allMatch(OutputColumn::opaque);
                case "out-all-direct" -> soft.assertThat(a.outputs()).as("every output direct")
                        .allMatch(OutputColumn::direct);
                case "out-has-source" -> soft.assertThat(a.outputs().stream().flatMap(o -> o.sources().stream()))
                        .as("some output derives from " + value).contains(column(value));
                default -> throw new IllegalArgumentException("unknown field " + key + " in case " + c.name);
            }
        }
        if (outsGiven) {
            List<OutputColumn> actual = all.get(index).outputs();
            List<OutputColumn> expected = outs.stream().map(LineageCasesTest::output).toList();
            soft.assertThat(actual).as("outputs").containsExactlyElementsOf(expected);
        }
        if (!c.fields.stream().anyMatch(f -> f.startsWith("parsed:"))) {
            for (StatementAnalysis a : all) {
                soft.assertThat(a.parsed()).as("parsed (error: " + a.error() + ")").isTrue();
            }
        }
        soft.assertAll();
    }

    private static String nullable(String v) {
        return v.equals("null") ? null : v;
    }

    private static Set<Operation> ops(String v) {
        Set<Operation> s = EnumSet.noneOf(Operation.class);
        for (String o : list(v)) {
            s.add(Operation.valueOf(o));
        }
        return s;
    }

    private static Set<String> list(String v) {
        Set<String> s = new LinkedHashSet<>();
        if (!v.isBlank() && !v.equals("-")) {
            for (String x : v.split(",")) {
                s.add(x.strip());
            }
        }
        return s;
    }

    private static Set<TableRef> tables(String v) {
        Set<TableRef> s = new LinkedHashSet<>();
        for (String x : list(v)) {
            int dot = x.indexOf('.');
            s.add(dot < 0 ? new TableRef("public", x) : new TableRef(x.substring(0, dot), x.substring(dot + 1)));
        }
        return s;
    }

    /** {@code table.col} is in public; {@code schema.table.col} as given. */
    static ColumnRef column(String v) {
        String[] p = v.split("\\.");
        return p.length == 2 ? new ColumnRef("public", p[0], p[1]) : new ColumnRef(p[0], p[1], p[2]);
    }

    /** {@code name = src, src [direct] [opaque]}, or {@code name = -} for no sources. */
    static OutputColumn output(String v) {
        int eq = v.indexOf('=');
        String name = v.substring(0, eq).strip();
        List<String> words = new ArrayList<>(Arrays.asList(v.substring(eq + 1).strip().split("\\s+")));
        boolean direct = words.remove("direct");
        boolean opaque = words.remove("opaque");
        Set<ColumnRef> sources = new LinkedHashSet<>();
        for (String s : list(String.join(" ", words))) {
            sources.add(column(s));
        }
        return new OutputColumn(name, sources, direct, opaque);
    }
}
