package io.phigate.session;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The live sessions and the bound on how many may exist. A slot is reserved before authentication (so a full
 * gateway refuses cheaply) and released when the connection ends, whether or not it became a session.
 */
public final class SessionRegistry {
    private final int maxSessions;
    private final Semaphore slots;
    private final Map<String, LiveSession> sessions = new ConcurrentHashMap<>();

    public SessionRegistry(int maxSessions) {
        this.maxSessions = maxSessions;
        this.slots = new Semaphore(maxSessions);
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
}
