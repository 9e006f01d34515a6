package io.phigate.session;

import io.phigate.cluster.Cluster;
import io.phigate.cluster.PublishedSession;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The live sessions and the bound on how many may exist. A slot is reserved before authentication (so a full
 * gateway refuses cheaply) and released when the connection ends, whether or not it became a session.
 *
 * <p>Among replicas sharing an audit store it also reaches the others' sessions ({@link #elsewhere},
 * {@link #killElsewhere}) through the {@link Cluster}; alone ({@link Cluster#SOLO}) there are none.
 */
public final class SessionRegistry {
    /** What a client killed by an admin is told, whichever replica the admin asked. */
    public static final String KILLED = "terminating connection due to administrator command (phigate sessions kill)";

    private final int maxSessions;
    private final Semaphore slots;
    private final Map<String, LiveSession> sessions = new ConcurrentHashMap<>();
    private final Cluster cluster;

    public SessionRegistry(int maxSessions) {
        this(maxSessions, Cluster.SOLO);
    }

    public SessionRegistry(int maxSessions, Cluster cluster) {
        this.maxSessions = maxSessions;
        this.slots = new Semaphore(maxSessions);
        this.cluster = cluster;
    }

    /** Reserves a slot; false when the gateway is at its session limit. */
    public boolean reserve() {
        return slots.tryAcquire();
    }

    public void release() {
        slots.release();
    }

    public void add(LiveSession session) {
        sessions.put(session.id(), session);
    }

    public void remove(LiveSession session) {
        sessions.remove(session.id(), session);
    }

    public List<LiveSession> list() {
        return List.copyOf(sessions.values());
    }

    public LiveSession get(String id) {
        return sessions.get(id);
    }

    public int maxSessions() {
        return maxSessions;
    }

    public int size() {
        return sessions.size();
    }

    /** This replica's name among those sharing the audit store; null for a gateway alone. */
    public String replica() {
        return cluster.replica();
    }

    /** The sessions live on the other replicas sharing the audit store (none for a gateway alone). */
    public List<PublishedSession> elsewhere() {
        return cluster.sessionsElsewhere();
    }

    /** Asks the replica holding session {@code id} to end it; true once it has ended. */
    public boolean killElsewhere(String id) {
        return cluster.kill(id);
    }

    /** Ends session {@code id} if it is live here, as an admin's kill; false when it is not. */
    public boolean killHere(String id) {
        LiveSession s = sessions.get(id);
        if (s == null) {
            return false;
        }
        s.terminate(SqlStates.ADMIN_SHUTDOWN, KILLED);
        return true;
    }

    /** This replica's sessions as the others see them ({@code replica}: this one's name). */
    public List<PublishedSession> published(String replica) {
        return sessions.values().stream().map(s -> new PublishedSession(s.id(), replica, s.identity().issuer(),
                s.identity().subject(), s.upstream(), s.clientAddress(), s.startedAt(), s.identity().expiresAt(),
                s.statements())).toList();
    }
}
