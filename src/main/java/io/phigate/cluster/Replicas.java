package io.phigate.cluster;

import java.io.IOException;
import io.phigate.audit.StoreConnection;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/**
 * The replicas' leases and slots in {@code cluster_replica}. Times are the store's ({@code now()}), so replicas
 * whose clocks disagree still agree on whose lease has run out.
 */
final class Replicas {
    private Replicas() {
    }

    private static final List<String> TABLES = List.of("cluster_replica", "cluster_session", "cluster_order",
            "approval_state", "approval_vote");

    /**
     * Makes sure the coordination tables exist. They are part of the store's schema script, which an operator runs
     * as the owner; a store made before them gets them here if the gateway's role may create tables (the script is
     * idempotent), and replicas starting together take turns.
     */
    static void createSchema(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(hashtext('phigate.cluster.schema'))");
            for (String table : TABLES) {
                try (ResultSet rs = s.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        runScript(s, table);
                        return;
                    }
                }
            }
        }
    }

    private static void runScript(Statement s, String missing) throws SQLException {
        try {
            s.execute(StoreConnection.schemaSql());
        } catch (IOException | SQLException e) {
            throw new SQLException(missing + " does not exist and this role cannot create it (" + e.getMessage()
                    + "); run postgres-schema.sql again as the store's owner (docs/audit-postgres.md)", e);
        }
    }

    /**
     * Takes this replica's lease and returns its slot: the one it had if its row is still there (a restart keeps
     * its keys' slot), else the lowest slot no live replica holds (a dead replica's row is replaced). The audit
     * writer's lock on the replica's chain already ensures no other live process uses {@code name}.
     */
    static int join(Connection c, String name, Duration lease) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("LOCK TABLE cluster_replica IN SHARE ROW EXCLUSIVE MODE");
        }
        try (PreparedStatement own = c.prepareStatement("UPDATE cluster_replica SET started_at = now(),"
                + " lease_until = now() + ? * interval '1 millisecond' WHERE name = ? RETURNING slot")) {
            own.setLong(1, lease.toMillis());
            own.setString(2, name);
            try (ResultSet rs = own.executeQuery()) {
                if (rs.next()) {
                    return rs.getInt(1);
                }
            }
        }
        int slot;
        try (PreparedStatement free = c.prepareStatement("SELECT s FROM generate_series(1, ?) s WHERE NOT EXISTS"
                + " (SELECT 1 FROM cluster_replica r WHERE r.slot = s AND r.lease_until > now()) ORDER BY s LIMIT 1")) {
            free.setInt(1, Cluster.MAX_SLOT);
            try (ResultSet rs = free.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("all " + Cluster.MAX_SLOT + " replica slots are held by live replicas");
                }
                slot = rs.getInt(1);
            }
        }
        try (PreparedStatement drop = c.prepareStatement("DELETE FROM cluster_replica WHERE slot = ?");
             PreparedStatement insert = c.prepareStatement("INSERT INTO cluster_replica (name, slot, started_at,"
                     + " lease_until) VALUES (?, ?, now(), now() + ? * interval '1 millisecond')")) {
            drop.setInt(1, slot);
            drop.executeUpdate();
            insert.setString(1, name);
            insert.setInt(2, slot);
            insert.setLong(3, lease.toMillis());
            insert.executeUpdate();
        }
        return slot;
    }

    /** Extends the lease; false when the row is gone (the lease ran out and another replica took the slot). */
    static boolean renew(Connection c, String name, int slot, Duration lease) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE cluster_replica SET lease_until = now() + ? *"
                + " interval '1 millisecond' WHERE name = ? AND slot = ?")) {
            p.setLong(1, lease.toMillis());
            p.setString(2, name);
            p.setInt(3, slot);
            return p.executeUpdate() == 1;
        }
    }

    /** Ends the lease now: the replica is stopping. */
    static void leave(Connection c, String name) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE cluster_replica SET lease_until = now() WHERE name = ?")) {
            p.setString(1, name);
            p.executeUpdate();
        }
    }

    /** The live replica holding {@code slot}, or null. */
    static String holderOf(Connection c, int slot) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT name FROM cluster_replica WHERE slot = ?"
                + " AND lease_until > now()")) {
            p.setInt(1, slot);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Wakes the keepers listening on the store; delivered when the transaction commits. */
    static void notify(Connection c, String what) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_notify('phigate_cluster', ?)")) {
            p.setString(1, what);
            p.execute();
        }
    }
}
