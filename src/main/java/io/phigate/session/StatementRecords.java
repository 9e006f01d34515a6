package io.phigate.session;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.identity.Identity;
import io.phigate.session.SessionMasking;
import io.phigate.sql.StatementAnalysis;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A session's statement records, whichever protocol carried them: the request record says who asked, over which
 * protocol, the text the server runs (for an EXECUTE or FETCH with what it names), and, when the session analyses
 * statements, the relations and tagged columns involved; a statement refused or answered by the gateway gets its
 * completion record with it.
 */
public final class StatementRecords {
    private final String sessionId;
    private final String clientAddress;
    private final String upstreamName;
    private final Identity identity;
    /** Null when the session masks nothing: no PHI columns to name. */
    private final SessionMasking masking;
    /** The text of the last statement requested, for the console. */
    private volatile String lastStatement;

    public StatementRecords(String sessionId, String clientAddress, String upstreamName, Identity identity,
                            SessionMasking masking) {
        this.sessionId = sessionId;
        this.clientAddress = clientAddress;
        this.upstreamName = upstreamName;
        this.identity = identity;
        this.masking = masking;
    }

    /** The request record, with what the analysis says the statement touches when the session analyses them. */
    public AuditEvent.StatementRequested requested(long statementId, Protocol protocol, String text,
                                                   List<String> parameters, String prepared, String portal,
                                                   String justification, List<StatementAnalysis> analyses) {
        List<String> tables = null;
        Map<String, String> phiColumns = null;
        if (analyses != null) {
            java.util.TreeSet<String> t = new java.util.TreeSet<>();
            java.util.TreeMap<String, String> phi = new java.util.TreeMap<>();
            for (StatementAnalysis a : analyses) {
                if (a == null) {
                    continue;
                }
                a.scanned().forEach(r -> t.add(r.toString())); // a parent's children too: their rows were read
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

    /** A statement refused before anything went upstream: its request and its end, written together. */
    public List<AuditEvent> refused(AuditEvent.StatementRequested requested, long durationMicros, Refusal refusal) {
        return List.of(requested, new AuditEvent.StatementCompleted(Instant.now(), sessionId, requested.statementId(),
                AuditEvent.Outcome.REFUSED, refusal.sqlState(), null, 0, durationMicros, null,
                "refused: " + refusal.message()));
    }

    /** A statement the gateway answered itself (a kept setting): its request and its end, never forwarded. */
    List<AuditEvent> answered(AuditEvent.StatementRequested requested, long durationMicros, String commandTag,
                              String what) {
        return List.of(requested, new AuditEvent.StatementCompleted(Instant.now(), sessionId, requested.statementId(),
                AuditEvent.Outcome.OK, null, commandTag, 0, durationMicros, null, "intercepted by phigate: " + what));
    }

    public String lastStatement() {
        return lastStatement;
    }
}
