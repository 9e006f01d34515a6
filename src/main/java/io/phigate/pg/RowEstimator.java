package io.phigate.pg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.pg.backend.HousekeepingClient;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.backend.UpstreamException;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.util.List;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The planner's row estimate for a risk rule's {@code rows_over}: {@code EXPLAIN (FORMAT JSON)} of the statement,
 * never ANALYZE, so the statement is planned and never run. It is asked over a side connection opened as the
 * session's own upstream user (its ephemeral user, or the configured one), so the planner sees only what the
 * session could, and closed at once. Called on the session's client reader thread, only when every other
 * condition of a rows_over rule already holds.
 *
 * <p>Never executes: the side connection starts with {@code default_transaction_read_only=on} and a statement
 * timeout, the EXPLAIN runs inside {@code BEGIN READ ONLY} and is rolled back, and a text that holds more than one
 * statement by phigate's lexer is not sent at all. A statement with parameters is planned generically
 * ({@code EXPLAIN (GENERIC_PLAN)}, PostgreSQL 16 and later): the rule is judged at Parse, before any values are
 * bound. Anything that fails (older server with parameters, a planner error, a timeout, a closed connection)
 * returns -1, which matches the rule: fail closed.
 */
final class RowEstimator implements ToLongFunction<StatementAnalysis> {
    private static final Logger log = LoggerFactory.getLogger(RowEstimator.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.regex.Pattern SQLSTATE = java.util.regex.Pattern.compile("SQLSTATE ([0-9A-Z]{5})");

    /** Opens a connection as the session's upstream user with these extra startup settings. */
    @FunctionalInterface
    interface Connector {
        UpstreamConnection open(java.util.Map<String, String> settings) throws UpstreamException;
    }

    /** No plan may take long: the server's statement_timeout, and the housekeeping client's read timeout. */
    static final java.time.Duration PLAN_TIMEOUT = java.time.Duration.ofSeconds(5);
    /** Startup settings of the side connection: read-only transactions, and the plan timeout. */
    static final java.util.Map<String, String> SETTINGS = java.util.Map.of("application_name", "phigate row estimate",
            "default_transaction_read_only", "on", "statement_timeout", Long.toString(PLAN_TIMEOUT.toMillis()),
            "standard_conforming_strings", "on");

    private final Connector connector;
    private final String sessionId;

    RowEstimator(Connector connector, String sessionId) {
        this.connector = connector;
        this.sessionId = sessionId;
    }

    @Override
    public long applyAsLong(StatementAnalysis a) {
        String text = a.text() == null ? null : a.text().strip();
        if (!a.parsed() || text == null || SqlAnalyzer.statementCount(text) != 1) {
            return -1;
        }
        boolean parameters = SqlAnalyzer.hasParameters(text);
        long started = System.nanoTime();
        try (HousekeepingClient c = HousekeepingClient.over(connector.open(SETTINGS), PLAN_TIMEOUT)) {
            if (parameters && Integer.parseInt(c.query("SHOW server_version_num").getFirst().getFirst()) < 160000) {
                return -1; // no generic plan before PostgreSQL 16: fail closed
            }
            c.query("BEGIN READ ONLY");
            List<List<String>> rows = c.query("EXPLAIN (" + (parameters ? "GENERIC_PLAN, " : "") + "FORMAT JSON) "
                    + text);
            c.query("ROLLBACK");
            long estimate = planRows(rows.getFirst().getFirst());
            log.debug("session {}: row estimate {} in {} ms", sessionId, estimate,
                    (System.nanoTime() - started) / 1_000_000);
            return estimate;
        } catch (IOException | UpstreamException | RuntimeException e) {
            // Never the message: the server's can echo a value of the statement ("invalid input syntax: ...").
            java.util.regex.Matcher state = SQLSTATE.matcher(String.valueOf(e.getMessage()));
            log.info("session {}: no row estimate ({}{}); rows_over rules match", sessionId,
                    e.getClass().getSimpleName(), state.find() ? ", SQLSTATE " + state.group(1) : "");
            return -1;
        }
    }

    /**
     * The rows the statement reads or changes: the top plan node's estimate, or, under a ModifyTable (UPDATE,
     * DELETE, INSERT, MERGE without RETURNING estimate 0 rows out), the estimate of the node feeding it.
     */
    static long planRows(String explainJson) throws IOException {
        JsonNode plan = JSON.readTree(explainJson).get(0).get("Plan");
        while ("ModifyTable".equals(plan.path("Node Type").asText()) && plan.path("Plans").size() > 0) {
            plan = plan.get("Plans").get(0);
        }
        JsonNode rows = plan.get("Plan Rows");
        if (rows == null || !rows.isNumber()) {
            throw new IOException("EXPLAIN gave no Plan Rows");
        }
        return Math.max(0, rows.asLong());
    }
}
