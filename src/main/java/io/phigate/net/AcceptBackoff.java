package io.phigate.net;

import java.time.Duration;

/**
 * How long the accept loop pauses after a failed accept: 10 ms, doubling to at most a second, back to nothing
 * after an accept succeeds. A failed accept is nearly always the process out of file descriptors (EMFILE) or
 * the kernel out of memory; retrying at once spins a core and floods the log while sessions that end are what
 * frees the descriptors. Used by one accept thread only.
 */
final class AcceptBackoff {
    static final Duration FIRST = Duration.ofMillis(10);
    static final Duration MAX = Duration.ofSeconds(1);

    private Duration next = FIRST;
    private long failures;

    /** The pause before the next accept, after one more failure. */
    Duration failed() {
        Duration pause = next;
        next = next.multipliedBy(2).compareTo(MAX) > 0 ? MAX : next.multipliedBy(2);
        failures++;
        return pause;
    }

    void succeeded() {
        next = FIRST;
        failures = 0;
    }

    /** Failures in a row; the log names the first and then every hundredth, not each. */
    long failures() {
        return failures;
    }
}
