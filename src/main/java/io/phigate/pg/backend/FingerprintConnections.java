package io.phigate.pg.backend;

import io.phigate.config.UpstreamConfig;
import io.phigate.sql.CatalogCache;
import io.phigate.sql.CatalogFingerprint;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The shared catalog reading's connections (decision 0081): one housekeeping connection per upstream, kept open
 * between readings, so that a reading (at most one a second per upstream, decision 0075) is one query and not a
 * login. A connection that fails is closed and the reading tried once more on a new one (the server may have ended
 * an idle connection, or restarted); one unused for {@link #IDLE} is closed by the gateway's timer, and all are closed
 * when the gateway stops. A statement the server refused (its timeout) leaves the connection kept: it answered.
 *
 * <p>Called by {@link CatalogCache} under its per-upstream lock, and by the timer: each upstream's connection has a
 * lock of its own too, so that closing an idle one never races a reading.
 */
public final class FingerprintConnections implements CatalogCache.Fingerprints, AutoCloseable {
    /** How long a kept connection may go unused before it is closed: an idle gateway keeps nothing open upstream. */
    public static final Duration IDLE = Duration.ofMinutes(1);

    /** Opens a connection to the upstream of this name; the gateway's is {@link HousekeepingClient#open}. */
    @FunctionalInterface
    interface Opener {
        HousekeepingClient open(String upstream) throws IOException;
    }

    private static final class Kept {
        final ReentrantLock lock = new ReentrantLock();
        HousekeepingClient client;
        long usedAt;
    }

    private final Opener opener;
    private final LongSupplier nanoTime;
    private final long idleNanos;
    private final Map<String, Kept> kept = new ConcurrentHashMap<>();
    private volatile boolean closed;

    FingerprintConnections(Opener opener, Duration idle, LongSupplier nanoTime) {
        this.opener = opener;
        this.idleNanos = idle.toNanos();
        this.nanoTime = nanoTime;
    }

    /** The gateway's: connections by the upstreams' configuration, the idle ones closed on {@code timers}. */
    public static FingerprintConnections of(Function<String, UpstreamConfig> upstreams,
                                            ScheduledExecutorService timers) {
        FingerprintConnections c = new FingerprintConnections(name -> {
            UpstreamConfig config = upstreams.apply(name);
            if (config == null) {
                throw new IOException("upstream '" + name + "' is not configured");
            }
            try {
                return HousekeepingClient.open(config, "phigate catalog");
            } catch (UpstreamException e) {
                throw new IOException(e.getMessage(), e);
            }
        }, IDLE, System::nanoTime);
        long every = IDLE.toMillis() / 2;
        timers.scheduleWithFixedDelay(c::closeIdle, every, every, TimeUnit.MILLISECONDS);
        return c;
    }

    @Override
    public String read(String upstream) throws IOException {
        if (closed) {
            throw new IOException("the gateway is stopping");
        }
        Kept k = kept.computeIfAbsent(upstream, u -> new Kept());
        k.lock.lock();
        try {
            if (closed) {
                throw new IOException("the gateway is stopping");
            }
            if (k.client != null) {
                try {
                    return readOn(k);
                } catch (HousekeepingClient.Refused e) {
                    throw e;
                } catch (IOException e) {
                    // closed by the server, a network that dropped it, a read timeout: a new connection may answer
                }
            }
            k.client = opener.open(upstream);
            return readOn(k);
        } finally {
            k.lock.unlock();
        }
    }

    /** Closes the connections unused for {@link #IDLE}; a reading in progress is never interrupted. */
    void closeIdle() {
        long now = nanoTime.getAsLong();
        for (Kept k : kept.values()) {
            if (k.lock.tryLock()) {
                try {
                    if (k.client != null && now - k.usedAt >= idleNanos) {
                        drop(k);
                    }
                } finally {
                    k.lock.unlock();
                }
            }
        }
    }

    /** How many connections are kept open now. */
    int open() {
        int n = 0;
        for (Kept k : kept.values()) {
            n += k.client == null ? 0 : 1;
        }
        return n;
    }

    /** Closes every kept connection; readings after it fail (the gateway is stopping). */
    @Override
    public void close() {
        closed = true;
        for (Kept k : kept.values()) {
            k.lock.lock();
            try {
                drop(k);
            } finally {
                k.lock.unlock();
            }
        }
    }

    /** The fingerprint over {@code k}'s connection; one that fails otherwise than by a refusal is dropped. */
    private String readOn(Kept k) throws IOException {
        try {
            return CatalogFingerprint.read(k.client);
        } catch (HousekeepingClient.Refused e) {
            throw e;
        } catch (IOException e) {
            drop(k);
            throw e;
        } finally {
            k.usedAt = nanoTime.getAsLong();
        }
    }

    private static void drop(Kept k) {
        if (k.client != null) {
            k.client.close();
            k.client = null;
        }
    }
}
