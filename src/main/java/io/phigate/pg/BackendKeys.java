package io.phigate.pg;

import io.phigate.cluster.Cluster;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The BackendKeyData this gateway hands its clients: a process id unique among its live sessions and a random
 * secret. A CancelRequest arrives on a new connection with nothing but that pair, so this is where it finds its
 * session. The ids are the gateway's own, never the upstream's: a client cannot aim a cancel at a backend it was
 * not given.
 *
 * <p>Among replicas sharing an audit store the process id also names the replica: its slot in the high bits
 * ({@link Cluster#SLOT_SHIFT}), so a cancel that lands on another replica can be passed on (decision 0046).
 */
final class BackendKeys {
    /** A process id and its secret, as BackendKeyData carries them. */
    record Key(int processId, byte[] secret) {
    }

    private final Map<Integer, PgSession> byProcessId = new ConcurrentHashMap<>();
    private final AtomicInteger nextProcessId = new AtomicInteger(new SecureRandom().nextInt(1 << 20) + 1);
    private final SecureRandom random = new SecureRandom();
    /** This replica's slot, 0 for a gateway alone: then every positive int is a process id, as before. */
    private final int slot;

    BackendKeys() {
        this(0);
    }

    BackendKeys(int slot) {
        if (slot < 0 || slot > Cluster.MAX_SLOT) {
            throw new IllegalArgumentException("replica slot out of range: " + slot);
        }
        this.slot = slot;
    }

    /** A fresh key: a process id no live session holds, with a random secret. */
    Key issue() {
        byte[] secret = new byte[4];
        random.nextBytes(secret);
        while (true) {
            int n = nextProcessId.getAndUpdate(p -> p >= Integer.MAX_VALUE - 1 ? 1 : p + 1);
            int pid = slot == 0 ? n : slot << Cluster.SLOT_SHIFT | (n & ((1 << Cluster.SLOT_SHIFT) - 1));
            if (pid != slot << Cluster.SLOT_SHIFT && !byProcessId.containsKey(pid)) {
                return new Key(pid, secret);
            }
        }
    }

    /** From now on a cancel with {@code pid} reaches {@code session}. */
    void bind(int pid, PgSession session) {
        byProcessId.put(pid, session);
    }

    /** The session has ended: its key names nothing any more. */
    void release(int pid) {
        byProcessId.remove(pid);
    }

    /** Whether {@code pid} names a key of another replica (its slot is not this one's). */
    boolean elsewhere(int pid) {
        return slot != 0 && pid >>> Cluster.SLOT_SHIFT != slot;
    }

    /** The live session the pair names, or null: an unknown id and a wrong secret look the same to the sender. */
    PgSession matching(int pid, byte[] secret) {
        PgSession target = byProcessId.get(pid);
        return target != null && target.matchesKey(secret) ? target : null;
    }
}
