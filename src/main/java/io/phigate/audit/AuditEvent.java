package io.phigate.audit;

import java.time.Instant;
import java.util.List;

/**
 * One fact the gateway must be able to prove later. Protocol-neutral: the PostgreSQL side (and later MySQL)
 * translates its messages into these. Records that carry statement text or parameters never print them.
 */
public sealed interface AuditEvent {
    Instant time();

    String sessionId();

    /**
     * A client finished authentication and the upstream session is open. {@code startupParameters} are those the
     * client sent and the gateway passed upstream (application_name, options, search_path, ...): they can change
     * what the session may do, so they are evidence. {@code role} is the policy role the session runs under (null
     * when the policy has no roles); {@code justification} is why the agent said it needs the data, if it said so
     * at connect; {@code upstreamUser} is the database user the session logs in as when that is an ephemeral one.
     */
    record SessionStarted(Instant time, String sessionId, String clientAddress, String upstream, String issuer,
                          String subject, String claimsDigest, String startupUser,
                          java.util.Map<String, String> startupParameters, String tls, String role,
                          String justification, String upstreamUser) implements AuditEvent {
        public SessionStarted(Instant time, String sessionId, String clientAddress, String upstream, String issuer,
                              String subject, String claimsDigest, String startupUser,
                              java.util.Map<String, String> startupParameters, String tls) {
            this(time, sessionId, clientAddress, upstream, issuer, subject, claimsDigest, startupUser,
                    startupParameters, tls, null, null, null);
        }
    }

    /** A connection that never became a session: bad token, unknown upstream, protocol violation, timeout, limit. */
    record ConnectionRefused(Instant time, String sessionId, String clientAddress, String upstream, String issuer,
                             String subject, String sqlState, String reason) implements AuditEvent {
    }

    /**
     * Written, and durable, before the statement is forwarded upstream. {@code justification} is the session's
     * justification when the statement was requested (null: none given).
     */
    /**
     * A statement about to be forwarded. {@code tables} (relations it reads or writes) and {@code phiColumns} (the
     * tagged columns its results derive from, with their PHI types, and the masked columns it looks up by equality,
     * as {@code lookup:TYPE}: {@code ssn,lookup:ssn} when both) come from the gateway's analysis of the statement,
     * and are null when the session's policy does not analyse statements.
     */
    record StatementRequested(Instant time, String sessionId, long statementId, String clientAddress, String upstream,
                              String issuer, String subject, Protocol protocol, String text, List<String> parameters,
                              String preparedName, String portal, String justification, List<String> tables,
                              java.util.Map<String, String> phiColumns) implements AuditEvent {
        public StatementRequested(Instant time, String sessionId, long statementId, String clientAddress,
                                  String upstream, String issuer, String subject, Protocol protocol, String text,
                                  List<String> parameters, String preparedName, String portal) {
            this(time, sessionId, statementId, clientAddress, upstream, issuer, subject, protocol, text, parameters,
                    preparedName, portal, null, null, null);
        }

        public StatementRequested(Instant time, String sessionId, long statementId, String clientAddress,
                                  String upstream, String issuer, String subject, Protocol protocol, String text,
                                  List<String> parameters, String preparedName, String portal, String justification) {
            this(time, sessionId, statementId, clientAddress, upstream, issuer, subject, protocol, text, parameters,
                    preparedName, portal, justification, null, null);
        }

        @Override
        public String toString() {
            return "StatementRequested[session=" + sessionId + ", statement=" + statementId + ", protocol=" + protocol
                    + ", textLength=" + (text == null ? 0 : text.length())
                    + ", parameters=" + (parameters == null ? 0 : parameters.size()) + "]";
        }
    }

    /**
     * What happened to a requested statement. {@code response} is the response as the client received it, or null
     * when response recording is off. {@code masking} names each PHI output column with its PHI type and the
     * operator applied ({@code ssn(ssn)=redact, first(name)=token, dob(date)=none}, {@code none} when the role sees
     * the type unmasked), or why the statement was refused; null when no result carried PHI. See
     * {@link MaskingSummary}.
     */
    record StatementCompleted(Instant time, String sessionId, long statementId, Outcome outcome, String sqlState,
                              String commandTag, long rows, long durationMicros, RecordedResponse response,
                              String masking)
            implements AuditEvent {
        public StatementCompleted(Instant time, String sessionId, long statementId, Outcome outcome, String sqlState,
                                  String commandTag, long rows, long durationMicros) {
            this(time, sessionId, statementId, outcome, sqlState, commandTag, rows, durationMicros, null, null);
        }

        public StatementCompleted(Instant time, String sessionId, long statementId, Outcome outcome, String sqlState,
                                  String commandTag, long rows, long durationMicros, RecordedResponse response) {
            this(time, sessionId, statementId, outcome, sqlState, commandTag, rows, durationMicros, response, null);
        }
    }

    /**
     * A response as delivered: {@code bytes} delivered in all, {@code sha256} (hex) over all of them, and the first
     * of them kept deflated; {@code truncated} when more was delivered than kept. Carries PHI: never printed.
     */
    record RecordedResponse(long bytes, String sha256, byte[] deflated, boolean truncated) {
        @Override
        public String toString() {
            return "RecordedResponse[bytes=" + bytes + ", truncated=" + truncated + "]";
        }
    }

    /** A session ended, for whatever reason. */
    record SessionEnded(Instant time, String sessionId, String reason, long statements, long durationMillis)
            implements AuditEvent {
    }

    /** A client asked to cancel a running statement. {@code matched} says whether the key named a live session. */
    record CancelRequested(Instant time, String sessionId, String clientAddress, boolean matched) implements AuditEvent {
    }

    /**
     * A statement needs human approval, and a request was opened for it. Durable before the client is told.
     * {@code statementSha256} binds the request to the exact statement: SHA-256 over its text and parameters
     * (see {@code approval.StatementHash}). {@code statementId} is the session's statement the request is for.
     */
    record ApprovalRequested(Instant time, String sessionId, long statementId, String approvalId, String upstream,
                             String issuer, String subject, String text, List<String> parameters,
                             String statementSha256, String rule, String group, int approversNeeded, String mode,
                             Instant expiresAt, List<String> tables, String justification, List<String> phiTypes,
                             Long rowEstimate) implements AuditEvent {
        @Override
        public String toString() {
            return "ApprovalRequested[session=" + sessionId + ", approval=" + approvalId + ", rule=" + rule
                    + ", textLength=" + (text == null ? 0 : text.length()) + "]";
        }
    }

    /**
     * What became of an approval request: {@code approved} or {@code denied} by one approver (issuer and subject
     * are the approver's), {@code expired}, {@code withdrawn} (cancel or disconnect), or {@code used} when the
     * approved statement was released upstream as statement {@code statementId} of session {@code sessionId}.
     */
    record ApprovalDecided(Instant time, String sessionId, Long statementId, String approvalId, String decision,
                           String issuer, String subject, String reason, String statementSha256) implements AuditEvent {
    }

    /**
     * Something a person did in the web console that an auditor will ask about: signing in (or failing to), ending
     * a session, exporting records (PHI), starting a verification. {@code issuer}/{@code subject} are the person's
     * (null for a failed sign-in whose token did not verify); {@code target} is what it acted on (a session id, an
     * export's filter); {@code sessionId} is the gateway session acted on, if any, so that a kill shows in that
     * session's history. Decisions on approvals are {@link ApprovalDecided} records instead.
     */
    record ConsoleAction(Instant time, String clientAddress, String issuer, String subject, String action,
                         String outcome, String sessionId, String target) implements AuditEvent {
    }

    /**
     * The gateway was told to stop (SIGTERM) and drained: {@code phase} "started" when it stopped accepting with
     * {@code sessions} open and {@code grace} to let them finish, "finished" when it closed the store, with
     * {@code sessions} the number it then had to end (each also has its own {@code session_ended} record). An
     * auditor reading a chain's end sees why it ended there.
     */
    record GatewayDrain(Instant time, String phase, int sessions, java.time.Duration grace) implements AuditEvent {
        @Override
        public String sessionId() {
            return null;
        }
    }

    /** How a statement arrived: PostgreSQL's simple or extended protocol or a function call; a document-store command. */
    enum Protocol { SIMPLE, EXTENDED, FUNCTION_CALL, OP_MSG }

    enum Outcome {
        /** Completed upstream. */
        OK,
        /** Upstream answered with an error. */
        ERROR,
        /** The gateway refused it; it never reached the database. */
        REFUSED,
        /** Never executed: an earlier message in the same extended-protocol batch failed. */
        SKIPPED,
        /** The session ended before the statement completed. */
        ABORTED
    }
}
