package io.phigate.audit;

import io.phigate.audit.AuditQueries.MinuteCount;
import io.phigate.audit.AuditQueries.PhiReadSink;
import io.phigate.audit.AuditQueries.ReplicaState;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Where the store stands, for the console's overview and evidence pages: rates, PHI reads, each replica's chain. */
final class StoreOverview {
    private final StoreReader store;

    StoreOverview(StoreReader store) {
        this.store = store;
    }

    List<MinuteCount> perMinute(Instant since) throws SQLException {
        var out = new ArrayList<MinuteCount>();
        try (Connection c = store.connect(); PreparedStatement q = c.prepareStatement("""
                SELECT substr(time, 1, 16) AS minute,
                    sum(CASE WHEN kind = 'statement_requested' THEN 1 ELSE 0 END),
                    sum(CASE WHEN kind = 'statement_completed' AND outcome = 'refused' THEN 1 ELSE 0 END)
                FROM audit_event WHERE time >= ? AND kind IN ('statement_requested', 'statement_completed')
                GROUP BY substr(time, 1, 16) ORDER BY 1""")) {
            q.setString(1, AuditRow.TIME.format(since));
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(new MinuteCount(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                }
            }
        }
        return out;
    }

    List<ReplicaState> replicaStates() throws SQLException {
        var out = new ArrayList<ReplicaState>();
        try (Connection c = store.connect()) {
            try (PreparedStatement q = c.prepareStatement("SELECT replica, count(*), min(time), max(time)"
                    + " FROM audit_event WHERE replica IS NOT NULL GROUP BY replica ORDER BY replica");
                 ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(new ReplicaState(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            null, null, null));
                }
            }
            for (int i = 0; i < out.size(); i++) {
                ReplicaState r = out.get(i);
                String note = optional(c, "SELECT note FROM audit_checkpoint WHERE replica = ?"
                        + " ORDER BY tree_size DESC, id DESC LIMIT 1", r.replica());
                String cut = optional(c, "SELECT up_to_seq || ' ' || archived_at FROM audit_archive WHERE replica = ?"
                        + " ORDER BY up_to_seq DESC LIMIT 1", r.replica());
                out.set(i, new ReplicaState(r.replica(), r.records(), r.oldestTime(), r.newestTime(), note,
                        cut == null ? null : Long.parseLong(cut.substring(0, cut.indexOf(' '))),
                        cut == null ? null : cut.substring(cut.indexOf(' ') + 1)));
            }
        }
        return out;
    }

    long countBefore(Instant before) throws SQLException {
        try (Connection c = store.connect();
             PreparedStatement q = c.prepareStatement("SELECT count(*) FROM audit_event WHERE time < ?")) {
            q.setString(1, AuditRow.TIME.format(before));
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** The first column of the first row, or null when there is none or the table does not exist. */
    private static String optional(Connection c, String sql, String arg) throws SQLException {
        // A missing table aborts a PostgreSQL transaction; autocommit keeps that to this one statement.
        try (PreparedStatement q = c.prepareStatement(sql)) {
            q.setString(1, arg);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("no such table") || m.contains("does not exist")) {
                return null;
            }
            throw e;
        }
    }

    void phiReads(Instant since, int max, PhiReadSink sink) throws SQLException, IOException {
        try (Connection c = store.connect(); PreparedStatement q = c.prepareStatement("""
                SELECT r.issuer, r.subject, x.detail, x.row_count
                FROM audit_event x
                JOIN audit_event r ON r.kind = 'statement_requested' AND r.session_id = x.session_id
                    AND r.statement_id = x.statement_id
                WHERE x.kind = 'statement_completed' AND x.time >= ? AND x.detail LIKE '%"masking"%'
                ORDER BY x.seq DESC LIMIT ?""")) {
            q.setString(1, AuditRow.TIME.format(since));
            q.setInt(2, max);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    sink.accept(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4));
                }
            }
        }
    }
}
