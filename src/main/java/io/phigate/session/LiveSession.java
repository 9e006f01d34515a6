package io.phigate.session;

import io.phigate.identity.Identity;
import java.time.Instant;

/** What the rest of the gateway (HTTP API, expiry, shutdown) may see and do to a running session. */
public interface LiveSession {
    String id();

    Identity identity();

    String upstream();

    String clientAddress();

    Instant startedAt();

    /** Number of statements requested so far. */
    long statements();

    /**
     * The text of the statement most recently requested (it may have finished), or null before the first. PHI:
     * shown only to authenticated console users, never logged.
     */
    default String lastStatement() {
        return null;
    }

    /** Whether a statement is in progress (sent upstream, or held for approval) rather than the session idle. */
    default boolean busy() {
        return false;
    }

    /** Protocol bytes received from the client so far. */
    default long bytesFromClient() {
        return 0;
    }

    /** Protocol bytes sent to the client so far. */
    default long bytesToClient() {
        return 0;
    }

    /**
     * Ends the session from outside its own threads: the client gets a FATAL error with {@code sqlState} and
     * {@code message}, any running statement is cancelled upstream, both connections close.
     */
    void terminate(String sqlState, String message);
}
