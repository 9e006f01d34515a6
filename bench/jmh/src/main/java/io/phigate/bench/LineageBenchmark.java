package io.phigate.bench;

import io.phigate.sql.ColumnRef;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Statements per second through {@link SqlAnalyzer} over a catalog shaped like the demo database:
 * <ul>
 *   <li>{@code uncached}: an analyser with no statement cache, so every call parses (PostgreSQL's grammar through
 *       libpg_query, on a grammar thread) and resolves lineage on the tree: what a statement seen for the first
 *       time costs;</li>
 *   <li>{@code cached}: the default analyser, the same text again: what a prepared or repeated statement costs;</li>
 *   <li>{@code freshLiterals}: the default analyser, pgbench TPC-B's five statements with new literals each time
 *       (its simple protocol): what a client that inlines its values costs, cache admission included (decision
 *       0071).</li>
 * </ul>
 * Statements: {@code point} a one-table lookup, {@code join} three tables, {@code view} a CTE and a UNION over a
 * view, {@code utility} SET.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class LineageBenchmark {

    @Param({"point", "join", "view", "utility"})
    public String statement;

    private String sql;
    private SqlAnalyzer uncached;
    private SqlAnalyzer cached;

    @Setup
    public void setUp() {
        PgCatalog catalog = PgCatalog.builder()
                .table(16401, "public", "patients", "id", "mrn", "first_name", "last_name", "birth_date", "sex",
                        "ssn", "phone", "email", "street", "city", "state", "zip", "created_at")
                .table(16402, "public", "encounters", "id", "patient_id", "admitted_at", "department",
                        "diagnosis_code", "notes")
                .table(16403, "public", "medications", "id", "patient_id", "drug_name", "dose", "frequency",
                        "prescribed_at")
                .view(16410, "public", "patient_directory", "SELECT patients.id, (patients.first_name || ' '::text)"
                        + " || patients.last_name AS name, patients.ssn AS ident FROM patients", "id", "name", "ident")
                .phiTag(new ColumnRef("public", "patients", "ssn"), "ssn")
                .table(16420, "public", "pgbench_accounts", "aid", "bid", "abalance", "filler")
                .table(16421, "public", "pgbench_tellers", "tid", "bid", "tbalance", "filler")
                .table(16422, "public", "pgbench_branches", "bid", "bbalance", "filler")
                .table(16423, "public", "pgbench_history", "tid", "bid", "aid", "delta", "mtime", "filler")
                .builtins("lower", "count", "string_agg", "coalesce", "now")
                .build();
        sql = switch (statement) {
            case "point" -> "SELECT id, first_name, last_name, ssn FROM patients WHERE id = $1";
            case "join" -> "SELECT p.id, p.last_name, e.department, e.notes, m.drug_name FROM patients p"
                    + " JOIN encounters e ON e.patient_id = p.id LEFT JOIN medications m ON m.patient_id = p.id"
                    + " WHERE p.state = $1 ORDER BY e.admitted_at DESC LIMIT 50";
            case "view" -> "WITH recent AS (SELECT patient_id, count(*) AS n FROM encounters"
                    + " WHERE admitted_at > now() - interval '30 days' GROUP BY patient_id)"
                    + " SELECT d.name, lower(d.ident) AS ident, r.n FROM patient_directory d JOIN recent r ON r.patient_id = d.id"
                    + " UNION ALL SELECT first_name, ssn, 0 FROM patients WHERE id = $1";
            case "utility" -> "SET phigate.justification = 'ticket 4711: chart review'";
            default -> throw new IllegalArgumentException(statement);
        };
        uncached = new SqlAnalyzer(catalog, 0);
        cached = new SqlAnalyzer(catalog);
        cached.analyze(sql);
    }

    private long call;

    @Benchmark
    public Object freshLiterals() {
        long n = ++call;
        long aid = n * 7919 % 1_000_000 + 1;
        long delta = n * 104_729 % 10_001 - 5_000;
        return cached.analyze(switch ((int) (n % 5)) {
            case 0 -> "UPDATE pgbench_accounts SET abalance = abalance + " + delta + " WHERE aid = " + aid + ";";
            case 1 -> "SELECT abalance FROM pgbench_accounts WHERE aid = " + aid + ";";
            case 2 -> "UPDATE pgbench_tellers SET tbalance = tbalance + " + delta + " WHERE tid = " + n % 100 + ";";
            case 3 -> "UPDATE pgbench_branches SET bbalance = bbalance + " + delta + " WHERE bid = " + n % 10 + ";";
            default -> "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + n % 100 + ", "
                    + n % 10 + ", " + aid + ", " + delta + ", CURRENT_TIMESTAMP);";
        });
    }

    @Benchmark
    public Object uncached() {
        return uncached.analyze(sql);
    }

    @Benchmark
    public Object cached() {
        return cached.analyze(sql);
    }
}
