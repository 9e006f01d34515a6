package io.phigate.sql;

import static io.phigate.sql.AnalysisInvariants.col;
import static io.phigate.sql.AnalysisInvariants.require;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Statements built from SQL fragments and the catalog's names, each with its true lineage worked out alongside, so
 * the analyser's answer can be checked against it rather than only for not crashing. The input's bytes are the
 * choices (which FROM item, which expression, which wrapper statement); running out of bytes picks the simplest.
 *
 * <p>The property is the one masking depends on, fail-closed lineage: for every output column, every base column
 * whose value can reach it is among its sources, or the column is marked opaque; a value from something the
 * analyser cannot see into (an unknown relation, a user function) is always opaque; the statement records as
 * read every table a value or a filter comes from. The analyser may say more than the truth (a CASE condition's
 * column, a UNION branch's), never less; it may also refuse (unparsed), which the gateway treats as a refusal.
 */
class SqlLineageFuzzTest extends FuzzTarget {
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(AnalysisInvariants.CATALOG);

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    /** One to three statements, as the input's bytes choose them. */
    static List<Stmt> statements(byte[] input) {
        Generator g = new Generator(input);
        List<Stmt> stmts = new ArrayList<>();
        do {
            stmts.add(g.statement());
        } while (stmts.size() < 3 && g.pick(4) == 1);
        return stmts;
    }

    static String text(List<Stmt> stmts) {
        return String.join(";\n", stmts.stream().map(Stmt::sql).toList());
    }

    @Override
    protected void exercise(byte[] input) {
        List<Stmt> stmts = statements(input);
        String text = text(stmts);
        List<StatementAnalysis> analyses = ANALYZER.analyze(text);
        AnalysisInvariants.check(analyses);
        if (analyses.size() == 1 && analyses.getFirst().syntaxError()) {
            // The generator writes some forms PostgreSQL's grammar rejects (ORDER BY before UNION without
            // parentheses); the server runs none of such a text, and the analysis says so.
            return;
        }
        require(analyses.size() == stmts.size(), "statement count differs from the text's");
        for (int i = 0; i < stmts.size(); i++) {
            verify(stmts.get(i), analyses.get(i));
        }
        AnalysisInvariants.checkDeterministic(ANALYZER, text, analyses);
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of();
    }

    @Override
    protected Duration timeBudget() {
        return AnalysisInvariants.timeBudget(1);
    }

    @Override
    protected Duration timeBudget(byte[] input) {
        return AnalysisInvariants.timeBudget(statements(input).size());
    }

    private static void verify(Stmt s, StatementAnalysis a) {
        if (!a.parsed()) {
            return; // refused: fail-closed by construction
        }
        for (TableRef t : s.reads) {
            require(a.reads().contains(t), "a table read is missing from reads: " + t);
        }
        if (s.copies) {
            require(a.copiesQuery(), "a statement storing a query's rows is not marked copiesQuery");
        }
        if (s.outputs == null) {
            return; // no result rows to compare (EXPLAIN, CREATE TABLE AS)
        }
        if (s.unknownWidth) {
            require(a.outputs().stream().anyMatch(OutputColumn::opaque),
                    "a result of unknown width has no opaque column");
            return;
        }
        require(a.outputs().size() == s.outputs.size(), "output count " + a.outputs().size() + " where "
                + s.outputs.size() + " expected");
        for (int i = 0; i < s.outputs.size(); i++) {
            Truth t = s.outputs.get(i);
            OutputColumn o = a.outputs().get(i);
            if (t.unknown) {
                require(o.opaque(), "output " + i + " depends on something unseen but is not opaque");
            }
            if (!o.opaque()) {
                for (ColumnRef c : t.sources) {
                    require(o.sources().contains(c), "output " + i + " misses source " + c
                            + (AnalysisInvariants.PHI.contains(c) ? " (PHI)" : "") + "; has " + o.sources());
                }
            }
        }
    }

    /** Where one value may come from, by construction. {@code unknown}: from something the catalog cannot show. */
    record Truth(Set<ColumnRef> sources, boolean unknown) {
        static final Truth NONE = new Truth(Set.of(), false);
        static final Truth UNKNOWN = new Truth(Set.of(), true);

        static Truth of(ColumnRef c) {
            return new Truth(Set.of(c), false);
        }

        Truth and(Truth o) {
            Set<ColumnRef> s = new LinkedHashSet<>(sources);
            s.addAll(o.sources);
            return new Truth(s, unknown || o.unknown);
        }
    }

    /** A relation in scope: its alias and its columns' names and lineage; {@code columns} null when unknown. */
    record Rel(String alias, List<String> names, List<Truth> columns) {
        Truth wholeRow() {
            if (columns == null) {
                return Truth.UNKNOWN;
            }
            Truth t = Truth.NONE;
            for (Truth c : columns) {
                t = t.and(c);
            }
            return t;
        }
    }

    /** A query: its text, its columns (names c0, c1 ... unless a star), and every table it reads. */
    record Query(String sql, List<String> names, List<Truth> outputs, Set<TableRef> reads, boolean unknownWidth) {
    }

    /** A statement: text, expected outputs (null: not compared), tables read, whether it stores a query's rows. */
    record Stmt(String sql, List<Truth> outputs, Set<TableRef> reads, boolean copies, boolean unknownWidth) {
    }

    /** Builds SQL from the input's bytes; each byte is one choice. */
    static final class Generator {
        private static final String[][] TABLES = {
                {"patients", "id", "mrn", "first_name", "last_name", "birth_date", "ssn", "phone", "email", "zip"},
                {"encounters", "id", "patient_id", "department", "diagnosis_code", "notes"},
                {"pgbench_accounts", "aid", "bid", "abalance", "filler"},
        };
        private final byte[] in;
        private int pos;
        private int aliases;
        private int budget = 60;

        Generator(byte[] in) {
            this.in = in;
        }

        int pick(int n) {
            if (pos >= in.length) {
                return 0;
            }
            return (in[pos++] & 0xff) % n;
        }

        private boolean more() {
            return --budget > 0;
        }

        private String alias() {
            return "t" + aliases++;
        }

        Stmt statement() {
            int kind = pick(10);
            if (kind >= 1 && kind <= 5) {
                // A query inside a statement that returns its rows (DECLARE, COPY TO, PREPARE) or does not.
                Query q = query(2, -1, List.of(), true);
                String text = switch (kind) {
                    case 1 -> (pick(2) == 0 ? "EXPLAIN " : "EXPLAIN ANALYZE ") + q.sql;
                    case 2 -> "DECLARE c" + aliases++ + " CURSOR FOR " + q.sql;
                    case 3 -> "COPY (" + q.sql + ") TO STDOUT";
                    case 4 -> "PREPARE p" + aliases++ + " AS " + q.sql;
                    default -> "CREATE TEMP TABLE copy" + aliases++ + " AS " + q.sql;
                };
                boolean rows = kind >= 2 && kind <= 4;
                return new Stmt(text, rows ? q.outputs : null, q.reads, kind == 5, rows && q.unknownWidth);
            }
            switch (kind) {
                case 6 -> {
                    return dml();
                }
                case 7 -> {
                    String[] t = TABLES[pick(TABLES.length)];
                    List<Truth> outs = new ArrayList<>();
                    for (int i = 1; i < t.length; i++) {
                        outs.add(Truth.of(col(t[0], t[i])));
                    }
                    return new Stmt("COPY " + t[0] + " TO STDOUT", outs, Set.of(new TableRef("public", t[0])), false,
                            false);
                }
                default -> {
                    Query q = query(3, -1, List.of(), true);
                    return new Stmt(q.sql, q.outputs, q.reads, false, q.unknownWidth);
                }
            }
        }

        /** UPDATE or DELETE with RETURNING: the target's rows come back. */
        private Stmt dml() {
            String[] t = TABLES[pick(TABLES.length)];
            String a = alias();
            Rel target = base(t, a);
            Set<TableRef> reads = new LinkedHashSet<>(Set.of(new TableRef("public", t[0])));
            List<Rel> scope = List.of(target);
            List<Truth> outs = new ArrayList<>();
            StringBuilder ret = new StringBuilder();
            int n = 1 + pick(3);
            for (int i = 0; i < n; i++) {
                Truth[] tr = new Truth[1];
                String e = expr(scope, 1, reads, tr);
                ret.append(i == 0 ? "" : ", ").append(e).append(" AS c").append(i);
                outs.add(tr[0]);
            }
            String sql = pick(2) == 0
                    ? "UPDATE " + t[0] + " AS " + a + " SET " + t[2] + " = " + t[2] + " WHERE " + a + "." + t[1]
                    + " = 1 RETURNING " + ret
                    : "DELETE FROM " + t[0] + " AS " + a + " WHERE " + a + "." + t[1] + " < 0 RETURNING " + ret;
            return new Stmt(sql, outs, reads, false, false);
        }

        private static Rel base(String[] t, String alias) {
            List<String> names = new ArrayList<>();
            List<Truth> cols = new ArrayList<>();
            for (int i = 1; i < t.length; i++) {
                names.add(t[i]);
                cols.add(Truth.of(col(t[0], t[i])));
            }
            return new Rel(alias, names, cols);
        }

        /**
         * A query of {@code width} columns (any when negative), seeing {@code outer} for correlated references;
         * {@code top} allows a star (whose column names may repeat, so never inside another query).
         */
        Query query(int depth, int width, List<Rel> outer, boolean top) {
            Set<TableRef> reads = new LinkedHashSet<>();
            StringBuilder with = new StringBuilder();
            List<Rel> ctes = new ArrayList<>();
            if (depth > 0 && pick(5) == 1 && more()) {
                String name = "w" + aliases++;
                if (pick(2) == 0) {
                    Query q = query(depth - 1, -1, List.of(), false);
                    reads.addAll(q.reads);
                    with.append("WITH ").append(name).append(" AS (").append(q.sql).append(") ");
                    ctes.add(new Rel(name, q.names, q.outputs));
                } else {
                    // A recursive CTE carrying one column's value down its iterations.
                    String[] t = TABLES[pick(TABLES.length)];
                    String c = t[1 + pick(t.length - 1)];
                    reads.add(new TableRef("public", t[0]));
                    with.append("WITH RECURSIVE ").append(name).append("(n, v) AS (SELECT 1, ").append(c)
                            .append(" FROM ").append(t[0]).append(" UNION ALL SELECT n + 1, v FROM ").append(name)
                            .append(" WHERE n < 3) ");
                    ctes.add(new Rel(name, List.of("n", "v"), List.of(Truth.NONE, Truth.of(col(t[0], c)))));
                }
            }
            Query body = select(depth, width, outer, ctes, top, reads);
            Query q = new Query(with + body.sql, body.names, body.outputs, reads, body.unknownWidth);
            if (depth > 0 && width < 0 && !q.unknownWidth && pick(6) == 1 && more()) {
                // UNION ALL: each column may come from either branch.
                Query other = select(depth - 1, q.outputs.size(), outer, ctes, false, reads);
                List<Truth> merged = new ArrayList<>();
                for (int i = 0; i < q.outputs.size(); i++) {
                    merged.add(q.outputs.get(i).and(other.outputs.get(i)));
                }
                String op = List.of("UNION ALL", "UNION", "EXCEPT", "INTERSECT").get(pick(4));
                // EXCEPT and INTERSECT return the first branch's rows only, but the analyser may merge both.
                List<Truth> outs = op.startsWith("UNION") ? merged : q.outputs;
                return new Query(with + body.sql + " " + op + " " + other.sql, q.names, outs, reads, false);
            }
            return q;
        }

        private Query select(int depth, int width, List<Rel> outer, List<Rel> ctes, boolean top,
                             Set<TableRef> reads) {
            List<Rel> scope = new ArrayList<>();
            StringBuilder from = new StringBuilder();
            int items = 1 + (depth > 0 ? pick(2) : 0);
            for (int i = 0; i < items; i++) {
                List<Rel> left = new ArrayList<>(scope);
                left.addAll(outer);
                Rel r = fromItem(depth, ctes, reads, left, from, i);
                scope.add(r);
            }
            List<Rel> visible = new ArrayList<>(scope);
            visible.addAll(outer);
            StringBuilder sql = new StringBuilder("SELECT ");
            if (pick(8) == 1) {
                sql.append("DISTINCT ");
            }
            List<String> names = new ArrayList<>();
            List<Truth> outs = new ArrayList<>();
            boolean unknownWidth = false;
            int choice = pick(10);
            if (top && width < 0 && choice == 1) {
                sql.append('*');
                for (Rel r : scope) {
                    if (r.columns == null) {
                        unknownWidth = true;
                    } else {
                        names.addAll(r.names);
                        outs.addAll(r.columns);
                    }
                }
            } else if (top && width < 0 && choice == 2) {
                Rel r = scope.get(pick(scope.size()));
                sql.append(r.alias).append(".*");
                if (r.columns == null) {
                    unknownWidth = true;
                } else {
                    names.addAll(r.names);
                    outs.addAll(r.columns);
                }
            } else {
                int n = width >= 0 ? width : 1 + pick(3);
                for (int i = 0; i < n; i++) {
                    Truth[] t = new Truth[1];
                    String e = expr(visible, depth, reads, t);
                    sql.append(i == 0 ? "" : ", ").append(e).append(" AS c").append(i);
                    names.add("c" + i);
                    outs.add(t[0]);
                }
            }
            sql.append(" FROM ").append(from);
            switch (pick(5)) {
                case 1 -> {
                    Truth[] ignored = new Truth[1];
                    sql.append(" WHERE ").append(expr(visible, depth, reads, ignored)).append(" IS NOT NULL");
                }
                case 2 -> {
                    if (depth > 0 && more()) {
                        Query sub = query(depth - 1, 1, visible, false);
                        reads.addAll(sub.reads);
                        sql.append(" WHERE EXISTS (").append(sub.sql).append(')');
                    }
                }
                case 3 -> sql.append(" ORDER BY 1 LIMIT ").append(1 + pick(9));
                default -> {
                }
            }
            return new Query(sql.toString(), names, outs, reads, unknownWidth);
        }

        /** One FROM item; {@code left} is what a LATERAL subquery may refer to. */
        private Rel fromItem(int depth, List<Rel> ctes, Set<TableRef> reads, List<Rel> left, StringBuilder from,
                             int index) {
            String a = alias();
            String sep = index == 0 ? "" : pick(3) == 0 ? ", " : List.of(" JOIN ", " LEFT JOIN ", " CROSS JOIN ")
                    .get(pick(3));
            boolean on = sep.contains("JOIN") && !sep.contains("CROSS");
            int kind = pick(8);
            Rel r;
            String item;
            if (kind == 1 && !ctes.isEmpty()) {
                Rel c = ctes.get(pick(ctes.size()));
                item = c.alias + " " + a;
                r = new Rel(a, c.names, c.columns);
            } else if (kind == 2 && depth > 0 && more()) {
                Query q = query(depth - 1, -1, List.of(), false);
                reads.addAll(q.reads);
                item = "(" + q.sql + ") " + a;
                r = new Rel(a, q.names, q.outputs);
            } else if (kind == 3) {
                // A view: its columns' lineage is its definition's.
                switch (pick(3)) {
                    case 0 -> {
                        item = "patient_directory " + a;
                        r = new Rel(a, List.of("id", "name", "ident"), List.of(Truth.of(col("patients", "id")),
                                new Truth(Set.of(col("patients", "first_name"), col("patients", "last_name")),
                                        false), Truth.of(col("patients", "ssn"))));
                    }
                    case 1 -> {
                        item = "directory_ids " + a;
                        r = new Rel(a, List.of("ident"), List.of(Truth.of(col("patients", "ssn"))));
                    }
                    default -> {
                        item = "risky " + a;
                        r = new Rel(a, List.of("id", "score"), List.of(Truth.of(col("patients", "id")),
                                Truth.UNKNOWN));
                    }
                }
                reads.add(new TableRef("public", "patients"));
            } else if (kind == 4) {
                item = "research.cohort " + a;
                reads.add(new TableRef("research", "cohort"));
                r = new Rel(a, List.of("patient_id", "note"), List.of(
                        Truth.of(new ColumnRef("research", "cohort", "patient_id")),
                        Truth.of(new ColumnRef("research", "cohort", "note"))));
            } else if (kind == 5) {
                // Not in the catalog (created since it was read, or a typo): anything may come out of it.
                String name = List.of("mystery", "cohort", "Patients").get(pick(3));
                item = (name.equals("Patients") ? "\"Patients\"" : name) + " " + a;
                reads.add(new TableRef("?", name));
                r = new Rel(a, null, null);
            } else if (kind == 6) {
                item = "(VALUES (1, 'x'), (2, 'y')) " + a + "(c0, c1)";
                r = new Rel(a, List.of("c0", "c1"), List.of(Truth.NONE, Truth.NONE));
            } else if (kind == 7 && index > 0 && depth > 0 && more()) {
                // LATERAL sees the items to its left.
                Query q = query(depth - 1, -1, left, false);
                reads.addAll(q.reads);
                item = "LATERAL (" + q.sql + ") " + a;
                r = new Rel(a, q.names, q.outputs);
            } else {
                String[] t = TABLES[pick(TABLES.length)];
                item = t[0] + " " + (pick(2) == 0 ? "" : "AS ") + a;
                reads.add(new TableRef("public", t[0]));
                r = base(t, a);
            }
            from.append(sep).append(item);
            if (on) {
                from.append(" ON true");
            }
            return r;
        }

        /** Built-ins the value of {@code %s} passes through (in part, as for length, is still "from" it). */
        private static final List<String> THROUGH_ONE = List.of("lower(%s)", "upper(%s)", "md5(%s)", "length(%s)",
                "(%s || 'x')", "substr(%s, 1, 3)", "%s::text", "max(%s)", "min(%s)", "string_agg(%s, ',')",
                "json_build_object('k', %s)", "lag(%s) OVER (ORDER BY 1)");
        private static final List<String> THROUGH_TWO = List.of("coalesce(%s, %s)", "concat_ws(',', %s, %s)",
                "concat(%s, %s)", "ARRAY[%s, %s]", "CASE WHEN current_user IS NULL THEN %s ELSE %s END");
        /** Calls whose body the catalog cannot show: a user function, qualified or not, and one it has never seen. */
        private static final List<String> OPAQUE_ONE = List.of("public.risk_score(%s)", "risk_score(%s)",
                "mystery_fn(%s)");

        /** An expression over {@code scope}; its true lineage goes to {@code truth[0]}. */
        String expr(List<Rel> scope, int depth, Set<TableRef> reads, Truth[] truth) {
            int choice = more() ? pick(12) : 0;
            Truth[] a = new Truth[1];
            Truth[] b = new Truth[1];
            switch (choice) {
                case 1 -> {
                    truth[0] = Truth.NONE;
                    return List.of("'lit'", "42", "NULL", "now()", "current_user", "count(*)").get(pick(6));
                }
                case 2, 3 -> {
                    String template = THROUGH_ONE.get(pick(THROUGH_ONE.size()));
                    String e = expr(scope, depth, reads, a);
                    truth[0] = a[0];
                    return template.formatted(e);
                }
                case 4 -> {
                    String template = THROUGH_TWO.get(pick(THROUGH_TWO.size()));
                    String x = expr(scope, depth, reads, a);
                    String y = expr(scope, depth, reads, b);
                    truth[0] = a[0].and(b[0]);
                    return template.formatted(x, y);
                }
                case 5 -> {
                    // The condition's value does not reach the result (the analyser may still count it).
                    String x = expr(scope, depth, reads, a);
                    String y = expr(scope, depth, reads, b);
                    String cond = expr(scope, depth, reads, new Truth[1]);
                    truth[0] = a[0].and(b[0]);
                    return "CASE WHEN " + cond + " IS NULL THEN " + x + " ELSE " + y + " END";
                }
                case 6 -> {
                    Rel r = scope.get(pick(scope.size()));
                    truth[0] = r.wholeRow();
                    return List.of("row_to_json(%s)", "to_jsonb(%s)", "%s::text").get(pick(3)).formatted(r.alias);
                }
                case 7 -> {
                    // A count reveals how many, not what.
                    String e = expr(scope, depth, reads, a);
                    truth[0] = Truth.NONE;
                    return "count(" + e + ")";
                }
                case 8 -> {
                    String template = OPAQUE_ONE.get(pick(OPAQUE_ONE.size()));
                    String e = expr(scope, depth, reads, a);
                    truth[0] = Truth.UNKNOWN;
                    return template.formatted(e);
                }
                case 9 -> {
                    // Built-ins that run SQL of their own or read files: opaque by GuardedCatalog.
                    truth[0] = Truth.UNKNOWN;
                    return List.of("query_to_xml('select 1', true, true, '')", "pg_read_file('x')").get(pick(2));
                }
                case 10 -> {
                    if (depth > 0) {
                        Query sub = query(depth - 1, 1, scope, false);
                        reads.addAll(sub.reads);
                        truth[0] = sub.outputs.getFirst();
                        return "(" + sub.sql + ")";
                    }
                    return column(scope, truth);
                }
                default -> {
                    return column(scope, truth);
                }
            }
        }

        /** A qualified column reference (qualified, so the generated text is never ambiguous). */
        private String column(List<Rel> scope, Truth[] truth) {
            Rel r = scope.get(pick(scope.size()));
            if (r.columns == null) {
                truth[0] = Truth.UNKNOWN;
                return r.alias + "." + List.of("ssn", "x", "note").get(pick(3));
            }
            int i = pick(r.columns.size());
            truth[0] = r.columns.get(i);
            return r.alias + "." + r.names.get(i);
        }
    }
}
