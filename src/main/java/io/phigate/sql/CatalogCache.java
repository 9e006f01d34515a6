package io.phigate.sql;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Each upstream's catalog and the analyser over it, loaded on first use and again after {@link #ttl} or after
 * {@link #invalidate}. Where a {@link Fingerprints} is given, a catalog handed to a session more than
 * {@link #VERIFY_AFTER} after it was last found current (always) is first compared with the server's
 * {@link CatalogFingerprint} and read afresh when DDL changed it (decision 0075): a session starts on the catalog as
 * it is, not as it was up to the TTL ago. Any session thread may call it; one load per upstream runs at a time, and the others wait
 * for its result. A failed load is not cached: the caller gets the exception (and refuses the statement), the next
 * caller tries again.
 */
public final class CatalogCache {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    /**
     * How long a catalog found current is handed out without asking the server again: not at all, since a session
     * handed a catalog older than the server's is ended at its first request (its own check), which clients see as
     * a failed connection; one fingerprint over a housekeeping connection per analysed session start is cheaper.
     */
    public static final Duration VERIFY_AFTER = Duration.ZERO;

    /** Reads the upstream's {@link CatalogFingerprint} now, over a connection of the gateway's own. */
    @FunctionalInterface
    public interface Fingerprints {
        String read(String upstream) throws IOException;
    }

    /**
     * Reads the catalog of the upstream of this name (the name a client connects to); the gateway's composition
     * root gives {@code io.phigate.pg.backend.HousekeepingClient}'s loader, so this package never sees how.
     */
    @FunctionalInterface
    public interface Loader {
        Catalog load(String upstream) throws IOException;
    }

    private record Entry(SqlAnalyzer analyzer, long loadedAt, long generation, long verifiedAt) {
        String fingerprint() {
            PgCatalog loaded = PgCatalog.of(analyzer.catalog());
            return loaded == null ? null : loaded.fingerprint();
        }
    }

    private final Loader loader;
    private final Fingerprints fingerprints;
    private final long ttlNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final Map<String, Long> generations = new ConcurrentHashMap<>();

    public CatalogCache(Loader loader) {
        this(loader, null, DEFAULT_TTL, System::nanoTime);
    }

    public CatalogCache(Loader loader, Fingerprints fingerprints) {
        this(loader, fingerprints, DEFAULT_TTL, System::nanoTime);
    }

    public CatalogCache(Loader loader, Duration ttl, LongSupplier nanoTime) {
        this(loader, null, ttl, nanoTime);
    }

    public CatalogCache(Loader loader, Fingerprints fingerprints, Duration ttl, LongSupplier nanoTime) {
        this.loader = loader;
        this.fingerprints = fingerprints;
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
    }

    /** The upstream's current catalog, loading it if needed. */
    public Catalog catalog(String name) throws IOException {
        return analyzer(name).catalog();
    }

    /** The analyser over the upstream's current catalog; a new catalog comes with a new analyser (and cache). */
    public SqlAnalyzer analyzer(String name) throws IOException {
        Entry e = entries.get(name);
        if (fresh(e, name)) {
            return e.analyzer;
        }
        synchronized (locks.computeIfAbsent(name, k -> new Object())) {
            e = entries.get(name);
            if (fresh(e, name) || stillCurrent(e, name)) {
                return entries.get(name).analyzer;
            }
            long generation = generations.getOrDefault(name, 0L);
            Catalog catalog = loader.load(name);
            long now = nanoTime.getAsLong();
            Entry loaded = new Entry(new SqlAnalyzer(catalog), now, generation, now);
            entries.put(name, loaded);
            return loaded.analyzer;
        }
    }

    /** Drops the upstream's catalog so the next statement loads it afresh (the gateway calls this after DDL). */
    public void invalidate(String upstreamName) {
        // The generation makes a load that started before the DDL and finishes after it count as stale.
        generations.merge(upstreamName, 1L, Long::sum);
        entries.remove(upstreamName);
    }

    private boolean fresh(Entry e, String name) {
        return e != null && nanoTime.getAsLong() - e.loadedAt < ttlNanos
                && e.generation == generations.getOrDefault(name, 0L)
                && (fingerprints == null || e.fingerprint() == null
                    || nanoTime.getAsLong() - e.verifiedAt < VERIFY_AFTER.toNanos());
    }

    /** Under the upstream's lock: an entry due for verification whose fingerprint is the server's is kept. */
    private boolean stillCurrent(Entry e, String name) throws IOException {
        if (e == null || fingerprints == null || e.fingerprint() == null
                || nanoTime.getAsLong() - e.loadedAt >= ttlNanos || e.generation != generations.getOrDefault(name, 0L)) {
            return false;
        }
        long asked = nanoTime.getAsLong();
        if (!e.fingerprint().equals(fingerprints.read(name))) {
            return false;
        }
        entries.put(name, new Entry(e.analyzer, e.loadedAt, e.generation, asked));
        return true;
    }
}
