package io.phigate.pg;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.identity.Identity;
import io.phigate.session.SessionMasking;
import io.phigate.sql.StatementAnalysis;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A session's request records: who asked, over which protocol, the text the server runs (for an EXECUTE or FETCH
 * with what it names), and, when the session analyses statements, the relations and tagged columns involved.
 */
final class RequestRecords {
    private final String sessionId;
    private final String clientAddress;
    private final String upstreamName;
    private final Identity identity;
    /** Null when the session masks nothing: no PHI columns to name. */
    private final SessionMasking masking;
    /** The text of the last statement requested, for the console. */
    private volatile String lastStatement;

    RequestRecords(String sessionId, String clientAddress, String upstreamName, Identity identity,
                   SessionMasking masking) {
        this.sessionId = sessionId;
        this.clientAddress = clientAddress;
        this.upstreamName = upstreamName;
        this.identity = identity;
        this.masking = masking;
    }

    /** The request record, with what the analysis says the statement touches when the session analyses them. */
    AuditEvent.StatementRequested requested(long statementId, Protocol protocol, String text, List<String> parameters,
                                            String prepared, String portal, String justification,
                                            List<StatementAnalysis> analyses) {
        List<String> tables = null;
        Map<String, String> phiColumns = null;
        if (analyses != null) {
            java.util.TreeSet<String> t = new java.util.TreeSet<>();
            java.util.TreeMap<String, String> phi = new java.util.TreeMap<>();
            for (StatementAnalysis a : analyses) {
                if (a == null) {
                    continue;
                }
                a.reads().forEach(r -> t.add(r.toString()));
                a.writes().forEach(w -> t.add(w.toString()));
                if (masking != null) {
                    for (io.phigate.sql.OutputColumn out : a.outputs()) {
                        for (io.phigate.sql.ColumnRef c : out.sources()) {
                            masking.typeOf(c).ifPresent(type -> phi.put(c.toString(), type.policyName()));
                        }
                    }
                    masking.lookups(a).forEach((c, lookup) -> phi.merge(c, lookup, (x, y) -> x + "," + y));
                }
            }
            tables = t.isEmpty() ? null : List.copyOf(t);
            phiColumns = phi.isEmpty() ? null : Collections.unmodifiableMap(phi);
        }
        lastStatement = text;
        return new AuditEvent.StatementRequested(Instant.now(), sessionId, statementId, clientAddress, upstreamName,
                identity.issuer(), identity.subject(), protocol, text, parameters, prepared, portal, justification,
                tables, phiColumns);
    }

    String lastStatement() {
        return lastStatement;
    }

    /** Bound values as the audit store keeps them: text as sent, binary as \x hex, NULL as null. */
    static List<String> render(byte[][] values, java.util.function.IntFunction<Short> format) {
        if (values.length == 0) {
            return List.of();
        }
        List<String> out = new ArrayList<>(values.length);
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i];
            if (v == null) {
                out.add(null);
            } else if (format.apply(i) == 0) {
                out.add(new String(v, StandardCharsets.UTF_8));
            } else {
                out.add("\\x" + hex.formatHex(v));
            }
        }
        return Collections.unmodifiableList(out);
    }
}
