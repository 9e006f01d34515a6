package io.phigate.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** What one replica asks of another through {@code cluster_order}: end a session, or pass on a cancel. */
final class Orders {
    static final String KILL = "kill";
    static final String CANCEL = "cancel";

    /** One order; {@code secret} is a CancelRequest's, so it never shows in a log. */
    record Order(String kind, String sessionId, int processId, byte[] secret, String clientAddress) {
        @Override
        public String toString() {
            return "Order[" + kind + ", session=" + sessionId + ", pid=" + processId + "]";
        }
    }

    private Orders() {
    }

    /** Queues {@code order} for {@code replica} and wakes it (on commit). */
    static void post(Connection c, String replica, Order order) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO cluster_order (replica, kind, session_id,"
                + " process_id, secret, client_address) VALUES (?, ?, ?, ?, ?, ?)")) {
            p.setString(1, replica);
            p.setString(2, order.kind());
            p.setString(3, order.sessionId());
            p.setInt(4, order.processId());
            p.setBytes(5, order.secret());
            p.setString(6, order.clientAddress());
            p.executeUpdate();
        }
        Replicas.notify(c, "order:" + replica);
    }

    /** Takes (deletes) every order queued for {@code replica}, oldest first. */
    static List<Order> take(Connection c, String replica) throws SQLException {
        List<Order> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("WITH taken AS (DELETE FROM cluster_order WHERE replica = ?"
                + " RETURNING id, kind, session_id, process_id, secret, client_address)"
                + " SELECT kind, session_id, process_id, secret, client_address FROM taken ORDER BY id")) {
            p.setString(1, replica);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new Order(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getBytes(4), rs.getString(5)));
                }
            }
        }
        return out;
    }
}
