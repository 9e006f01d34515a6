package io.phigate.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Live sessions in {@code cluster_session}: each replica's, renewed with its heartbeat, gone a lease after it. */
final class PublishedSessions {
    private PublishedSessions() {
    }

    /** Replaces what {@code replica} published with {@code live}, each row good for one lease. */
    static void publish(Connection c, String replica, List<PublishedSession> live, Duration lease) throws SQLException {
        String[] ids = live.stream().map(PublishedSession::id).toArray(String[]::new);
        try (PreparedStatement gone = c.prepareStatement("DELETE FROM cluster_session WHERE replica = ?"
                + " AND NOT (id = ANY (?))")) {
            gone.setString(1, replica);
            gone.setArray(2, c.createArrayOf("text", ids));
            gone.executeUpdate();
        }
        if (live.isEmpty()) {
            return;
        }
        try (PreparedStatement up = c.prepareStatement("INSERT INTO cluster_session (id, replica, issuer, subject,"
                + " upstream, client_address, started_at, token_expires_at, statements, expires_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now() + ? * interval '1 millisecond')"
                + " ON CONFLICT (id) DO UPDATE SET statements = excluded.statements, expires_at = excluded.expires_at")) {
            for (PublishedSession s : live) {
                up.setString(1, s.id());
                up.setString(2, replica);
                up.setString(3, s.issuer());
                up.setString(4, s.subject());
                up.setString(5, s.upstream());
                up.setString(6, s.clientAddress());
                up.setTimestamp(7, Timestamp.from(s.startedAt()));
                up.setTimestamp(8, s.tokenExpiresAt() == null ? null : Timestamp.from(s.tokenExpiresAt()));
                up.setLong(9, s.statements());
                up.setLong(10, lease.toMillis());
                up.addBatch();
            }
            up.executeBatch();
        }
    }

    /** The sessions live replicas other than {@code replica} publish. */
    static List<PublishedSession> others(Connection c, String replica) throws SQLException {
        List<PublishedSession> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT id, replica, issuer, subject, upstream, client_address,"
                + " started_at, token_expires_at, statements FROM cluster_session WHERE replica <> ?"
                + " AND expires_at > now() ORDER BY started_at")) {
            p.setString(1, replica);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    Timestamp expires = rs.getTimestamp(8);
                    out.add(new PublishedSession(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getTimestamp(7).toInstant(),
                            expires == null ? null : expires.toInstant(), rs.getLong(9)));
                }
            }
        }
        return out;
    }

    /** The replica other than {@code self} publishing session {@code id}, or null. */
    static String holderOf(Connection c, String id, String self) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT replica FROM cluster_session WHERE id = ?"
                + " AND replica <> ? AND expires_at > now()")) {
            p.setString(1, id);
            p.setString(2, self);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Whether session {@code id} is still published. */
    static boolean published(Connection c, String id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM cluster_session WHERE id = ? AND expires_at > now()")) {
            p.setString(1, id);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    static void remove(Connection c, String id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM cluster_session WHERE id = ?")) {
            p.setString(1, id);
            p.executeUpdate();
        }
    }

    /** What a previous run of {@code replica} left: its sessions and the orders for them are gone with it. */
    static void forget(Connection c, String replica) throws SQLException {
        for (String table : List.of("cluster_session", "cluster_order")) {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM " + table + " WHERE replica = ?")) {
                p.setString(1, replica);
                p.executeUpdate();
            }
        }
    }
}
