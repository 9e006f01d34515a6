package io.phigate.sql;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What the SQL fuzz targets hold every analysis to, and the catalog they analyse against: the demo schema's
 * shape with PHI columns, a pgbench table without, a table off the search path, views over PHI (one over another,
 * one calling a user function), and the production wrapper ({@link GuardedCatalog}) around it.
 *
 * <p>The invariants are the ones the callers rely on ({@code StatementRules}, {@code ScopeCheck},
 * {@code SessionMasking}): an unparsed analysis carries nothing but an error free of statement text; a parsed one
 * names every table its outputs come from among its reads (scope is checked on reads, so a source outside them
 * would be PHI read without a scope check); a direct output is one plain column; sources are real catalog columns.
 */
final class AnalysisInvariants {
    /** Tokenizing, lineage and a loaded host, on top of the parse limit. */
    private static final Duration SLACK = Duration.ofSeconds(1);

    static final Catalog CATALOG = new GuardedCatalog(PgCatalog.builder()
            .searchPath("public")
            .table(16_401, "public", "patients", "id", "mrn", "first_name", "last_name", "birth_date", "ssn", "phone",
                    "email", "zip")
            .table(16_402, "public", "encounters", "id", "patient_id", "department", "diagnosis_code", "notes")
            .table(16_403, "public", "pgbench_accounts", "aid", "bid", "abalance", "filler")
            .table(16_404, "research", "cohort", "patient_id", "note")
            .view(16_410, "public", "patient_directory",
                    " SELECT patients.id, (patients.first_name || ' '::text) || patients.last_name AS name,"
                            + " patients.ssn AS ident FROM patients;", "id", "name", "ident")
            .view(16_411, "public", "directory_ids", "SELECT patient_directory.ident FROM patient_directory", "ident")
            .view(16_412, "public", "risky", "SELECT id, public.risk_score(id) AS score FROM patients", "id", "score")
            .function("public", "risk_score")
            .builtins("lower", "upper", "concat_ws", "concat", "format", "substr", "substring", "row_to_json",
                    "to_jsonb", "json_agg", "string_agg", "array_agg", "unnest", "generate_series", "count", "sum",
                    "max", "min", "row_number", "lag", "now", "json_build_object", "length", "left", "right",
                    "replace", "md5", "query_to_xml", "pg_read_file", "lo_get", "current_setting", "translate")
            .build());

    /** The PHI-tagged columns (as a policy would tag them) of the tables above. */
    static final Set<ColumnRef> PHI = Set.of(
            col("patients", "mrn"), col("patients", "first_name"), col("patients", "last_name"),
            col("patients", "birth_date"), col("patients", "ssn"), col("patients", "phone"), col("patients", "email"),
            col("patients", "zip"), col("encounters", "diagnosis_code"), col("encounters", "notes"),
            new ColumnRef("research", "cohort", "note"));

    /** Every word an error may contain: the analyser's fixed messages, never the statement's own words. */
    private static final Set<String> ERROR_WORDS = Set.of("syntax", "not", "understood", "at", "line", "column",
            "parsing", "took", "longer", "than", "ms", "could", "analyse", "the", "statement", "characters", "no",
            "text", "call", "without", "a", "procedure", "copy", "query", "must", "be", "followed", "by", "to",
            "needs", "from", "or", "table", "declare", "for", "cursor", "name", "explain", "fetch", "move", "prepare",
            "as", "set", "parameter", "empty", "missing", "parentheses", "brackets", "nested", "deeper",
            "unbalanced", "unrecognised", "is", "too", "complex", "levels");

    private AnalysisInvariants() {
    }

    /**
     * The analyser promises {@link SqlAnalyzer#PARSE_TIMEOUT} of parsing per statement, and the targets parse each
     * text twice (first and by a fresh analyser; the cached answer costs nothing).
     */
    static Duration timeBudget(long statements) {
        return SqlAnalyzer.PARSE_TIMEOUT.multipliedBy(2 * statements).plus(SLACK);
    }

    static ColumnRef col(String table, String column) {
        return new ColumnRef("public", table, column);
    }

    /** Fails with a message naming the broken invariant (never the statement: fuzz logs are kept). */
    static void check(List<StatementAnalysis> analyses) {
        require(!analyses.isEmpty(), "no analysis at all");
        for (StatementAnalysis a : analyses) {
            require(a.kind() != null && a.text() != null, "missing kind or text");
            if (!a.parsed()) {
                require(a.error() != null && !a.error().isBlank(), "unparsed without an error");
                require(a.operations().isEmpty() && a.reads().isEmpty() && a.writes().isEmpty()
                        && a.outputs().isEmpty() && a.opaqueFunctions().isEmpty() && !a.copiesQuery(),
                        "unparsed analysis carries facts");
                if (a.syntaxError()) {
                    // The server's own message for the whole text, which may quote the token it stopped at.
                    PgGrammar.Parsed p = PgGrammar.parse(a.text());
                    require(!p.ok() && p.error().message().equals(a.error())
                            && p.error().position() == a.errorPosition(), "a syntax error that is not the server's");
                    continue;
                }
                for (String w : a.error().split("[^A-Za-z]+")) {
                    require(w.isEmpty() || ERROR_WORDS.contains(w.toLowerCase(Locale.ROOT))
                            || w.endsWith("Exception") || w.endsWith("Error"),
                            "error message carries a word that is not the analyser's own");
                }
                continue;
            }
            require(a.error() == null, "parsed with an error");
            for (OutputColumn o : a.outputs()) {
                require(o.name() != null, "output without a name");
                require(!o.direct() || (o.sources().size() == 1 && !o.opaque()),
                        "a direct output must be one plain column");
                for (ColumnRef c : o.sources()) {
                    Optional<Relation> r = CATALOG.relation(c.schema(), c.table());
                    require(r.isPresent() && r.get().kind() == Relation.Kind.TABLE
                            && r.get().columns().contains(c.column()), "a source that is no base-table column");
                    require(a.reads().contains(new TableRef(c.schema(), c.table())),
                            "an output comes from a table the statement is not recorded as reading");
                }
            }
        }
    }

    /** True when the analysis hit the parse time limit, which depends on the machine rather than the text. */
    static boolean timedOut(List<StatementAnalysis> analyses) {
        return analyses.stream().anyMatch(a -> a.error() != null && a.error().startsWith("parsing took"));
    }

    /**
     * Analysing again, with a fresh analyser that caches nothing (its view definitions included), gives the same
     * analysis as the long-lived cached one: results depend on the text and the catalog, not on history.
     */
    static void checkDeterministic(SqlAnalyzer cached, String sql, List<StatementAnalysis> first) {
        List<StatementAnalysis> again = cached.analyze(sql);
        List<StatementAnalysis> fresh = new SqlAnalyzer(CATALOG, 0).analyze(sql);
        if (timedOut(first) || timedOut(again) || timedOut(fresh)) {
            return;
        }
        require(again.equals(first), "the cached analysis differs from the first");
        require(fresh.equals(first), "a fresh analyser disagrees with the long-lived one");
    }

    static void require(boolean condition, String invariant) {
        if (!condition) {
            throw new AssertionError(invariant);
        }
    }
}
