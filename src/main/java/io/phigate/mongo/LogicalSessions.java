package io.phigate.mongo;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
 * <p>Bounded: at {@link #MAX} ids those idle longer than the store keeps a session (30 minutes, mongod's
 * {@code localLogicalSessionTimeoutMinutes}) are dropped; when none is, a new id is refused rather than tracked
 * loosely.
 */
final class LogicalSessions {
    static final int MAX = 100_000;
    private static final long IDLE_NANOS = TimeUnit.MINUTES.toNanos(30);

    private record Owner(String agent, long lastUsed) {
    }

    private final Map<String, Owner> owners = new ConcurrentHashMap<>();
    private final int max;

    LogicalSessions() {
        this(MAX);
    }

    LogicalSessions(int max) {
        this.max = max;
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
        long now = System.nanoTime();
        if (!owners.containsKey(id) && owners.size() >= max) {
            owners.values().removeIf(o -> now - o.lastUsed() > IDLE_NANOS);
            if (owners.size() >= max) {
                throw new Full();
            }
        }
        Owner o = owners.compute(id, (k, was) -> was == null || was.agent().equals(agent)
                ? new Owner(agent, now) : was);
        return o.agent().equals(agent);
    }

    /** Whether {@code agent} owns every one of {@code ids}. */
    boolean ownsAll(String agent, List<String> ids) {
        return ids.stream().allMatch(id -> owners.get(id) instanceof Owner o && o.agent().equals(agent));
    }

    /** {@code ids} were ended by their owner: the store forgets them, and so does this. */
    void ended(String agent, List<String> ids) {
        ids.forEach(id -> owners.computeIfPresent(id, (k, o) -> o.agent().equals(agent) ? null : o));
    }

    int size() {
        return owners.size();
    }

    /** Every id is in use and none has been idle long enough to drop. */
    static final class Full extends Exception {
        Full() {
            super(null, null, false, false);
        }
    }
}
