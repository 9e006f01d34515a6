package io.phigate.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditQueries.Event;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;

/**
 * What every audit query shares: a connection to the store, the key that opens sealed values when the caller holds
 * it, and the mapping of an {@code audit_event} row to {@link AuditQueries.Event}.
 */
final class StoreReader {
    /** Every column of {@code audit_event}, in {@link AuditQueries#COLUMNS} order. */
    static final String SELECT_EVENT = String.join(", ", AuditQueries.COLUMNS);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

    /** A {@link DataSource} reduced to the one method used here. */
    @FunctionalInterface
    interface ConnectionSource {
        Connection get() throws SQLException;
    }

    private final ConnectionSource connections;
    /** Opens sealed values for callers that hold the key; null leaves them sealed. */
    final PayloadCipher cipher;

    StoreReader(ConnectionSource connections, PayloadCipher cipher) {
        this.connections = connections;
        this.cipher = cipher;
    }

    Connection connect() throws SQLException {
        return connections.get();
    }

    ConnectionSource connections() {
        return connections;
    }

    /** Sealed parameters opened when this caller holds the key, else left sealed (shown as {@link AuditQueries#SEALED}). */
    String open(String parameters, long seq) throws SQLException {
        if (cipher == null || !PayloadCipher.isSealed(parameters)) {
            return parameters;
        }
        try {
            return cipher.openText(parameters, "parameters");
        } catch (java.security.GeneralSecurityException e) {
            throw new SQLException("audit record " + seq + ": " + e.getMessage());
        }
    }

    /** The rows of {@code sql} (bound to {@code args}) as events, their parameters opened when a key is held. */
    List<Event> selectEvents(String sql, Object... args) throws SQLException {
        var events = new ArrayList<Event>();
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                q.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    Event e = event(rs, 0);
                    events.add(cipher == null || !PayloadCipher.isSealed(e.parameters()) ? e : withParameters(e,
                            open(e.parameters(), e.seq())));
                }
            }
        }
        return events;
    }

    static Event withParameters(Event e, String parameters) {
        return new Event(e.seq(), e.time(), e.kind(), e.sessionId(), e.statementId(), e.clientAddress(), e.upstream(),
                e.issuer(), e.subject(), e.protocol(), e.statement(), parameters, e.preparedName(), e.portal(),
                e.outcome(), e.sqlState(), e.commandTag(), e.rowCount(), e.durationMicros(), e.detail(), e.replica(),
                e.chainSeq(), e.prevHash(), e.hash(), e.responseDigest(), e.responseBytes(), e.responseTruncated());
    }

    static String timeRange(String prefix, Instant since, Instant until, List<Object> args) {
        var where = new StringBuilder();
        if (since != null) {
            where.append(" WHERE ").append(prefix).append("time >= ?");
            args.add(AuditRow.TIME.format(since));
        }
        if (until != null) {
            where.append(where.isEmpty() ? " WHERE " : " AND ").append(prefix).append("time < ?");
            args.add(AuditRow.TIME.format(until));
        }
        return where.toString();
    }

    static void bind(PreparedStatement q, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            Object a = args.get(i);
            if (a instanceof String s) {
                q.setString(i + 1, s);
            } else if (a instanceof Long l) {
                q.setLong(i + 1, l);
            } else {
                q.setInt(i + 1, (Integer) a);
            }
        }
    }

    static Event event(ResultSet rs, int offset) throws SQLException {
        int o = offset;
        return new Event(rs.getLong(o + 1), rs.getString(o + 2), rs.getString(o + 3), rs.getString(o + 4),
                longOrNull(rs, o + 5), rs.getString(o + 6), rs.getString(o + 7), rs.getString(o + 8),
                rs.getString(o + 9), rs.getString(o + 10), rs.getString(o + 11), rs.getString(o + 12),
                rs.getString(o + 13), rs.getString(o + 14), rs.getString(o + 15), rs.getString(o + 16),
                rs.getString(o + 17), longOrNull(rs, o + 18), longOrNull(rs, o + 19), rs.getString(o + 20),
                rs.getString(o + 21), longOrNull(rs, o + 22), rs.getString(o + 23), rs.getString(o + 24),
                rs.getString(o + 25), longOrNull(rs, o + 26), longOrNull(rs, o + 27));
    }

    static Long longOrNull(ResultSet rs, int index) throws SQLException {
        long v = rs.getLong(index);
        return rs.wasNull() ? null : v;
    }

    static List<String> parseParameters(String json, long seq) throws SQLException {
        if (json == null) {
            return null;
        }
        if (PayloadCipher.isSealed(json)) {
            return List.of(AuditQueries.SEALED);
        }
        try {
            return Collections.unmodifiableList(new ArrayList<>(JSON.readValue(json, STRINGS)));
        } catch (JsonProcessingException e) {
            // Jackson's message would quote the value, which is PHI.
            throw new SQLException("audit record " + seq + " has a parameter list that is not a JSON array of strings");
        }
    }
}
