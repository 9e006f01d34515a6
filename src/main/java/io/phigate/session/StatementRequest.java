package io.phigate.session;

import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.sql.StatementAnalysis;
import java.util.List;

/**
 * One statement a client asked to run (or to prepare), as the pipeline judges it: the text the server would run,
 * its bound parameters, the protocol that carried it (for the record), the prepared statement and portal it ran
 * under, and the analysis (null when the session does not analyse statements). For an EXECUTE or FETCH the
 * analyses are those of what the name means now, so the statement is judged as what it runs.
 *
 * <p>{@code statementId} is the session's number for the statement, 0 for a request that is not a run of its own
 * (a Parse): the pipeline numbers it if it refuses it, since a refusal is a record. {@code startNanos} dates it.
 *
 * <p>{@code note} is what the gateway itself observed about the run (what the server showed when asked within the
 * batch, decision 0070), appended to the text in the record only: an approval is bound to the statement the client
 * sent, and the gateway's own observations must not make the same statement another one to it. Null when none.
 */
public record StatementRequest(long statementId, long startNanos, Protocol protocol, String text,
                               List<String> parameters, String prepared, String portal,
                               List<StatementAnalysis> analyses, String note) {

    /** A request with nothing the gateway observed to add to its record. */
    public StatementRequest(long statementId, long startNanos, Protocol protocol, String text, List<String> parameters,
                            String prepared, String portal, List<StatementAnalysis> analyses) {
        this(statementId, startNanos, protocol, text, parameters, prepared, portal, analyses, null);
    }

    /** The text as recorded: the statement's, then the gateway's note on the run. */
    String recorded() {
        return note == null || text == null ? text : text + note;
    }

    /** A statement that runs now, with neither prepared statement nor portal (a simple Query, a function call). */
    public static StatementRequest run(long statementId, Protocol protocol, String text,
                                       List<StatementAnalysis> analyses) {
        return new StatementRequest(statementId, System.nanoTime(), protocol, text, List.of(), null, null, analyses);
    }

    /** A statement prepared to run later; numbered only if it is refused. */
    public static StatementRequest prepared(Protocol protocol, String text, List<StatementAnalysis> analyses) {
        return new StatementRequest(0, System.nanoTime(), protocol, text, List.of(), null, null, analyses);
    }

    StatementRequest numbered(long id) {
        return new StatementRequest(id, startNanos, protocol, text, parameters, prepared, portal, analyses, note);
    }

    long durationMicros() {
        return (System.nanoTime() - startNanos) / 1_000;
    }

    /** The one analysis of a single-statement request, or null. */
    StatementAnalysis single() {
        return analyses != null && analyses.size() == 1 ? analyses.getFirst() : null;
    }

    /** Never the parameters' values: they may be PHI. */
    @Override
    public String toString() {
        return "StatementRequest[" + statementId + ", " + protocol + ", parameters=" + parameters.size() + "]";
    }
}
