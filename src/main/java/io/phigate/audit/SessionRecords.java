package io.phigate.audit;

import static io.phigate.audit.StoreReader.SELECT_EVENT;

import io.phigate.audit.AuditQueries.Event;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** One session's records (whole, paged, or just its start and end), one record by number, session ids by prefix. */
final class SessionRecords {
    private final StoreReader store;

    SessionRecords(StoreReader store) {
        this.store = store;
    }

    List<String> sessionIds(String prefix, int limit) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Connection c = store.connect(); PreparedStatement q = c.prepareStatement("""
                SELECT DISTINCT session_id FROM audit_event WHERE session_id >= ? AND session_id < ?
                ORDER BY session_id LIMIT ?""")) {
            q.setString(1, prefix);
            q.setString(2, prefix + Character.MAX_VALUE);
            q.setInt(3, limit);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
        }
        return ids;
    }

    List<Event> session(String sessionId) throws SQLException {
        return store.selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE session_id = ? ORDER BY time, seq", sessionId);
    }

    List<Event> session(String sessionId, long afterSeq, int limit) throws SQLException {
        return store.selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE session_id = ? AND seq > ?"
                + " ORDER BY seq LIMIT ?", sessionId, afterSeq, Math.min(Math.max(limit, 1), AuditQueries.MAX_LIMIT));
    }

    Event event(long seq) throws SQLException {
        List<Event> one = store.selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE seq = ?", seq);
        return one.isEmpty() ? null : one.getFirst();
    }

    List<Event> sessionBounds(String sessionId) throws SQLException {
        var events = new ArrayList<Event>();
        try (Connection c = store.connect(); PreparedStatement q = c.prepareStatement("SELECT " + SELECT_EVENT
                + " FROM audit_event WHERE session_id = ? AND kind IN ('session_started', 'session_ended')"
                + " ORDER BY time, seq")) {
            q.setString(1, sessionId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    events.add(StoreReader.event(rs, 0));
                }
            }
        }
        return events;
    }
}
