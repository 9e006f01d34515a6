package io.phigate.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * Reads the audit store: statement search, session replay and the row streams behind export. Every call takes
 * its own connection from the data source and only reads, so it runs beside a live gateway (SQLite WAL readers
 * never block the writer) or offline on a copy.
 *
 * <p>The SQL is kept to what SQLite and PostgreSQL both accept (LIKE with ESCAPE, lower(), correlated
 * subqueries, LIMIT), so the PostgreSQL store can reuse it. Free text is a case-insensitive substring match,
 * served by an index in each store (an FTS5 trigram table in SQLite, a pg_trgm GIN index in PostgreSQL; decision
 * 0015) without changing what is found.
 *
 * <p>Results carry statement text and bound parameters, which are PHI: no {@code toString} here prints them.
 *
 * <p>The records and the public calls are here; the SQL is in one class per question: {@link StatementSearch},
 * {@link SessionRecords}, {@link ApprovalRecords}, {@link RecordStreams} (export), {@link StoreOverview} (console
 * overview and evidence) and {@link Recordings}, over the connection and key in {@link StoreReader}.
 */
public final class AuditQueries {

    /** The largest page a caller may ask for: bounds the memory one request can take. */
    public static final int MAX_LIMIT = 1000;

    /** Statement outcomes as the store writes them, plus {@code incomplete}: requested, never completed. */
    public static final Set<String> OUTCOMES = Set.of("ok", "error", "refused", "skipped", "aborted", "incomplete");

    /**
     * The columns of {@code audit_event} that searches and exports carry, in table order. The recorded response
     * itself (the {@code response} blob) is left out: it is PHI at full size; its digest, size and truncation are in.
     */
    public static final List<String> COLUMNS = List.of("seq", "time", "kind", "session_id", "statement_id",
            "client_address", "upstream", "issuer", "subject", "protocol", "statement", "parameters", "prepared_name",
            "portal", "outcome", "sqlstate", "command_tag", "row_count", "duration_us", "detail", "replica",
            "chain_seq", "prev_hash", "hash", "response_digest", "response_bytes", "response_truncated");


    /**
     * What to look for; null fields match anything. {@code subject} is exact, or a prefix when it ends in
     * {@code *}. {@code kind} is the statement's command as its command tag starts ({@code SELECT}, {@code INSERT}).
     * {@code since} is inclusive, {@code until} exclusive. {@code text} is whitespace-separated words, or phrases in
     * double quotes, that must all occur in the statement text as substrings, case-insensitively; {@code %} and
     * {@code _} in them are literal.
     */
    public record Filter(String subject, String issuer, String sessionId, String upstream, String outcome, String kind,
                         Instant since, Instant until, String text, String table, String column, String phiType,
                         String approval) {
        public static final Filter ANY = new Filter(null, null, null, null, null, null, null, null, null);

        public Filter(String subject, String issuer, String sessionId, String upstream, String outcome, String kind,
                      Instant since, Instant until, String text) {
            this(subject, issuer, sessionId, upstream, outcome, kind, since, until, text, null, null, null, null);
        }

        /** Statements that read or wrote this table ({@code schema.table}, or a bare name in any schema). */
        public Filter withTable(String v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, since, until, text, v, column, phiType, approval);
        }

        /** Statements whose results carried this PHI column ({@code schema.table.column}). */
        public Filter withColumn(String v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, since, until, text, table, v, phiType, approval);
        }

        /** Statements whose results carried PHI of this type ({@code ssn}, {@code name}, ...). */
        public Filter withPhiType(String v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, since, until, text, table, column, v, approval);
        }

        /** Only the statements approval request {@code v} released (its "used" records name them). */
        public Filter withApproval(String v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, since, until, text, table, column,
                    phiType, v);
        }

        /**
         * Filters on twelve criteria, {@code approval} not among them; the full form adds it (see
         * {@link #withApproval}).
         */
        public Filter(String subject, String issuer, String sessionId, String upstream, String outcome, String kind,
                      Instant since, Instant until, String text, String table, String column, String phiType) {
            this(subject, issuer, sessionId, upstream, outcome, kind, since, until, text, table, column, phiType, null);
        }

        public Filter {
            if (outcome != null && !OUTCOMES.contains(outcome)) {
                throw new IllegalArgumentException("outcome must be one of " + String.join(", ",
                        OUTCOMES.stream().sorted().toList()) + ", got \"" + outcome + "\"");
            }
            if (since != null && until != null && !since.isBefore(until)) {
                throw new IllegalArgumentException("since must be before until");
            }
        }

        public Filter withSubject(String v) {
            return new Filter(v, issuer, sessionId, upstream, outcome, kind, since, until, text, table, column, phiType, approval);
        }

        public Filter withIssuer(String v) {
            return new Filter(subject, v, sessionId, upstream, outcome, kind, since, until, text, table, column, phiType, approval);
        }

        public Filter withSession(String v) {
            return new Filter(subject, issuer, v, upstream, outcome, kind, since, until, text, table, column, phiType, approval);
        }

        public Filter withUpstream(String v) {
            return new Filter(subject, issuer, sessionId, v, outcome, kind, since, until, text, table, column, phiType, approval);
        }

        public Filter withOutcome(String v) {
            return new Filter(subject, issuer, sessionId, upstream, v, kind, since, until, text, table, column, phiType, approval);
        }

        public Filter withKind(String v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, v, since, until, text, table, column, phiType, approval);
        }

        public Filter withSince(Instant v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, v, until, text, table, column, phiType, approval);
        }

        public Filter withUntil(Instant v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, since, v, text, table, column, phiType, approval);
        }

        /** The words searched for are PHI as much as the statements they match. */
        public Filter withText(String v) {
            return new Filter(subject, issuer, sessionId, upstream, outcome, kind, since, until, v, table, column, phiType, approval);
        }

        @Override
        public String toString() {
            return "Filter[subject=" + subject + ", issuer=" + issuer + ", session=" + sessionId + ", upstream="
                    + upstream + ", outcome=" + outcome + ", kind=" + kind + ", since=" + since + ", until=" + until
                    + ", textLength=" + (text == null ? 0 : text.length()) + ", approval=" + approval + "]";
        }
    }

    /**
     * One page of a search: at most {@code limit} statements after the one numbered {@code after} (0: from the
     * start), oldest first, or newest first when {@code newestFirst} (the console's order; then "after" is older).
     */
    public record Page(int limit, long after, boolean newestFirst) {
        public static final Page FIRST_100 = new Page(100, 0);

        public Page(int limit, long after) {
            this(limit, after, false);
        }

        public Page {
            if (limit < 1 || limit > MAX_LIMIT) {
                throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
            }
            if (after < 0) {
                throw new IllegalArgumentException("after must be a sequence number (0 or more), got " + after);
            }
        }
    }

    /**
     * One statement: its request joined with its completion. Completion fields are null while (or if never)
     * completed. {@code parameters} is null when the statement had no parameter list; entries may be null (SQL
     * NULL). {@code seq} and {@code hash} are the request record's, the sequence number to page on.
     */
    public record Statement(long seq, String time, String sessionId, long statementId, String clientAddress,
                            String upstream, String issuer, String subject, String protocol, String text,
                            List<String> parameters, String preparedName, String portal, String hash,
                            Long completionSeq, String completedTime, String outcome, String sqlState,
                            String commandTag, Long rows, Long durationMicros, String completionHash,
                            String refusalReason) {

        /** Field name to value, as the JSON outputs (CLI and HTTP) give them; parameters as a list. */
        public Map<String, Object> fields() {
            var m = new LinkedHashMap<String, Object>();
            m.put("seq", seq);
            m.put("time", time);
            m.put("session_id", sessionId);
            m.put("statement_id", statementId);
            m.put("client_address", clientAddress);
            m.put("upstream", upstream);
            m.put("issuer", issuer);
            m.put("subject", subject);
            m.put("protocol", protocol);
            m.put("statement", text);
            m.put("parameters", parameters);
            m.put("prepared_name", preparedName);
            m.put("portal", portal);
            m.put("completed_time", completedTime);
            m.put("outcome", outcome);
            m.put("sqlstate", sqlState);
            if (refusalReason != null) {
                m.put("reason", refusalReason);
            }
            m.put("command_tag", commandTag);
            m.put("row_count", rows);
            m.put("duration_us", durationMicros);
            m.put("hash", hash);
            m.put("completion_seq", completionSeq);
            m.put("completion_hash", completionHash);
            return m;
        }

        @Override
        public String toString() {
            return "Statement[seq=" + seq + ", session=" + sessionId + ", statement=" + statementId + ", outcome="
                    + outcome + ", textLength=" + (text == null ? 0 : text.length()) + ", parameters="
                    + (parameters == null ? 0 : parameters.size()) + "]";
        }
    }

    /** One search page; {@code nextAfter} is the value of {@link Page#after()} for the next page, null at the end. */
    public record StatementPage(List<Statement> statements, Long nextAfter) {
    }

    /** One {@code audit_event} row, every column as the store keeps it (the hash covers these exact values). */
    public record Event(long seq, String time, String kind, String sessionId, Long statementId, String clientAddress,
                        String upstream, String issuer, String subject, String protocol, String statement,
                        String parameters, String preparedName, String portal, String outcome, String sqlState,
                        String commandTag, Long rowCount, Long durationMicros, String detail, String replica,
                        Long chainSeq, String prevHash, String hash, String responseDigest, Long responseBytes,
                        Long responseTruncated) {

        /** Column name to value, in {@link #COLUMNS} order. */
        public Map<String, Object> columns() {
            Object[] values = {seq, time, kind, sessionId, statementId, clientAddress, upstream, issuer, subject,
                    protocol, statement, parameters, preparedName, portal, outcome, sqlState, commandTag, rowCount,
                    durationMicros, detail, replica, chainSeq, prevHash, hash, responseDigest, responseBytes,
                    responseTruncated};
            var map = new LinkedHashMap<String, Object>();
            for (int i = 0; i < values.length; i++) {
                map.put(COLUMNS.get(i), values[i]);
            }
            return map;
        }

        /** The bound parameters as a list (entries may be null), or null when there was no parameter list. */
        public List<String> parameterList() throws SQLException {
            return StoreReader.parseParameters(parameters, seq);
        }

        @Override
        public String toString() {
            return "Event[seq=" + seq + ", kind=" + kind + ", session=" + sessionId + ", statement=" + statementId
                    + ", outcome=" + outcome + ", textLength=" + (statement == null ? 0 : statement.length()) + "]";
        }
    }

    /** Receives rows one at a time, so an export of millions of rows needs no more memory than one. */
    @FunctionalInterface
    public interface EventSink {
        void accept(Event event) throws IOException;
    }

    /**
     * Receives each record with, for a statement request, its completion (null while incomplete). Completions
     * are folded into their requests and not passed on their own unless their request is missing.
     */
    @FunctionalInterface
    public interface ActivitySink {
        void accept(Event event, Event completion) throws IOException;
    }

    /** What a caller without the key sees in place of sealed parameters. */
    public static final String SEALED = "[encrypted]";

    private final StoreReader store;
    private final StatementSearch statements;
    private final SessionRecords sessions;
    private final ApprovalRecords approvals;
    private final RecordStreams streams;
    private final StoreOverview overview;
    private final Recordings recordings;

    /** Over any store reachable through JDBC with the {@code audit_event} table. */
    public AuditQueries(DataSource source) {
        this(source::getConnection, null);
    }

    private AuditQueries(StoreReader.ConnectionSource connections, PayloadCipher cipher) {
        this.store = new StoreReader(connections, cipher);
        this.statements = new StatementSearch(store);
        this.sessions = new SessionRecords(store);
        this.approvals = new ApprovalRecords(store);
        this.streams = new RecordStreams(store);
        this.overview = new StoreOverview(store);
        this.recordings = new Recordings(store);
    }

    /**
     * The same store, running {@code barrier} before each query: the gateway passes "wait until the store holds
     * every acknowledged record", so its own readers see what its sessions were told is recorded.
     */
    public AuditQueries waitingFor(Runnable barrier) {
        StoreReader.ConnectionSource inner = store.connections();
        return new AuditQueries(() -> {
            barrier.run();
            return inner.get();
        }, store.cipher);
    }

    /** The same store, opening sealed parameters with {@code cipher} (for callers that hold the audit key). */
    public AuditQueries withCipher(PayloadCipher cipher) {
        return new AuditQueries(store.connections(), cipher);
    }

    /** Over the store {@code config} names: the SQLite file, or the PostgreSQL database as the configured role. */
    public static AuditQueries of(AuditConfig config) {
        if (config.postgres() == null) {
            return sqlite(config.sqlitePath());
        }
        var server = config.postgres();
        return new AuditQueries((StoreReader.ConnectionSource) () -> {
            try {
                return PostgresSchema.connect(server);
            } catch (java.io.IOException e) {
                throw new SQLException("audit store password cannot be read: " + e.getMessage(), e);
            }
        }, null);
    }

    /** Over an SQLite store file, read-only; fails on first use when there is no such file. */
    public static AuditQueries sqlite(Path file) {
        var config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(5_000);
        var ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
        return new AuditQueries((StoreReader.ConnectionSource) () -> {
            // Without this check SQLite would report a read-only open of a missing file less clearly.
            if (!Files.isRegularFile(file)) {
                throw new SQLException("no audit store at " + file);
            }
            return ds.getConnection();
        }, null);
    }

    /**
     * Statements matching {@code filter}, in time order (sequence number breaks ties; newest first when the page
     * asks), one page at a time. A refused statement carries its completion's reason.
     */
    public StatementPage search(Filter filter, Page page) throws SQLException {
        return statements.search(filter, page);
    }

    /**
     * The chain of one approval request in the order things happened: its {@code approval_requested} record, each
     * {@code approval_decided} (approvals, denials, expiry, withdrawal, use), and the request and completion records
     * of every statement it released. Empty when there is no such request.
     */
    public List<Event> approvalChain(String approvalId) throws SQLException {
        return approvals.approvalChain(approvalId);
    }

    /**
     * The {@code approval_requested} records of chain {@code replica} since {@code since} whose request was never
     * denied, expired, withdrawn or used, oldest first: the requests a gateway process held open when it stopped.
     * Decisions count from every chain: among replicas another may have denied or expired the request.
     */
    public List<Event> openApprovals(String replica, Instant since) throws SQLException, IOException {
        return approvals.openApprovals(replica, since);
    }

    /**
     * The session ids that are {@code prefix} or start with it, in order, at most {@code limit} of them: what a
     * command line resolves a pasted id prefix against (as git resolves an abbreviated commit).
     */
    public List<String> sessionIds(String prefix, int limit) throws SQLException {
        return sessions.sessionIds(prefix, limit);
    }

    /**
     * Every record of one session in the order things happened (time, then sequence number): its start, each
     * request and completion, cancels, its end. Empty when there is no such session.
     */
    public List<Event> session(String sessionId) throws SQLException {
        return sessions.session(sessionId);
    }

    /**
     * One page of a session's records in chain order: at most {@code limit} records after {@code afterSeq}. A
     * session can hold millions of statements; the console pages through it with this.
     */
    public List<Event> session(String sessionId, long afterSeq, int limit) throws SQLException {
        return sessions.session(sessionId, afterSeq, limit);
    }

    /** One record by its sequence number, or null. */
    public Event event(long seq) throws SQLException {
        return sessions.event(seq);
    }

    /**
     * The start and end records of one session (time order), without its statements: what a report needs about a
     * session that began or ended outside the period it covers, at the cost of two rows however long the session.
     */
    public List<Event> sessionBounds(String sessionId) throws SQLException {
        return sessions.sessionBounds(sessionId);
    }

    /** Statements requested and refused in one minute ({@code minute} is {@code YYYY-MM-DDTHH:MM}, UTC). */
    public record MinuteCount(String minute, long requested, long refused) {
    }

    /** Per minute since {@code since}: statements requested, and statements the gateway refused. */
    public List<MinuteCount> perMinute(Instant since) throws SQLException {
        return overview.perMinute(since);
    }

    /** Where one replica's evidence stands: records chained, the newest checkpoint note, the last archive cut. */
    public record ReplicaState(String replica, long records, String oldestTime, String newestTime,
                               String checkpointNote, Long archivedUpTo, String archivedAt) {
    }

    /**
     * Per replica: how many chained records, the oldest and newest record time, the newest signed checkpoint (its
     * note, for the caller to check against the public key) and the last archive cut. Tables an older store lacks
     * read as empty.
     */
    public List<ReplicaState> replicaStates() throws SQLException {
        return overview.replicaStates();
    }

    /** Records older than {@code before}: those retention lets the archive take. */
    public long countBefore(Instant before) throws SQLException {
        return overview.countBefore(before);
    }

    /** A statement whose results carried PHI: who ran it, its completion's detail and the rows it delivered. */
    public interface PhiReadSink {
        void accept(String issuer, String subject, String completionDetail, long rows) throws IOException;
    }

    /**
     * The completed statements since {@code since} whose results carried PHI (the completion names masked or
     * unmasked PHI columns), newest first, at most {@code max} of them (the overview counts a recent window, never
     * the whole store). A statement that only references PHI (a filter, an aggregate, a DECLARE) is not one.
     */
    public void phiReads(Instant since, int max, PhiReadSink sink) throws SQLException, IOException {
        overview.phiReads(since, max, sink);
    }

    /**
     * The recorded response of the completion record {@code seq}, inflated: the bytes the client received (the
     * first {@code audit.response_cap} of them). Null when nothing was recorded; {@link SealedException} when the
     * recording is sealed and this caller holds no key.
     */
    public byte[] response(long seq) throws SQLException, SealedException {
        return recordings.response(seq);
    }

    /** A recording is sealed and the caller holds no key. */
    public static final class SealedException extends Exception {
        SealedException() {
            super("the recording is sealed; run with --config and a readable audit encryption key");
        }
    }

    /** Every record with {@code since <= time < until} (either may be null), in sequence (chain) order. */
    public void events(Instant since, Instant until, EventSink sink) throws SQLException, IOException {
        streams.events(since, until, sink);
    }

    /**
     * Every record in the time range in sequence order, with each statement request paired with its completion
     * (found whatever its time). A completion is passed alone only when its request is not in the store.
     */
    public void activities(Instant since, Instant until, ActivitySink sink) throws SQLException, IOException {
        streams.activities(since, until, sink);
    }

    /**
     * A time as people type it on a command line or in a URL: {@code now}, an instant
     * ({@code 2025-03-04T05:06:07Z}), a UTC date ({@code 2025-03-04}, its midnight) or an age in the config's
     * duration forms with a unit ({@code 90m}, {@code 24h}, {@code 7d}, {@code 30s}: that long ago).
     */
    public static Instant parseTime(String text, Clock clock) {
        return PastTimes.parseTime(text, clock);
    }
}
