package io.phigate.http;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code /readyz} answers: whether this replica should be given new connections. Ready when every named
 * check passes (the audit store takes writes, the upstreams answer, the keys are readable) and the gateway is
 * not draining; a drain turns it not ready at once, without running the checks.
 *
 * <p>Probes are unauthenticated, so a verdict is kept for {@code reuseFor}: however often orchestrators, load
 * balancers or strangers ask, the checks run at most once per period, and concurrent probes share one run. A
 * verdict holds only check names and reasons about the gateway's own parts (a store, an address, a key file),
 * never anything from a session or a record.
 *
 * <p>Runs on the HTTP listener's request threads; {@link #drain()} is called from the shutdown thread.
 */
public final class Readiness {
    private static final Logger log = LoggerFactory.getLogger(Readiness.class);
    /** Each check bounds its own waits (about a second); this only keeps a stuck one from holding every probe. */
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(5);

    /** One part's condition: null when fine, else why not (safe to show to anyone who can reach the port). */
    @FunctionalInterface
    public interface Check {
        String problem();
    }

    /** The answer: {@code ready}, and per check "ok" or the reason. */
    record Verdict(boolean ready, String status, Map<String, String> checks) {
    }

    private final Map<String, Check> checks;
    private final Duration reuseFor;
    private final LongSupplier nanoTime;
    private volatile boolean draining;
    private Verdict last;
    private long lastAt;

    /**
     * {@code checks} run in parallel and are reported in their iteration order; a verdict is reused for
     * {@code reuseFor}.
     */
    public Readiness(Map<String, Check> checks, Duration reuseFor) {
        this(checks, reuseFor, System::nanoTime);
    }

    Readiness(Map<String, Check> checks, Duration reuseFor, LongSupplier nanoTime) {
        this.checks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(checks));
        this.reuseFor = reuseFor;
        this.nanoTime = nanoTime;
    }

    /** From now on not ready, whatever the checks say: new work must go to another replica. */
    public void drain() {
        draining = true;
    }

    Verdict verdict() {
        if (draining) {
            return new Verdict(false, "draining", Map.of());
        }
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (last == null || now - lastAt >= reuseFor.toNanos()) {
                last = run();
                lastAt = nanoTime.getAsLong();
            }
            return draining ? new Verdict(false, "draining", Map.of()) : last;
        }
    }

    private Verdict run() {
        Map<String, CompletableFuture<String>> running = new LinkedHashMap<>();
        for (Map.Entry<String, Check> named : checks.entrySet()) {
            String name = named.getKey();
            Check check = named.getValue();
            CompletableFuture<String> f = new CompletableFuture<>();
            Thread.ofVirtual().name("phigate-readiness-" + name).start(() -> {
                try {
                    f.complete(check.problem());
                } catch (RuntimeException e) {
                    f.complete("check failed: " + e.getClass().getSimpleName());
                }
            });
            running.put(name, f);
        }
        Map<String, String> results = new LinkedHashMap<>();
        boolean ready = true;
        for (Map.Entry<String, CompletableFuture<String>> e : running.entrySet()) {
            String problem;
            try {
                problem = e.getValue().get(CHECK_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException t) {
                problem = "no answer within " + CHECK_TIMEOUT.toSeconds() + " s";
            } catch (InterruptedException | java.util.concurrent.ExecutionException t) {
                Thread.currentThread().interrupt();
                problem = "interrupted";
            }
            results.put(e.getKey(), problem == null ? "ok" : problem);
            ready &= problem == null;
        }
        Verdict v = new Verdict(ready, ready ? "ready" : "not ready", java.util.Collections.unmodifiableMap(results));
        if (!ready && (last == null || last.ready())) {
            log.warn("not ready: {}", results);
        } else if (ready && last != null && !last.ready()) {
            log.info("ready again");
        }
        return v;
    }
}
