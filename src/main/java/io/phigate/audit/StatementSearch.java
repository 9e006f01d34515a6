package io.phigate.audit;

import static io.phigate.audit.StoreReader.bind;
import static io.phigate.audit.StoreReader.longOrNull;
import static io.phigate.audit.StoreReader.parseParameters;

import io.phigate.audit.AuditQueries.Filter;
import io.phigate.audit.AuditQueries.Page;
import io.phigate.audit.AuditQueries.Statement;
import io.phigate.audit.AuditQueries.StatementPage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Statement search: requests joined with their completions, filtered and paged on (time, seq). Free text is a
 * case-insensitive substring match that an FTS5 trigram index (SQLite) or a pg_trgm index (PostgreSQL) narrows
 * without changing what is found (decision 0015).
 */
final class StatementSearch {
    private final StoreReader store;

    StatementSearch(StoreReader store) {
        this.store = store;
    }

    StatementPage search(Filter filter, Page page) throws SQLException {
        try (Connection c = store.connect()) {
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
            args.add(ApprovalRecords.approvalIdLike(filter.approval()));
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
                            parseParameters(store.open(rs.getString(11), seq), seq), rs.getString(12), rs.getString(13),
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
}
