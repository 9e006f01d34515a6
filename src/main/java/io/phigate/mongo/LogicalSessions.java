package io.phigate.mongo;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.bson.BsonBinary;
import org.bson.BsonBinarySubType;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * Which agent each of the store's logical sessions (a command's {@code lsid}) belongs to, across the front door's
 * connections. Every agent reaches the store as the gateway's one user, and the store ties a logical session (its
 * transaction, its cursors) to that user only: so an agent naming another's session id would join its transaction,
 * and one ending or killing it would end another agent's work. The first agent to use an id owns it; another
 * agent's command naming it is refused, and {@code endSessions}, {@code refreshSessions} and {@code killSessions}
 * run only over ids their sender owns (decision 0059). Called concurrently by every connection's thread.
 *
 * <p>Bounded: an agent may hold {@link #PER_AGENT} ids (drivers pool a few dozen), all agents together {@link #MAX},
 * so one agent cannot fill the table and leave the others without sessions. At either bound the ids idle longer
 * than the store keeps a session (30 minutes, mongod's {@code localLogicalSessionTimeoutMinutes}) are dropped; when
 * that frees none, a new id is refused rather than tracked loosely.
 */
final class LogicalSessions {
    static final int MAX = 100_000;
    static final int PER_AGENT = 10_000;
    static final int DEFAULT_TIMEOUT_MINUTES = 30;

    private record Owner(String agent, long lastUsed) {
    }

    private final Map<String, Owner> owners = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> held = new ConcurrentHashMap<>();
    private final int max;
    private final int perAgent;
    private volatile long idleNanos = TimeUnit.MINUTES.toNanos(DEFAULT_TIMEOUT_MINUTES);

    private final LongSupplier nanoClock;

    LogicalSessions() {
        this(MAX, PER_AGENT, System::nanoTime);
    }

    LogicalSessions(int max, int perAgent, LongSupplier nanoClock) {
        this.max = max;
        this.perAgent = perAgent;
        this.nanoClock = nanoClock;
    }

    /**
     * The store said it keeps an idle logical session for {@code minutes} (null: it has none). Only ever raises the
     * time an id stays owned: a store whose sessions expire sooner just sees its expired ids reused by their owner.
     */
    void storeKeepsSessionsFor(Integer minutes) {
        if (minutes != null && minutes > DEFAULT_TIMEOUT_MINUTES) {
            idleNanos = TimeUnit.MINUTES.toNanos(minutes);
        }
    }

    /** The key of an {@code lsid}, or of an entry of endSessions and its kin: {@code {id: UUID}} and nothing else. */
    static String idOf(BsonValue lsid) {
        if (lsid instanceof BsonDocument d && d.size() == 1 && d.get("id") instanceof BsonBinary b
                && b.getType() == BsonBinarySubType.UUID_STANDARD.getValue() && b.getData().length == 16) {
            return HexFormat.of().formatHex(b.getData());
        }
        return null;
    }

    /** Claims {@code id} for {@code agent}, or finds it already {@code agent}'s; false when another agent owns it. */
    boolean use(String agent, String id) throws Full {
        long now = nanoClock.getAsLong();
        Owner known = owners.get(id);
        if (known == null) {
            AtomicInteger mine = held.computeIfAbsent(agent, k -> new AtomicInteger());
            if (mine.get() >= perAgent || owners.size() >= max) {
                dropIdle(now);
                if (mine.get() >= perAgent || owners.size() >= max) {
                    throw new Full(mine.get() >= perAgent);
                }
            }
        }
        Owner o = owners.compute(id, (k, was) -> {
            if (was == null) {
                held.computeIfAbsent(agent, a -> new AtomicInteger()).incrementAndGet();
                return new Owner(agent, now);
            }
            return was.agent().equals(agent) ? new Owner(agent, now) : was;
        });
        return o.agent().equals(agent);
    }

    private void dropIdle(long now) {
        owners.entrySet().removeIf(e -> {
            boolean idle = now - e.getValue().lastUsed() > idleNanos;
            if (idle) {
                released(e.getValue().agent());
            }
            return idle;
        });
    }

    private void released(String agent) {
        AtomicInteger n = held.get(agent);
        if (n != null) {
            n.decrementAndGet();
        }
    }

    /** Whether {@code agent} owns every one of {@code ids}. */
    boolean ownsAll(String agent, List<String> ids) {
        return ids.stream().allMatch(id -> owners.get(id) instanceof Owner o && o.agent().equals(agent));
    }

    /** {@code ids} were ended by their owner: the store forgets them, and so does this. */
    void ended(String agent, List<String> ids) {
        ids.forEach(id -> owners.computeIfPresent(id, (k, o) -> {
            if (!o.agent().equals(agent)) {
                return o;
            }
            released(agent);
            return null;
        }));
    }

    int size() {
        return owners.size();
    }

    /** Every id (of the agent, or of all) is in use and none has been idle long enough to drop. */
    static final class Full extends Exception {
        private final boolean agentsOwn;

        Full(boolean agentsOwn) {
            super(null, null, false, false);
            this.agentsOwn = agentsOwn;
        }

        /** The agent's own share is full, rather than the whole table. */
        boolean agentsOwn() {
            return agentsOwn;
        }
    }
}
