package io.phigate.sql;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Each upstream's catalog and the analyser over it, loaded on first use and again after {@link #ttl} or after
 * {@link #invalidate}. Where a {@link Fingerprints} is given, the cache also keeps each upstream's <em>shared
 * freshness</em> (decision 0075, "Shared freshness"): the latest {@link CatalogFingerprint} read over the gateway's own
 * connection and when, read again at most once per {@link #INTERVAL} per upstream, by one caller at a time, and only
 * when a caller asks (an idle gateway asks nothing). A catalog is handed to a session only while a reading at most
 * {@link #INTERVAL} old shows it current, else it is read afresh; open sessions compare their catalog with the same
 * reading between transactions ({@link #freshness}) instead of each asking the server.
 *
 * <p>Any session thread may call it. Per upstream one lock serialises loads and readings, so readings are ordered:
 * a later one never saw less than an earlier one. A session starting waits for it; a session between transactions
 * never does (it uses the reading there is). A failed load is not cached: the caller gets the exception (and refuses
 * the statement), the next caller tries again.
 */
public final class CatalogCache {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    /** How old the shared reading may get before the next caller reads it again: DDL by others is seen within it. */
    public static final Duration INTERVAL = Duration.ofSeconds(1);

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

    /**
     * The server's fingerprint as read over the gateway's own connection: it shows every change committed before
     * {@code readAt} (the {@link System#nanoTime} taken before asking), none of a session's uncommitted ones.
     */
    public record Reading(String fingerprint, long readAt) {
    }

    /** One upstream's shared freshness, as its sessions see it. */
    public interface Freshness {
        /**
         * The latest reading (null: none yet). When it is older than {@link #INTERVAL} and no other caller is reading
         * or has just tried, reads it first, in this thread; never waits for another's reading, and a failed reading
         * leaves the old one (the caller tells a stale reading by its age and asks in-band).
         */
        Reading latest();

        /**
         * As {@link #latest}, but waits for a reading in flight, and reads again when the last one is older than
         * {@link #INTERVAL} even right after a failed try: for a caller with no other evidence (a session inside a
         * transaction). A failed reading leaves the old one.
         */
        Reading awaited();
    }

    private record Entry(SqlAnalyzer analyzer, long loadedAt, long generation) {
        String fingerprint() {
            PgCatalog loaded = PgCatalog.of(analyzer.catalog());
            return loaded == null ? null : loaded.fingerprint();
        }
    }

    private final Loader loader;
    private final Fingerprints fingerprints;
    private final long ttlNanos;
    private final long intervalNanos = INTERVAL.toNanos();
    private final LongSupplier nanoTime;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final Map<String, Long> generations = new ConcurrentHashMap<>();
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();
    /** When a reading was last tried, so that a failing one is retried at most once per interval. */
    private final Map<String, Long> tried = new ConcurrentHashMap<>();

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
        if (unexpired(e, name) && shownCurrent(e, readings.get(name))) {
            return e.analyzer;
        }
        ReentrantLock lock = lock(name);
        lock.lock();
        try {
            e = entries.get(name);
            if (unexpired(e, name) && (e.fingerprint() == null || fingerprints == null
                    || e.fingerprint().equals(read(name, true).fingerprint()))) {
                return e.analyzer;
            }
            long generation = generations.getOrDefault(name, 0L);
            long started = nanoTime.getAsLong();
            Catalog catalog = loader.load(name);
            Entry loaded = new Entry(new SqlAnalyzer(catalog), nanoTime.getAsLong(), generation);
            entries.put(name, loaded);
            if (loaded.fingerprint() != null) {
                // PgCatalog.load reads the fingerprint first: it is a reading as good as any, and newer than all.
                readings.put(name, new Reading(loaded.fingerprint(), started));
            }
            return loaded.analyzer;
        } finally {
            lock.unlock();
        }
    }

    /** The upstream's shared freshness for its sessions; null where this cache reads no fingerprints. */
    public Freshness freshness(String name) {
        if (fingerprints == null) {
            return null;
        }
        return new Freshness() {
            @Override
            public Reading latest() {
                return orLast(false);
            }

            @Override
            public Reading awaited() {
                return orLast(true);
            }

            private Reading orLast(boolean wait) {
                try {
                    return read(name, wait);
                } catch (IOException e) {
                    return readings.get(name);
                }
            }
        };
    }

    /** Drops the upstream's catalog so the next statement loads it afresh (the gateway calls this after DDL). */
    public void invalidate(String upstreamName) {
        // The generation makes a load that started before the DDL and finishes after it count as stale.
        generations.merge(upstreamName, 1L, Long::sum);
        entries.remove(upstreamName);
    }

    private boolean unexpired(Entry e, String name) {
        return e != null && nanoTime.getAsLong() - e.loadedAt < ttlNanos
                && e.generation == generations.getOrDefault(name, 0L);
    }

    /** Without waiting: no fingerprint to compare, or a reading under the interval old shows the catalog current. */
    private boolean shownCurrent(Entry e, Reading r) {
        return fingerprints == null || e.fingerprint() == null
                || r != null && fresh(r) && r.fingerprint().equals(e.fingerprint());
    }

    private boolean fresh(Reading r) {
        return r != null && nanoTime.getAsLong() - r.readAt() < intervalNanos;
    }

    /**
     * The upstream's reading, read again first when it is older than the interval. {@code wait}: a session starting,
     * which waits for another caller's reading and fails with the server; else a session between transactions, which
     * takes the reading there is while another caller reads or after a failed try within the interval.
     */
    private Reading read(String name, boolean wait) throws IOException {
        Reading r = readings.get(name);
        if (fresh(r)) {
            return r;
        }
        ReentrantLock lock = lock(name);
        if (wait) {
            lock.lock();
        } else if (!lock.tryLock()) {
            return r;
        }
        try {
            r = readings.get(name);
            long now = nanoTime.getAsLong();
            Long last = tried.get(name);
            if (fresh(r) || !wait && last != null && now - last < intervalNanos) {
                return r;
            }
            tried.put(name, now);
            Reading read = new Reading(fingerprints.read(name), now);
            readings.put(name, read);
            return read;
        } finally {
            lock.unlock();
        }
    }

    private ReentrantLock lock(String name) {
        return locks.computeIfAbsent(name, k -> new ReentrantLock());
    }
}
