package io.phigate.net;

import java.net.InetAddress;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per client IP address: each address may open {@code burst} connections at once and then
 * {@code ratePerSecond} a second. The table is bounded: when it holds {@link #MAX_ADDRESSES} entries, buckets that
 * have refilled completely (addresses that went quiet) are dropped, and if none has, the new address is refused
 * rather than the table growing — a spoofing-free flood from that many addresses is beyond what a per-address
 * limit can answer anyway.
 *
 * <p>Called concurrently from connection threads; each bucket is updated under its own lock.
 */
public final class AddressRateLimiter {
    static final int MAX_ADDRESSES = 65_536;

    private final double ratePerNano;
    private final double burst;
    private final LongSupplier nanoClock;
    private final Map<InetAddress, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long updated;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.updated = now;
        }
    }

    /** {@code ratePerSecond} 0 disables the limit. */
    public AddressRateLimiter(int ratePerSecond, int burst) {
        this(ratePerSecond, burst, System::nanoTime);
    }

    AddressRateLimiter(int ratePerSecond, int burst, LongSupplier nanoClock) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = Math.max(1, burst);
        this.nanoClock = nanoClock;
    }

    /** Takes one connection from {@code address}'s bucket; false if it is empty. */
    public boolean tryAcquire(InetAddress address) {
        if (ratePerNano == 0 || address == null) {
            return true;
        }
        long now = nanoClock.getAsLong();
        Bucket bucket = buckets.get(address);
        if (bucket == null) {
            if (buckets.size() >= MAX_ADDRESSES && !evictIdle(now)) {
                return false;
            }
            bucket = buckets.computeIfAbsent(address, a -> new Bucket(burst, now));
        }
        synchronized (bucket) {
            refill(bucket, now);
            if (bucket.tokens < 1) {
                return false;
            }
            bucket.tokens -= 1;
            return true;
        }
    }

    int trackedAddresses() {
        return buckets.size();
    }

    private void refill(Bucket b, long now) {
        b.tokens = Math.min(burst, b.tokens + (now - b.updated) * ratePerNano);
        b.updated = now;
    }

    private boolean evictIdle(long now) {
        boolean any = false;
        for (Iterator<Bucket> it = buckets.values().iterator(); it.hasNext(); ) {
            Bucket b = it.next();
            synchronized (b) {
                refill(b, now);
                if (b.tokens >= burst) {
                    it.remove();
                    any = true;
                }
            }
        }
        return any;
    }
}
