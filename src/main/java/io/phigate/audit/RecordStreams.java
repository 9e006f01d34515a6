package io.phigate.audit;

import static io.phigate.audit.StoreReader.SELECT_EVENT;
import static io.phigate.audit.StoreReader.bind;
import static io.phigate.audit.StoreReader.event;
import static io.phigate.audit.StoreReader.timeRange;

import io.phigate.audit.AuditQueries.ActivitySink;
import io.phigate.audit.AuditQueries.Event;
import io.phigate.audit.AuditQueries.EventSink;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;

/** Every record in a time range, streamed one at a time to a sink: what export and the access report read. */
final class RecordStreams {
    private final StoreReader store;

    RecordStreams(StoreReader store) {
        this.store = store;
    }

    void events(Instant since, Instant until, EventSink sink) throws SQLException, IOException {
        var args = new ArrayList<Object>();
        String where = timeRange("", since, until, args);
        try (Connection c = store.connect(); PreparedStatement q = c.prepareStatement(
                "SELECT " + SELECT_EVENT + " FROM audit_event" + where + " ORDER BY seq")) {
            bind(q, args);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    sink.accept(event(rs, 0));
                }
            }
        }
    }

    void activities(Instant since, Instant until, ActivitySink sink) throws SQLException, IOException {
        var args = new ArrayList<Object>();
        String range = timeRange("e.", since, until, args);
        String both = SELECT_EVENT.replaceAll("(\\w+)", "e.$1") + ", " + SELECT_EVENT.replaceAll("(\\w+)", "c.$1");
        String sql = "SELECT " + both + """
                 FROM audit_event e
                LEFT JOIN audit_event c ON e.kind = 'statement_requested' AND c.seq = (
                    SELECT min(x.seq) FROM audit_event x WHERE x.kind = 'statement_completed'
                        AND x.session_id = e.session_id AND x.statement_id = e.statement_id)
                """ + (range.isEmpty() ? " WHERE " : range + " AND ") + """
                (e.kind <> 'statement_completed' OR NOT EXISTS (
                    SELECT 1 FROM audit_event y WHERE y.kind = 'statement_requested'
                        AND y.session_id = e.session_id AND y.statement_id = e.statement_id))
                ORDER BY e.seq""";
        try (Connection c = store.connect(); PreparedStatement q = c.prepareStatement(sql)) {
            bind(q, args);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    Event completion = rs.getObject(AuditQueries.COLUMNS.size() + 1) == null ? null : event(rs, AuditQueries.COLUMNS.size());
                    sink.accept(event(rs, 0), completion);
                }
            }
        }
    }
}
