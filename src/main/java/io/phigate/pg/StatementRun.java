package io.phigate.pg;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.ResponseRecorder;

/**
 * One requested statement from the moment its audit record is durable until the server finished it. A simple
 * Query may hold several SQL statements and completes at ReadyForQuery; an Execute completes at its own
 * CommandComplete, EmptyQueryResponse, PortalSuspended or ErrorResponse.
 *
 * <p>Written by the response pump only, after the client reader published it through {@link Exchange}.
 */
final class StatementRun {
    final long id;
    final long startNanos;
    final int maxRows;
    /** Null when response recording is off. */
    final ResponseRecorder recorder;
    Outcome outcome;
    String sqlState;
    String commandTag;
    long rows;
    /** What was masked in this statement's results, for its completion record; null when nothing. */
    String masking;
    boolean maskReported;
    /** The NOTICEs naming the columns masking turns to NULL went out (once per statement). */
    boolean nullsNoticed;

    StatementRun(long id, int maxRows, int responseCap) {
        this.id = id;
        this.maxRows = maxRows;
        this.recorder = responseCap > 0 ? new ResponseRecorder(responseCap) : null;
        this.startNanos = System.nanoTime();
    }

    void commandComplete(String tag, long tagRows) {
        commandTag = tag;
        if (tagRows > 0) {
            rows += tagRows;
        }
    }

    void failed(String state) {
        if (outcome == null) {
            outcome = Outcome.ERROR;
            sqlState = state;
        }
    }

    /** Sets the final outcome unless an earlier error already fixed it. */
    void finish(Outcome o) {
        if (outcome == null) {
            outcome = o;
        }
    }

    void masked(String summary) {
        if (summary == null || summary.isEmpty() || (masking != null && masking.contains(summary))) {
            return;
        }
        masking = masking == null ? summary : masking + "; " + summary;
    }

    long durationMicros() {
        return (System.nanoTime() - startNanos) / 1_000;
    }
}
