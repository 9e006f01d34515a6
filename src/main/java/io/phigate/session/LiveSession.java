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
     * Ends the session from outside its own threads: the client gets a FATAL error with {@code sqlState} and
     * {@code message}, any running statement is cancelled upstream, both connections close.
     */
    void terminate(String sqlState, String message);
}
