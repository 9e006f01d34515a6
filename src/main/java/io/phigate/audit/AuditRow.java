package io.phigate.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;

/**
 * One {@code audit_event} row, already rendered to column values. Built on the producer's thread so that
 * formatting and JSON work is spread over the sessions and a bad event fails only its own caller; the writer
 * thread just binds these values. Never prints the statement or its parameters.
 */
record AuditRow(String time, String kind, String sessionId, Long statementId, Peer peer, Request request,
                Result result, String detail, AuditEvent.RecordedResponse response) {

    AuditRow(String time, String kind, String sessionId, Long statementId, Peer peer, Request request, Result result,
             String detail) {
        this(time, kind, sessionId, statementId, peer, request, result, detail, null);
    }

    /** Who was on either side of the gateway. */
    record Peer(String clientAddress, String upstream, String issuer, String subject) {
    }

    /** What a statement asked for. Carries PHI: never printed. */
    record Request(String protocol, String statement, String parameters, String preparedName, String portal) {
        @Override
        public String toString() {
            return "Request[protocol=" + protocol + ", statementLength=" + (statement == null ? 0 : statement.length())
                    + ", preparedName=" + preparedName + ", portal=" + portal + "]";
        }
    }

    /** How something ended. */
    record Result(String outcome, String sqlState, String commandTag, Long rowCount, Long durationMicros) {
    }

    // Fixed width with microseconds so that text order is time order, which the (time) index relies on.
    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    /**
     * Jackson's default keeps its buffers per thread (a ThreadLocal) for the thread's life: a session's own thread
     * renders its records here, so each idle session kept ~8 KiB of buffers (bench/idle.sh, decision 0061). A shared
     * bounded pool keeps a few for everyone.
     */
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .recyclerPool(com.fasterxml.jackson.core.util.JsonRecyclerPools.newBoundedPool(32)).build());

    /** Renders an event; with a cipher, parameters and the recorded response are sealed before they are stored. */
    static AuditRow of(AuditEvent event, PayloadCipher cipher) {
        AuditRow row = of(event);
        if (cipher == null) {
            return row;
        }
        Request q = row.request == null ? null : new Request(row.request.protocol(), row.request.statement(),
                cipher.sealText(row.request.parameters(), "parameters"), row.request.preparedName(), row.request.portal());
        AuditEvent.RecordedResponse r = row.response == null ? null : new AuditEvent.RecordedResponse(
                row.response.bytes(), row.response.sha256(), cipher.sealBytes(row.response.deflated(), "response"),
                row.response.truncated());
        return new AuditRow(row.time, row.kind, row.sessionId, row.statementId, row.peer, q, row.result, row.detail, r);
    }

    static AuditRow of(AuditEvent event) {
        String time = RecordTime.format(event.time());
        return switch (event) {
            case AuditEvent.SessionStarted e -> new AuditRow(time, "session_started", e.sessionId(), null,
                    new Peer(e.clientAddress(), e.upstream(), e.issuer(), e.subject()), null, null,
                    detail("claims_digest", e.claimsDigest(), "startup_user", e.startupUser(),
                            "application_name", e.startupParameters() == null ? null
                                    : e.startupParameters().get("application_name"),
                            "startup_parameters", e.startupParameters(), "tls", e.tls(), "role", e.role(),
                            "justification", e.justification(), "upstream_user", e.upstreamUser()));
            case AuditEvent.ConnectionRefused e -> new AuditRow(time, "connection_refused", e.sessionId(), null,
                    new Peer(e.clientAddress(), e.upstream(), e.issuer(), e.subject()), null,
                    new Result(null, e.sqlState(), null, null, null),
                    detail("reason", e.reason()));
            case AuditEvent.StatementRequested e -> new AuditRow(time, "statement_requested", e.sessionId(),
                    e.statementId(), new Peer(e.clientAddress(), e.upstream(), e.issuer(), e.subject()),
                    new Request(lower(e.protocol()), e.text(), parameters(e.parameters()), e.preparedName(),
                            e.portal()),
                    null, detail("justification", e.justification(), "tables", e.tables(), "phi_columns",
                            e.phiColumns()));
            case AuditEvent.StatementCompleted e -> new AuditRow(time, "statement_completed", e.sessionId(),
                    e.statementId(), null, null,
                    new Result(lower(e.outcome()), e.sqlState(), e.commandTag(), e.rows(), e.durationMicros()),
                    detail("masking", e.masking()), e.response());
            case AuditEvent.SessionEnded e -> new AuditRow(time, "session_ended", e.sessionId(), null, null, null,
                    null, detail("reason", e.reason(), "statements", e.statements(), "duration_ms",
                            e.durationMillis()));
            case AuditEvent.CancelRequested e -> new AuditRow(time, "cancel_requested", e.sessionId(), null,
                    new Peer(e.clientAddress(), null, null, null), null, null, detail("matched", e.matched()));
            case AuditEvent.ApprovalRequested e -> new AuditRow(time, "approval_requested", e.sessionId(),
                    e.statementId(), new Peer(null, e.upstream(), e.issuer(), e.subject()),
                    new Request(null, e.text(), parameters(e.parameters()), null, null), null,
                    detail("approval_id", e.approvalId(), "statement_sha256", e.statementSha256(), "rule", e.rule(),
                            "group", e.group(), "approvers", e.approversNeeded(), "mode", e.mode(),
                            "expires_at", e.expiresAt() == null ? null : e.expiresAt().toString(),
                            "tables", e.tables(), "justification", e.justification(), "phi_types", e.phiTypes(),
                            "row_estimate", e.rowEstimate()));
            case AuditEvent.ApprovalDecided e -> new AuditRow(time, "approval_decided", e.sessionId(),
                    e.statementId(), new Peer(null, null, e.issuer(), e.subject()), null,
                    new Result(e.decision(), null, null, null, null),
                    detail("approval_id", e.approvalId(), "decision", e.decision(), "reason", e.reason(),
                            "statement_sha256", e.statementSha256()));
            case AuditEvent.GatewayDrain e -> new AuditRow(time, "gateway_drain", null, null, null, null,
                    new Result(e.phase(), null, null, null, null),
                    detail("phase", e.phase(), "sessions", e.sessions(), "grace_ms", e.grace().toMillis()));
            case AuditEvent.ConsoleAction e -> new AuditRow(time, "console_action", e.sessionId(), null,
                    new Peer(e.clientAddress(), null, e.issuer(), e.subject()), null,
                    new Result(e.outcome(), null, null, null, null),
                    detail("action", e.action(), "target", e.target()));
        };
    }

    /** The column values the chain hash covers, in {@link RecordHash#COLUMNS} order, as the store keeps them. */
    String[] hashedValues(String replica, long chainSeq, String prevHash) {
        Peer p = peer == null ? new Peer(null, null, null, null) : peer;
        Request q = request == null ? new Request(null, null, null, null, null) : request;
        Result r = result == null ? new Result(null, null, null, null, null) : result;
        return new String[]{replica, Long.toString(chainSeq), prevHash, time, kind, sessionId, str(statementId),
                p.clientAddress(), p.upstream(), p.issuer(), p.subject(), q.protocol(), q.statement(), q.parameters(),
                q.preparedName(), q.portal(), r.outcome(), r.sqlState(), r.commandTag(), str(r.rowCount()),
                str(r.durationMicros()), detail,
                response == null ? null : Long.toString(response.bytes()),
                response == null ? null : response.sha256(),
                response == null ? null : response.truncated() ? "1" : "0",
                response == null ? null : RecordHash.blobDigest(response.deflated())};
    }

    /**
     * {@link RecordHash#tail} of {@link #hashedValues}: everything the hash covers except the record's place in the
     * chain. Computed on the producer's thread (it includes the SHA-256 of a recorded response, up to 8 MiB).
     */
    byte[] hashTail() {
        return RecordHash.tail(hashedValues(null, 0, null), RecordHash.CHAIN_COLUMNS);
    }

    /**
     * What the producer's thread encodes for the writer: {@link #hashTail()} and, when the store journals, the
     * record's journal frame body ({@link AuditJournal#body}), both from one UTF-8 encoding of each value, so the
     * journal writer only hashes and copies bytes.
     */
    record Encoded(byte[] hashTail, byte[] journalBody) {
    }

    Encoded encode(boolean journal) {
        byte[][] utf8 = RecordHash.utf8(hashedValues(null, 0, null));
        return new Encoded(RecordHash.tail(utf8, RecordHash.CHAIN_COLUMNS),
                journal ? AuditJournal.body(this, utf8) : null);
    }

    private static String str(Long value) {
        return value == null ? null : value.toString();
    }

    private static String lower(Enum<?> value) {
        return value == null ? null : LOWER_NAMES.get(value.getDeclaringClass())[value.ordinal()];
    }

    /** Each enum's constant names in lower case, made once per enum rather than once per record. */
    private static final ClassValue<String[]> LOWER_NAMES = new ClassValue<>() {
        @Override
        protected String[] computeValue(Class<?> type) {
            Object[] constants = type.getEnumConstants();
            String[] names = new String[constants.length];
            for (int i = 0; i < names.length; i++) {
                names[i] = ((Enum<?>) constants[i]).name().toLowerCase(Locale.ROOT);
            }
            return names;
        }
    };

    /** A JSON array of strings and nulls; null when the statement had no parameter list at all. */
    private static String parameters(List<String> parameters) {
        return parameters == null ? null : JsonArray.ofStrings(parameters);
    }

    /** The fields with no column of their own, as one JSON object; absent values are left out. */
    private static String detail(Object... namesAndValues) {
        boolean any = false;
        for (int i = 1; i < namesAndValues.length && !any; i += 2) {
            any = namesAndValues[i] != null;
        }
        if (!any) {
            return null; // the common case for a statement's records: no map, no JSON
        }
        var fields = new LinkedHashMap<String, Object>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (namesAndValues[i + 1] != null) {
                fields.put((String) namesAndValues[i], namesAndValues[i + 1]);
            }
        }
        if (fields.isEmpty()) {
            return null;
        }
        String byHand = JsonArray.ofStringFields(fields);
        return byHand != null ? byHand : json(fields);
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            // Only strings, numbers and booleans reach here, so this is a bug, not bad input. The message of a
            // Jackson exception can quote the value, so it is not passed on.
            throw new IllegalStateException("cannot render audit field as JSON (" + e.getClass().getSimpleName() + ")");
        }
    }
}
