package io.phigate.credentials;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sweeps leftover ephemeral session users (see {@link EphemeralRoles#sweep}) on every ephemeral upstream: once
 * at start and then every {@link #INTERVAL}. An unreachable upstream is logged and retried at the next sweep; it
 * never delays the gateway's start. Each sweep runs on its own virtual thread, so the shared timer never blocks.
 */
public final class RoleJanitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RoleJanitor.class);
    public static final Duration INTERVAL = Duration.ofMinutes(1);

    private final EphemeralRoles roles;
    private final Collection<String> upstreams;
    private ScheduledFuture<?> task;

    /** @param upstreams the names of the upstreams in ephemeral credential mode */
    public RoleJanitor(EphemeralRoles roles, Collection<String> upstreams) {
        this.roles = roles;
        this.upstreams = List.copyOf(upstreams);
    }

    public RoleJanitor start(ScheduledExecutorService timers) {
        if (!upstreams.isEmpty()) {
            task = timers.scheduleWithFixedDelay(() -> Thread.ofVirtual().name("phigate-role-janitor").start(this::sweep),
                    0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** One sweep over every ephemeral upstream. */
    public void sweep() {
        for (String upstream : upstreams) {
            try {
                roles.sweep(upstream);
            } catch (IOException | RuntimeException e) {
                log.warn("janitor: could not sweep session users on upstream {}: {}", upstream, e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
