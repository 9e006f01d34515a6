package io.phigate.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQLite store's free-text index, built over each distinct statement text instead of each record (decision
 * 0060). Prepared statements repeat one text for every execution; indexing its trigrams again for every record was
 * the largest part of the ingester's CPU. Distinct texts live in {@code audit_text}, the FTS5 trigram index covers
 * that table only, and each record names its text by {@code audit_event.text_id}. The record keeps its own
 * {@code statement} column as before: that is what the hash covers and every reader, export and verifier reads,
 * so none of them changes; the text table only narrows search.
 *
 * <p>Used by the one thread that owns the store's connection (the writer, or the ingester behind the journal). It
 * remembers which texts it has stored, so a repeated text costs a map lookup and no insert. It forgets them all
 * when its transaction is rolled back, when the connection changes, and when another connection has committed to
 * the file (an archive run deleting texts no record names any more): {@code PRAGMA data_version}, read inside the
 * write transaction, says so. A text not remembered is stored again under a new id; search reads every id whose
 * text matches, so a second copy costs space and index work, never an answer.
 */
final class StatementTexts {

    static final String TABLE = "audit_text";
    /** The FTS5 trigram index over {@link #TABLE}, the one free-text search asks first. */
    static final String INDEX = "audit_text_fts";

    /** Texts remembered, and their characters: bounded so that large ad-hoc texts cannot pin much heap. */
    static final int CACHE_ENTRIES = 4096;
    static final long CACHE_CHARS = 4L * 1024 * 1024;
    /** New texts per INSERT: one statement savepoint for many rows keeps FTS5 from flushing a segment per row. */
    private static final int MAX_ROWS_PER_INSERT = 256;

    private final LinkedHashMap<String, Long> known = new LinkedHashMap<>(256, 0.75f, true);
    private long knownChars;
    private Connection knownFor;
    private long dataVersion;
    private final Map<Integer, PreparedStatement> inserts = new HashMap<>();
    /** {@link #indexPerRecord}'s statement, prepared on the connection {@link #knownFor}. */
    private PreparedStatement perRecordFill;

    /**
     * Creates the text table and its index if missing, and the index on records' text ids. Idempotent. Records
     * written before this (no {@code text_id}) stay findable through the older per-record index, see
     * {@link #keepLegacyIndexFor}.
     */
    static void createSchema(Statement s) throws SQLException {
        s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
        if (!exists(s, INDEX)) {
            // External content: the index keeps trigrams (without positions, as decision 0023), not a second copy.
            s.execute("CREATE VIRTUAL TABLE " + INDEX + " USING fts5(text, content = '" + TABLE + "',"
                    + " content_rowid = 'id', tokenize = 'trigram', detail = none)");
            s.execute("CREATE TRIGGER " + INDEX + "_insert AFTER INSERT ON " + TABLE + " BEGIN"
                    + " INSERT INTO " + INDEX + " (rowid, text) VALUES (new.id, new.text); END");
            s.execute("CREATE TRIGGER " + INDEX + "_delete AFTER DELETE ON " + TABLE + " BEGIN"
                    + " INSERT INTO " + INDEX + " (" + INDEX + ", rowid, text) VALUES ('delete', old.id, old.text); END");
            s.execute("INSERT INTO " + INDEX + " (" + INDEX + ") VALUES ('rebuild')");
        }
        // A record whose text is edited by hand gets a text of its own, so search shows the text as it now is
        // (audit verify names the edit). phigate never updates a record.
        s.execute("CREATE TRIGGER IF NOT EXISTS audit_event_text_update AFTER UPDATE OF statement ON audit_event BEGIN"
                + " INSERT INTO " + TABLE + " (id, text) SELECT next, new.statement FROM (SELECT coalesce(max(id), 0)"
                + " + 1 AS next FROM " + TABLE + ") WHERE new.statement IS NOT NULL;"
                + " UPDATE audit_event SET text_id = CASE WHEN new.statement IS NULL THEN NULL"
                + " ELSE (SELECT max(id) FROM " + TABLE + ") END WHERE seq = new.seq; END");
        // Search by a rare word reads its few records by this; archiving finds texts no record names by it.
        s.execute("CREATE INDEX IF NOT EXISTS audit_event_text ON audit_event (text_id) WHERE text_id IS NOT NULL");
    }

    /**
     * Narrows the per-record index of schema 4 ({@link SqliteSchema#TEXT_INDEX}) to the records it already holds
     * (sequence numbers up to {@code lastSeq}): new records are indexed by text, and its insert trigger would index
     * every one of them again. Its delete and update triggers stay for those old records, so archiving them keeps
     * it true. Without records to keep, it is dropped.
     */
    static void keepLegacyIndexFor(Statement s, long lastSeq) throws SQLException {
        String legacy = SqliteSchema.TEXT_INDEX;
        for (String t : new String[]{"insert", "delete", "update"}) {
            s.execute("DROP TRIGGER IF EXISTS " + legacy + "_" + t);
        }
        if (lastSeq == 0) {
            s.execute("DROP TABLE IF EXISTS " + legacy);
            return;
        }
        s.execute("CREATE TRIGGER " + legacy + "_delete AFTER DELETE ON audit_event WHEN old.seq <= " + lastSeq
                + " BEGIN INSERT INTO " + legacy + " (" + legacy + ", rowid, statement)"
                + " VALUES ('delete', old.seq, old.statement); END");
        s.execute("CREATE TRIGGER " + legacy + "_update AFTER UPDATE OF statement ON audit_event WHEN old.seq <= "
                + lastSeq + " BEGIN INSERT INTO " + legacy + " (" + legacy + ", rowid, statement)"
                + " VALUES ('delete', old.seq, old.statement);"
                + " INSERT INTO " + legacy + " (rowid, statement) VALUES (new.seq, new.statement); END");
    }

    /**
     * Indexes the simple protocol's texts per record from now on (schema 6, decision 0067): a record whose text has no
     * id ({@link #idsFor} gives none to the simple protocol's texts, whose literals make nearly every text new) is put
     * in the per-record index {@link SqliteSchema#TEXT_INDEX} (by {@link #indexPerRecord} since schema 7, by an
     * insert trigger in schema 6), as schema 4 did for every record, with no
     * copy of its text: the index's content is the record itself. Records up to {@code lastSeq} are not touched: they
     * are in that index already (schema 4, narrowed by {@link #keepLegacyIndexFor}) or name their text (schema 5),
     * so the triggers' conditions never meet a record the index does not hold. Creates the index, empty, when the
     * file has none.
     */
    static void indexAdHocTextsPerRecord(Statement s, long lastSeq) throws SQLException {
        String index = SqliteSchema.TEXT_INDEX;
        if (!exists(s, index)) {
            s.execute("CREATE VIRTUAL TABLE " + index + " USING fts5(statement, content = 'audit_event',"
                    + " content_rowid = 'seq', tokenize = 'trigram', detail = none)");
        }
        String perRecord = "%1$s.seq > " + lastSeq + " AND %1$s.text_id IS NULL AND %1$s.statement IS NOT NULL";
        s.execute("CREATE TRIGGER " + index + "_record_delete AFTER DELETE ON audit_event WHEN "
                + perRecord.formatted("old") + " BEGIN INSERT INTO " + index + " (" + index + ", rowid, statement)"
                + " VALUES ('delete', old.seq, old.statement); END");
        // A text edited by hand gets a text row of its own (audit_event_text_update), so it leaves this index.
        s.execute("CREATE TRIGGER " + index + "_record_update AFTER UPDATE OF statement ON audit_event WHEN "
                + perRecord.formatted("old") + " BEGIN INSERT INTO " + index + " (" + index + ", rowid, statement)"
                + " VALUES ('delete', old.seq, old.statement); END");
    }

    /**
     * Schema 7 (decision 0098): the per-record index's entries for new records are made by {@link #indexPerRecord},
     * once per group, instead of by an insert trigger. An AFTER INSERT trigger runs its program for every row
     * inserted, its condition false or not: with the prepared statements' records (which name their text and never
     * enter this index) it cost 2-3 µs of the ingester's ~13 µs per record. The delete and update triggers stay:
     * they fire only when records are archived or edited.
     */
    static void indexPerRecordByTheWriter(Statement s) throws SQLException {
        s.execute("DROP TRIGGER IF EXISTS " + SqliteSchema.TEXT_INDEX + "_record_insert");
    }

    /**
     * Puts the records of chain places {@code firstSeq} to {@code lastSeq} that have a text but no text id in the
     * per-record index: exactly the records the removed insert trigger's condition chose (every one of them is
     * newer than the schema 6 step), in the same transaction as their insert, so the index still never holds an
     * uncommitted record nor misses a committed one. The chain index makes the range a lookup.
     */
    void indexPerRecord(Connection c, String replica, long firstSeq, long lastSeq) throws SQLException {
        if (perRecordFill == null) {
            String index = SqliteSchema.TEXT_INDEX;
            perRecordFill = c.prepareStatement("INSERT INTO " + index + " (rowid, statement) SELECT seq, statement"
                    + " FROM audit_event WHERE replica = ? AND chain_seq BETWEEN ? AND ? AND text_id IS NULL"
                    + " AND statement IS NOT NULL");
        }
        perRecordFill.setString(1, replica);
        perRecordFill.setLong(2, firstSeq);
        perRecordFill.setLong(3, lastSeq);
        perRecordFill.executeUpdate();
    }

    /** The simple protocol's statements: texts with their literals inline, indexed per record (schema 6). */
    static boolean indexedPerRecord(AuditRow row) {
        return row.request() != null && "simple".equals(row.request().protocol());
    }

    /**
     * Deletes texts no record names any more, after an archive cut removed records. A text a record still names
     * is never deleted: the check is in the same transaction as the records' removal, under SQLite's write lock.
     */
    static int deleteOrphans(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            if (!exists(s, TABLE)) {
                return 0;
            }
            return s.executeUpdate("DELETE FROM " + TABLE + " WHERE NOT EXISTS (SELECT 1 FROM audit_event e"
                    + " WHERE e.text_id = " + TABLE + ".id)");
        }
    }

    /**
     * The text id of each row's statement (0: the row has no text), storing the texts not yet in the table. Called
     * inside the group's write transaction, before its records are inserted.
     */
    long[] idsFor(Connection c, List<AuditRow> rows) throws SQLException {
        forgetIfStale(c);
        long[] ids = new long[rows.size()];
        Map<String, Long> added = null; // this group's new texts (the cache may evict some before the end)
        List<String> fresh = null;
        long next = 0;
        for (int i = 0; i < rows.size(); i++) {
            String text = rows.get(i).request() == null ? null : rows.get(i).request().statement();
            if (text == null || indexedPerRecord(rows.get(i))) {
                continue;
            }
            Long id = known.get(text);
            if (id == null && added != null) {
                id = added.get(text);
            }
            if (id == null) {
                if (added == null) {
                    added = new HashMap<>();
                    fresh = new ArrayList<>();
                    next = lastId(c) + 1;
                }
                id = next++;
                added.put(text, id);
                fresh.add(text);
            }
            ids[i] = id;
        }
        if (fresh != null) {
            store(c, next - fresh.size(), fresh);
            for (String text : fresh) {
                remember(text, added.get(text));
            }
        }
        return ids;
    }

    /** After a rollback or a lost connection: texts remembered may not be in the table. */
    void forget() {
        known.clear();
        knownChars = 0;
        knownFor = null;
        closeInserts();
    }

    private void forgetIfStale(Connection c) throws SQLException {
        long version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA data_version")) {
            rs.next();
            version = rs.getLong(1);
        }
        if (c != knownFor || version != dataVersion) {
            forget();
            knownFor = c;
            dataVersion = version;
        }
    }

    private void remember(String text, long id) {
        if (text.length() > CACHE_CHARS / 4) {
            return; // one huge text would push out everything else
        }
        known.put(text, id);
        knownChars += text.length();
        var eldest = known.entrySet().iterator();
        while ((known.size() > CACHE_ENTRIES || knownChars > CACHE_CHARS) && eldest.hasNext()) {
            knownChars -= eldest.next().getKey().length();
            eldest.remove();
        }
    }

    /** The writer alone inserts texts, under the write lock, so the next free id is the largest one plus one. */
    private static long lastId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT max(id) FROM " + TABLE)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private void store(Connection c, long firstId, List<String> texts) throws SQLException {
        int at = 0;
        while (at < texts.size()) {
            int rows = Integer.highestOneBit(Math.min(texts.size() - at, MAX_ROWS_PER_INSERT));
            PreparedStatement insert = inserts.get(rows);
            if (insert == null) {
                insert = c.prepareStatement("INSERT INTO " + TABLE + " (id, text) VALUES "
                        + AuditSchema.placeholders(rows, 2));
                inserts.put(rows, insert);
            }
            for (int j = 0; j < rows; j++) {
                insert.setLong(2 * j + 1, firstId + at + j);
                insert.setString(2 * j + 2, texts.get(at + j));
            }
            insert.executeUpdate();
            at += rows;
        }
    }

    private void closeInserts() {
        for (PreparedStatement p : inserts.values()) {
            try {
                p.close();
            } catch (SQLException ignored) {
                // The connection is going or gone; nothing is lost.
            }
        }
        inserts.clear();
        if (perRecordFill != null) {
            try {
                perRecordFill.close();
            } catch (SQLException ignored) {
                // As above.
            }
            perRecordFill = null;
        }
    }

    static boolean exists(Statement s, String name) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT 1 FROM sqlite_master WHERE name = '" + name + "'")) {
            return rs.next();
        }
    }
}
