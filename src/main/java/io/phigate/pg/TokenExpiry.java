package io.phigate.pg;

import io.phigate.identity.Identity;
import io.phigate.pg.message.ErrorCodes;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Ends a session when the token it started with expires: the verifier accepts a token until {@code exp} plus the
 * clock skew, so the session lives that long, plus the configured grace, and is then terminated with 28000.
 */
final class TokenExpiry {
    private final ScheduledExecutorService timers;
    private final Duration clockSkew;
    private final Duration grace;

    TokenExpiry(ScheduledExecutorService timers, Duration clockSkew, Duration grace) {
        this.timers = timers;
        this.clockSkew = clockSkew;
        this.grace = grace;
    }

    /**
     * When a session on {@code identity} ends at the latest (an hour from now for a token without {@code exp}): how
     * long an ephemeral session user needs to be valid.
     */
    Instant end(Identity identity) {
        Instant exp = identity.expiresAt() == null ? Instant.now().plus(Duration.ofHours(1)) : identity.expiresAt();
        return exp.plus(clockSkew).plus(grace);
    }

    /** Schedules the end of {@code session}; null when the token carries no expiry. */
    ScheduledFuture<?> schedule(PgSession session, Identity identity) {
        if (identity.expiresAt() == null) {
            return null;
        }
        Instant end = end(identity);
        long delay = Math.max(0, Duration.between(Instant.now(), end).toMillis());
        // Terminating may wait on the network; it runs on its own virtual thread so the shared timer never blocks.
        return timers.schedule(() -> Thread.ofVirtual().name("expire-" + session.id()).start(() ->
                session.terminate(ErrorCodes.INVALID_AUTHORIZATION, "the agent token expired at "
                        + identity.expiresAt() + "; reconnect with a fresh token")), delay, TimeUnit.MILLISECONDS);
    }
}
