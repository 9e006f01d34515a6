package io.phigate.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    private static final String SELECT_EVENT = String.join(", ", COLUMNS);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

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

    /** At most {@code limit} results after the statement whose request has sequence number {@code after} (0: from the start). */
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
            return parseParameters(parameters, seq);
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

    private final ConnectionSource connections;

    /** What a caller without the key sees in place of sealed parameters. */
    public static final String SEALED = "[encrypted]";

    /** Opens sealed parameters for callers that hold the key; null shows them as {@link #SEALED}. */
    private final PayloadCipher cipher;

    /** Over any store reachable through JDBC with the {@code audit_event} table. */
    public AuditQueries(DataSource source) {
        this(source::getConnection, null);
    }

    private AuditQueries(ConnectionSource connections, PayloadCipher cipher) {
        this.connections = connections;
        this.cipher = cipher;
    }

    /**
     * The same store, running {@code barrier} before each query: the gateway passes "wait until the store holds
     * every acknowledged record", so its own readers see what its sessions were told is recorded.
     */
    public AuditQueries waitingFor(Runnable barrier) {
        ConnectionSource inner = connections;
        return new AuditQueries(() -> {
            barrier.run();
            return inner.get();
        }, cipher);
    }

    /** The same store, opening sealed parameters with {@code cipher} (for callers that hold the audit key). */
    public AuditQueries withCipher(PayloadCipher cipher) {
        return new AuditQueries(connections, cipher);
    }

    /** Sealed parameters opened when this caller holds the key, else left sealed (shown as {@link #SEALED}). */
    private String open(String parameters, long seq) throws SQLException {
        if (cipher == null || !PayloadCipher.isSealed(parameters)) {
            return parameters;
        }
        try {
            return cipher.openText(parameters, "parameters");
        } catch (java.security.GeneralSecurityException e) {
            throw new SQLException("audit record " + seq + ": " + e.getMessage());
        }
    }

    /** Over the store {@code config} names: the SQLite file, or the PostgreSQL database as the configured role. */
    public static AuditQueries of(AuditConfig config) {
        if (config.postgres() == null) {
            return sqlite(config.sqlitePath());
        }
        var server = config.postgres();
        return new AuditQueries((ConnectionSource) () -> {
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
        return new AuditQueries((ConnectionSource) () -> {
            // Without this check SQLite would report a read-only open of a missing file less clearly.
            if (!Files.isRegularFile(file)) {
                throw new SQLException("no audit store at " + file);
            }
            return ds.getConnection();
        }, null);
    }

    /** A {@link DataSource} reduced to the one method used here. */
    @FunctionalInterface
    private interface ConnectionSource {
        Connection get() throws SQLException;
    }

    /**
     * Statements matching {@code filter}, in time order (sequence number breaks ties; newest first when the page
     * asks), one page at a time. A refused statement carries its completion's reason.
     */
    public StatementPage search(Filter filter, Page page) throws SQLException {
        try (Connection c = connections.get()) {
            return search(c, filter, page);
        }
    }

    private StatementPage search(Connection c, Filter filter, Page page) throws SQLException {
        var sql = new StringBuilder("""
                SELECT r.seq, r.time, r.session_id, r.statement_id, r.client_address, r.upstream, r.issuer,
                    r.subject, r.protocol, r.statement, r.parameters, r.prepared_name, r.portal, r.hash,
                    c.seq, c.time, c.outcome, c.sqlstate, c.command_tag, c.row_count, c.duration_us, c.hash,
                    CASE WHEN c.outcome = 'refused' THEN c.detail END
                FROM audit_event r
                LEFT JOIN audit_event c ON c.seq = (
                    SELECT min(x.seq) FROM audit_event x WHERE x.kind = 'statement_completed'
                        AND x.session_id = r.session_id AND x.statement_id = r.statement_id)
                WHERE r.kind = 'statement_requested'""");
        var args = new ArrayList<Object>();
        if (filter.subject() != null) {
            if (filter.subject().endsWith("*")) {
                sql.append(" AND r.subject LIKE ? ESCAPE '\\'");
                args.add(escapeLike(filter.subject().substring(0, filter.subject().length() - 1)) + "%");
            } else {
                sql.append(" AND r.subject = ?");
                args.add(filter.subject());
            }
        }
        equal(sql, args, "r.issuer", filter.issuer());
        equal(sql, args, "r.session_id", filter.sessionId());
        equal(sql, args, "r.upstream", filter.upstream());
        if ("incomplete".equals(filter.outcome())) {
            sql.append(" AND c.seq IS NULL");
        } else {
            equal(sql, args, "c.outcome", filter.outcome());
        }
        if (filter.kind() != null) {
            // A command tag is the command, then counts: "SELECT 3", "INSERT 0 1", "BEGIN".
            String command = filter.kind().strip().toUpperCase(Locale.ROOT);
            sql.append(" AND (c.command_tag = ? OR c.command_tag LIKE ? ESCAPE '\\')");
            args.add(command);
            args.add(escapeLike(command) + " %");
        }
        if (filter.since() != null) {
            sql.append(" AND r.time >= ?");
            args.add(AuditRow.TIME.format(filter.since()));
        }
        if (filter.until() != null) {
            sql.append(" AND r.time < ?");
            args.add(AuditRow.TIME.format(filter.until()));
        }
        // What a statement touched is in its request record's detail JSON (written by the gateway from the parsed
        // statement): "tables": ["public.patients"], "phi_columns": {"public.patients.ssn": "ssn"}.
        if (filter.table() != null) {
            String t = filter.table().strip().toLowerCase(Locale.ROOT);
            sql.append(" AND r.detail LIKE ? ESCAPE '\\'");
            args.add(t.contains(".") ? "%\"" + escapeLike(t) + "\"%" : "%." + escapeLike(t) + "\"%");
        }
        if (filter.column() != null) {
            sql.append(" AND r.detail LIKE ? ESCAPE '\\'");
            args.add("%\"" + escapeLike(filter.column().strip().toLowerCase(Locale.ROOT)) + "\":%");
        }
        if (filter.phiType() != null) {
            sql.append(" AND r.detail LIKE ? ESCAPE '\\'");
            args.add("%\":\"" + escapeLike(filter.phiType().strip().toLowerCase(Locale.ROOT)) + "\"%");
        }
        if (filter.approval() != null) {
            // Released statements are named by the request's "used" records: same session and statement id.
            sql.append(" AND EXISTS (SELECT 1 FROM audit_event u WHERE u.kind = 'approval_decided'"
                    + " AND u.session_id = r.session_id AND u.statement_id = r.statement_id"
                    + " AND u.outcome = 'used' AND u.detail LIKE ? ESCAPE '\\')");
            args.add(approvalIdLike(filter.approval()));
        }
        String textMatch = null;
        List<String> textIndexes = List.of();
        if (filter.text() != null) {
            List<String> terms = terms(filter.text());
            // The FTS5 trigram index narrows the candidates; the LIKE below still decides, so the result is the
            // same with or without the index (an old file not yet opened by a gateway has none) and on both stores.
            // PostgreSQL's pg_trgm index serves the LIKE itself. Terms under three characters have no trigram.
            List<String> indexed = terms.stream().filter(t -> t.codePointCount(0, t.length()) >= 3).toList();
            textIndexes = indexed.isEmpty() ? List.of() : sqliteTextIndexes(c);
            if (!textIndexes.isEmpty()) {
                // Materialised once: left as a plain IN, SQLite may walk the time index and run the MATCH again for
                // every row, which costs seconds when the terms are common (every statement has "select"). Records
                // name their text by text_id (decision 0060); those of a schema 4 file are in its per-record index.
                textMatch = trigramMatch(indexed);
                var hits = new ArrayList<String>();
                for (String index : textIndexes) {
                    hits.add(index.equals(StatementTexts.INDEX) ? "r.text_id IN (SELECT rowid FROM text_hits)"
                            : "r.seq IN (SELECT rowid FROM legacy_hits)");
                }
                sql.append(" AND (").append(String.join(" OR ", hits)).append(")");
            }
            for (String term : terms) {
                sql.append(" AND lower(r.statement) LIKE ? ESCAPE '\\'");
                args.add("%" + escapeLike(term.toLowerCase(Locale.ROOT)) + "%");
            }
        }
        String later = page.newestFirst() ? "<" : ">";
        if (page.after() > 0) {
            // Keyset on (time, seq), named by seq alone: stable however many rows arrive meanwhile.
            sql.append(" AND (r.time " + later + " (SELECT a.time FROM audit_event a WHERE a.seq = ?)"
                    + " OR (r.time = (SELECT a.time FROM audit_event a WHERE a.seq = ?) AND r.seq " + later + " ?))");
            args.add(page.after());
            args.add(page.after());
            args.add(page.after());
        }
        sql.append(page.newestFirst() ? " ORDER BY r.time DESC, r.seq DESC LIMIT ?" : " ORDER BY r.time, r.seq LIMIT ?");
        args.add(page.limit() + 1);
        if (textMatch != null) {
            var with = new ArrayList<String>();
            for (String index : textIndexes) {
                with.add((index.equals(StatementTexts.INDEX) ? "text_hits" : "legacy_hits")
                        + " AS MATERIALIZED (SELECT rowid FROM " + index + " WHERE " + index + " MATCH ?)");
                args.addFirst(textMatch);
            }
            sql.insert(0, "WITH " + String.join(", ", with) + "\n");
        }

        var found = new ArrayList<Statement>();
        try (PreparedStatement q = c.prepareStatement(sql.toString())) {
            bind(q, args);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    found.add(new Statement(seq, rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                            rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                            parseParameters(open(rs.getString(11), seq), seq), rs.getString(12), rs.getString(13),
                            rs.getString(14), longOrNull(rs, 15), rs.getString(16), rs.getString(17),
                            rs.getString(18), rs.getString(19), longOrNull(rs, 20), longOrNull(rs, 21),
                            rs.getString(22), MaskingSummary.refusalReason(AccessReport.detail(rs.getString(23),
                                    "masking"))));
                }
            }
        }
        if (found.size() > page.limit()) {
            found.removeLast();
            return new StatementPage(List.copyOf(found), found.getLast().seq());
        }
        return new StatementPage(List.copyOf(found), null);
    }

    /**
     * The chain of one approval request in the order things happened: its {@code approval_requested} record, each
     * {@code approval_decided} (approvals, denials, expiry, withdrawal, use), and the request and completion records
     * of every statement it released. Empty when there is no such request.
     */
    public List<Event> approvalChain(String approvalId) throws SQLException {
        String like = approvalIdLike(approvalId);
        return selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event e WHERE (e.kind IN ('approval_requested',"
                + " 'approval_decided') AND e.detail LIKE ? ESCAPE '\\') OR (e.kind IN ('statement_requested',"
                + " 'statement_completed') AND EXISTS (SELECT 1 FROM audit_event u WHERE u.kind = 'approval_decided'"
                + " AND u.outcome = 'used' AND u.session_id = e.session_id AND u.statement_id = e.statement_id"
                + " AND u.detail LIKE ? ESCAPE '\\')) ORDER BY e.time, e.seq", like, like);
    }

    /**
     * The {@code approval_requested} records of chain {@code replica} since {@code since} whose request was never
     * denied, expired, withdrawn or used, oldest first: the requests a gateway process held open when it stopped.
     * Decisions count from every chain: among replicas another may have denied or expired the request.
     */
    public List<Event> openApprovals(String replica, Instant since) throws SQLException, IOException {
        List<Event> records = selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE time >= ? AND"
                + " ((replica = ? AND kind = 'approval_requested') OR kind = 'approval_decided') ORDER BY time, seq",
                AuditRow.TIME.format(since), replica);
        Map<String, Event> open = new LinkedHashMap<>();
        for (Event e : records) {
            String id = JSON.readTree(e.detail()).path("approval_id").asText(null);
            if (id == null) {
                continue;
            }
            if (e.kind().equals("approval_requested")) {
                open.put(id, e);
            } else if (Set.of("denied", "expired", "withdrawn", "used").contains(e.outcome())) {
                open.remove(id);
            }
        }
        return List.copyOf(open.values());
    }

    /** The approval records' detail JSON names the request as {@code "approval_id":"ID"}. */
    private static String approvalIdLike(String approvalId) {
        return "%\"approval_id\":\"" + escapeLike(approvalId.strip()) + "\"%";
    }

    /**
     * Every record of one session in the order things happened (time, then sequence number): its start, each
     * request and completion, cancels, its end. Empty when there is no such session.
     */
    /**
     * The session ids that are {@code prefix} or start with it, in order, at most {@code limit} of them: what a
     * command line resolves a pasted id prefix against (as git resolves an abbreviated commit).
     */
    public List<String> sessionIds(String prefix, int limit) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement("""
                SELECT DISTINCT session_id FROM audit_event WHERE session_id >= ? AND session_id < ?
                ORDER BY session_id LIMIT ?""")) {
            q.setString(1, prefix);
            q.setString(2, prefix + Character.MAX_VALUE);
            q.setInt(3, limit);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
        }
        return ids;
    }

    public List<Event> session(String sessionId) throws SQLException {
        return selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE session_id = ? ORDER BY time, seq", sessionId);
    }

    /** The rows of {@code sql} (bound to {@code args}) as events, their parameters opened when a key is held. */
    private List<Event> selectEvents(String sql, Object... args) throws SQLException {
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

    /**
     * One page of a session's records in chain order: at most {@code limit} records after {@code afterSeq}. A
     * session can hold millions of statements; the console pages through it with this.
     */
    public List<Event> session(String sessionId, long afterSeq, int limit) throws SQLException {
        return selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE session_id = ? AND seq > ?"
                + " ORDER BY seq LIMIT ?", sessionId, afterSeq, Math.min(Math.max(limit, 1), MAX_LIMIT));
    }

    /** One record by its sequence number, or null. */
    public Event event(long seq) throws SQLException {
        List<Event> one = selectEvents("SELECT " + SELECT_EVENT + " FROM audit_event WHERE seq = ?", seq);
        return one.isEmpty() ? null : one.getFirst();
    }

    /** Statements requested and refused in one minute ({@code minute} is {@code YYYY-MM-DDTHH:MM}, UTC). */
    public record MinuteCount(String minute, long requested, long refused) {
    }

    /** Per minute since {@code since}: statements requested, and statements the gateway refused. */
    public List<MinuteCount> perMinute(Instant since) throws SQLException {
        var out = new ArrayList<MinuteCount>();
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement("""
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
        var out = new ArrayList<ReplicaState>();
        try (Connection c = connections.get()) {
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

    /** Records older than {@code before}: those retention lets the archive take. */
    public long countBefore(Instant before) throws SQLException {
        try (Connection c = connections.get();
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
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement("""
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

    /**
     * The recorded response of the completion record {@code seq}, inflated: the bytes the client received (the
     * first {@code audit.response_cap} of them). Null when nothing was recorded; {@link SealedException} when the
     * recording is sealed and this caller holds no key.
     */
    public byte[] response(long seq) throws SQLException, SealedException {
        byte[] blob;
        try (Connection c = connections.get();
             PreparedStatement q = c.prepareStatement("SELECT response FROM audit_event WHERE seq = ?")) {
            q.setLong(1, seq);
            try (ResultSet rs = q.executeQuery()) {
                blob = rs.next() ? rs.getBytes(1) : null;
            }
        }
        if (blob == null) {
            return null;
        }
        if (PayloadCipher.isSealed(blob)) {
            if (cipher == null) {
                throw new SealedException();
            }
            try {
                blob = cipher.openBytes(blob, "response");
            } catch (java.security.GeneralSecurityException e) {
                throw new SQLException("audit record " + seq + ": " + e.getMessage());
            }
        }
        java.util.zip.Inflater inflater = new java.util.zip.Inflater();
        try {
            inflater.setInput(blob);
            var out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[64 * 1024];
            while (!inflater.finished()) {
                int n = inflater.inflate(buf);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (java.util.zip.DataFormatException e) {
            throw new SQLException("audit record " + seq + " holds a recording that does not inflate");
        } finally {
            inflater.end();
        }
    }

    /** A recording is sealed and the caller holds no key. */
    public static final class SealedException extends Exception {
        SealedException() {
            super("the recording is sealed; run with --config and a readable audit encryption key");
        }
    }

    private static Event withParameters(Event e, String parameters) {
        return new Event(e.seq(), e.time(), e.kind(), e.sessionId(), e.statementId(), e.clientAddress(), e.upstream(),
                e.issuer(), e.subject(), e.protocol(), e.statement(), parameters, e.preparedName(), e.portal(),
                e.outcome(), e.sqlState(), e.commandTag(), e.rowCount(), e.durationMicros(), e.detail(), e.replica(),
                e.chainSeq(), e.prevHash(), e.hash(), e.responseDigest(), e.responseBytes(), e.responseTruncated());
    }

    /**
     * The start and end records of one session (time order), without its statements: what a report needs about a
     * session that began or ended outside the period it covers, at the cost of two rows however long the session.
     */
    public List<Event> sessionBounds(String sessionId) throws SQLException {
        var events = new ArrayList<Event>();
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement("SELECT " + SELECT_EVENT
                + " FROM audit_event WHERE session_id = ? AND kind IN ('session_started', 'session_ended')"
                + " ORDER BY time, seq")) {
            q.setString(1, sessionId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    events.add(event(rs, 0));
                }
            }
        }
        return events;
    }

    /** Every record with {@code since <= time < until} (either may be null), in sequence (chain) order. */
    public void events(Instant since, Instant until, EventSink sink) throws SQLException, IOException {
        var args = new ArrayList<Object>();
        String where = timeRange("", since, until, args);
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement(
                "SELECT " + SELECT_EVENT + " FROM audit_event" + where + " ORDER BY seq")) {
            bind(q, args);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    sink.accept(event(rs, 0));
                }
            }
        }
    }

    /**
     * Every record in the time range in sequence order, with each statement request paired with its completion
     * (found whatever its time). A completion is passed alone only when its request is not in the store.
     */
    public void activities(Instant since, Instant until, ActivitySink sink) throws SQLException, IOException {
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
        try (Connection c = connections.get(); PreparedStatement q = c.prepareStatement(sql)) {
            bind(q, args);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    Event completion = rs.getObject(COLUMNS.size() + 1) == null ? null : event(rs, COLUMNS.size());
                    sink.accept(event(rs, 0), completion);
                }
            }
        }
    }

    /**
     * A time as people type it on a command line or in a URL: {@code now}, an instant
     * ({@code 2025-03-04T05:06:07Z}), a UTC date ({@code 2025-03-04}, its midnight) or an age in the config's
     * duration forms with a unit ({@code 90m}, {@code 24h}, {@code 7d}, {@code 30s}: that long ago).
     */
    public static Instant parseTime(String text, Clock clock) {
        String s = text.strip();
        if (s.equalsIgnoreCase("now")) {
            return clock.instant();
        }
        Matcher age = AGE.matcher(s);
        if (age.matches()) {
            try {
                return clock.instant().minus(age(Long.parseLong(age.group(1)), age.group(2)));
            } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
                throw new IllegalArgumentException("age too large: \"" + s + "\"");
            }
        }
        try {
            return s.length() == 10 ? LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("expected a time like now, 2025-03-04T05:06:07Z, 2025-03-04 or 24h"
                    + " (ago), got \"" + s + "\"");
        }
    }

    /**
     * An age: digits with one of the config's duration units. Bare digits, which the config reads as seconds,
     * are refused here: {@code --since 2025} is more likely a year cut short than 2025 seconds ago.
     */
    private static final Pattern AGE = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

    /**
     * The config's duration units, read here rather than through config's {@code Units}: audit sits below config
     * in the package layering (decision 0039), and the pattern above has already checked the digits and the unit.
     */
    private static Duration age(long n, String unit) {
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /**
     * The terms of a free-text search: whitespace-separated words, or a run of words in double quotes kept as one
     * phrase (its spaces as typed). An unclosed quote runs to the end. Empty terms are dropped.
     */
    static List<String> terms(String text) {
        var terms = new ArrayList<String>();
        var term = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch == '"') {
                if (!term.isEmpty()) {
                    terms.add(term.toString());
                    term.setLength(0);
                }
                quoted = !quoted;
            } else if (!quoted && Character.isWhitespace(ch)) {
                if (!term.isEmpty()) {
                    terms.add(term.toString());
                    term.setLength(0);
                }
            } else {
                term.append(ch);
            }
        }
        if (!term.isEmpty()) {
            terms.add(term.toString());
        }
        return terms.stream().filter(t -> !t.isBlank()).toList();
    }

    /**
     * The free-text indexes an SQLite store has: the one over distinct texts (schema 5) and the per-record one of
     * schema 4, which a migrated file keeps for its older records. None on PostgreSQL, and none on a file no
     * gateway has opened since before schema 4 (search then scans).
     */
    private static List<String> sqliteTextIndexes(Connection c) throws SQLException {
        if (!"SQLite".equals(c.getMetaData().getDatabaseProductName())) {
            return List.of();
        }
        var found = new ArrayList<String>();
        try (PreparedStatement q = c.prepareStatement("SELECT name FROM sqlite_master WHERE name IN (?, ?)")) {
            q.setString(1, StatementTexts.INDEX);
            q.setString(2, SqliteSchema.TEXT_INDEX);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
        }
        return found;
    }

    /** Trigrams asked of the text index per search; a longer search narrows by these and the LIKE does the rest. */
    static final int MAX_MATCH_TRIGRAMS = 64;

    /**
     * An FTS5 query for the records holding every trigram of every term: a superset of the records holding the
     * terms, which the LIKE then decides. Each trigram is its own one-token phrase, so the query also serves an
     * index without positions ({@code detail = none}), which cannot answer a phrase of several tokens. The
     * tokenizer folds case as it did when indexing. At most {@link #MAX_MATCH_TRIGRAMS}, the first of each term first.
     */
    static String trigramMatch(List<String> terms) {
        var trigrams = new java.util.LinkedHashSet<String>();
        int perTerm = Math.max(1, MAX_MATCH_TRIGRAMS / terms.size());
        for (String term : terms) {
            int[] cps = term.codePoints().toArray();
            for (int i = 0; i + 3 <= cps.length && i < perTerm && trigrams.size() < MAX_MATCH_TRIGRAMS; i++) {
                trigrams.add(new String(cps, i, 3));
            }
        }
        return String.join(" AND ", trigrams.stream().map(t -> "\"" + t.replace("\"", "\"\"") + "\"").toList());
    }

    /** Makes {@code %}, {@code _} and the escape character itself literal in a LIKE pattern. */
    static String escapeLike(String text) {
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    private static void equal(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private static String timeRange(String prefix, Instant since, Instant until, List<Object> args) {
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

    private static void bind(PreparedStatement q, List<Object> args) throws SQLException {
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

    private static Event event(ResultSet rs, int offset) throws SQLException {
        int o = offset;
        return new Event(rs.getLong(o + 1), rs.getString(o + 2), rs.getString(o + 3), rs.getString(o + 4),
                longOrNull(rs, o + 5), rs.getString(o + 6), rs.getString(o + 7), rs.getString(o + 8),
                rs.getString(o + 9), rs.getString(o + 10), rs.getString(o + 11), rs.getString(o + 12),
                rs.getString(o + 13), rs.getString(o + 14), rs.getString(o + 15), rs.getString(o + 16),
                rs.getString(o + 17), longOrNull(rs, o + 18), longOrNull(rs, o + 19), rs.getString(o + 20),
                rs.getString(o + 21), longOrNull(rs, o + 22), rs.getString(o + 23), rs.getString(o + 24),
                rs.getString(o + 25), longOrNull(rs, o + 26), longOrNull(rs, o + 27));
    }

    private static Long longOrNull(ResultSet rs, int index) throws SQLException {
        long v = rs.getLong(index);
        return rs.wasNull() ? null : v;
    }

    static List<String> parseParameters(String json, long seq) throws SQLException {
        if (json == null) {
            return null;
        }
        if (PayloadCipher.isSealed(json)) {
            return List.of(SEALED);
        }
        try {
            return Collections.unmodifiableList(new ArrayList<>(JSON.readValue(json, STRINGS)));
        } catch (JsonProcessingException e) {
            // Jackson's message would quote the value, which is PHI.
            throw new SQLException("audit record " + seq + " has a parameter list that is not a JSON array of strings");
        }
    }
}
