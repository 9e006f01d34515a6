package io.phigate.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.List;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteException;

/** One SQLite file in WAL mode with {@code synchronous=FULL}: the embedded default store. */
final class SqliteSchema implements AuditSchema {

    /**
     * 5: statement texts indexed once per distinct text ({@link StatementTexts}, decision 0060). 6: the simple
     * protocol's texts (literals inline, seldom repeated) indexed per record again, without a copy (decision 0067).
     * 7: those per-record index entries made by one statement per group instead of a trigger per row (decision 0098).
     */
    static final int SCHEMA_VERSION = 7;

    /**
     * The FTS5 index over each record's statement text of schema 4 (see {@link #createTextIndex}). A file from
     * then keeps it for the records it already holds; new records are found through {@link StatementTexts#INDEX}.
     */
    static final String TEXT_INDEX = "audit_event_fts";

    /**
     * The writer's page cache. An ingest batch dirties a few MiB of table, index and FTS5 pages; in SQLite's default
     * 2 MiB cache they spill to the WAL mid-transaction and are read back, each page written several times
     * (measured at 8 clients: 2,300 pwrites and 1,150 preads per commit). Memory is taken as pages are used.
     */
    static final int WRITER_CACHE_KIB = 32 * 1024;

    private final Path path;
    private final Duration busyTimeout;
    private final StatementTexts texts = new StatementTexts();
    /** The text id of each row of the group being inserted ({@link #beforeInsert}); writer thread only. */
    private long[] textIds;
    /** Whether a row of that group goes to the per-record text index ({@link StatementTexts#indexPerRecord}). */
    private boolean anyIndexedPerRecord;

    SqliteSchema(Path path, Duration busyTimeout) {
        this.path = path;
        this.busyTimeout = busyTimeout;
    }

    /** The writer's connection: checkpoints are {@link WalCheckpointer}'s job, this threshold only its fallback. */
    @Override
    public Connection open() throws SQLException, IOException {
        Connection c = open(path, busyTimeout);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA wal_autocheckpoint = " + WalCheckpointer.WRITER_FALLBACK_PAGES);
            s.execute("PRAGMA cache_size = -" + WRITER_CACHE_KIB);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    @Override
    public String insert(int rows) {
        return "INSERT INTO audit_event (" + INSERT_COLUMNS + ", text_id)\nVALUES "
                + AuditSchema.placeholders(rows, columns());
    }

    @Override
    public int columns() {
        return 28;
    }

    @Override
    public void beforeInsert(Connection c, List<AuditRow> rows) throws SQLException {
        textIds = texts.idsFor(c, rows);
        anyIndexedPerRecord = false;
        for (int i = 0; i < rows.size() && !anyIndexedPerRecord; i++) {
            anyIndexedPerRecord = textIds[i] == 0 && rows.get(i).request() != null
                    && rows.get(i).request().statement() != null;
        }
    }

    @Override
    public void afterInsert(Connection c, String replica, long firstSeq, long lastSeq) throws SQLException {
        if (anyIndexedPerRecord) {
            texts.indexPerRecord(c, replica, firstSeq, lastSeq);
        }
    }

    @Override
    public void bindExtra(PreparedStatement insert, int base, int index, AuditRow row) throws SQLException {
        long id = textIds[index];
        if (id == 0) {
            insert.setNull(base + 28, Types.BIGINT);
        } else {
            insert.setLong(base + 28, id);
        }
    }

    @Override
    public void rolledBack() {
        texts.forget();
    }

    /**
     * Many rows per INSERT, for the FTS5 trigger: SQLite opens a statement savepoint for each INSERT that fires
     * it, and FTS5 writes out its pending terms at every savepoint, so one row per INSERT made a new index segment
     * per record (and merge work to match): measured 35-45 µs of CPU per ingested record against 12 µs with many
     * rows per statement (decision 0023). 1,024 rows of 28 parameters stay under SQLite's 32,766.
     */
    @Override
    public int maxRowsPerInsert() {
        return 1024;
    }

    @Override
    public String begin() {
        // IMMEDIATE takes the write lock up front, so contention waits in busy_timeout instead of failing later on
        // a stale read snapshot.
        return "BEGIN IMMEDIATE";
    }

    @Override
    public boolean lost(Connection c) {
        // On Linux SQLite keeps writing to a deleted file without error; those records would be lost.
        return !Files.exists(path);
    }

    @Override
    public boolean isContention(SQLException e) {
        if (!(e instanceof SQLiteException s)) {
            return false;
        }
        int primary = s.getResultCode().code & 0xff;
        return primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */;
    }

    /** Opens the file durably (WAL, synchronous=FULL), creating its folder and the schema if missing. */
    static Connection open(Path path, Duration busyTimeout) throws SQLException, IOException {
        Path folder = path.toAbsolutePath().getParent();
        if (folder != null) {
            Files.createDirectories(folder);
        }
        var config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // FULL fsyncs the WAL on every commit: a confirmed record survives power loss, not just a crash.
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setBusyTimeout(Math.toIntExact(busyTimeout.toMillis()));
        // An INSERT that fires the FTS5 trigger opens a statement journal; on disk that is a temporary file and
        // two pwrites per page touched (measured: most of the writer's syscalls). A statement journal never needs
        // to survive a crash (the WAL holds what was committed), and one group's is a few pages.
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        Connection connection = config.createConnection("jdbc:sqlite:" + path.toAbsolutePath());
        try {
            createSchema(connection);
            return connection;
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * Schema 4's free-text index over each record's statement text: created here only when an older file with
     * records is migrated and lacks it (filled from those records), then narrowed to them by
     * {@link StatementTexts#keepLegacyIndexFor}; new records are indexed once per distinct text instead. An external-content FTS5 table with the trigram tokenizer: it stores
     * the trigrams, not a second copy of the text, and answers case-insensitive substring queries, so search keeps
     * the meaning it had as a LIKE scan. Triggers keep it in step with every insert (and with archiving's delete)
     * in the writer's own transaction, so the index can never hold a record that was not committed, nor miss one
     * that was. Bound parameters are not indexed: they are the values themselves, sealed when encryption is on.
     *
     * <p>{@code detail = none}: the index keeps which records hold each trigram, not where. Search asks it for the
     * records holding every trigram of a term ({@link AuditQueries#trigramMatch}) and the LIKE decides, as it
     * always did, so the answer is the same; the insert costs about a third less (decision 0023). A file whose index
     * was made with positions keeps it: the same query serves both.
     */
    static void createTextIndex(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT 1 FROM sqlite_master WHERE name = '" + TEXT_INDEX + "'")) {
            if (rs.next()) {
                return;
            }
        }
        s.execute("CREATE VIRTUAL TABLE " + TEXT_INDEX + " USING fts5(statement, content = 'audit_event',"
                + " content_rowid = 'seq', tokenize = 'trigram', detail = none)");
        // Every row is indexed, its statement or none: an external-content table must cover its content table for
        // FTS5's 'rebuild' and 'integrity-check' to hold. A row without text costs one small docsize entry.
        s.execute("CREATE TRIGGER " + TEXT_INDEX + "_insert AFTER INSERT ON audit_event BEGIN"
                + " INSERT INTO " + TEXT_INDEX + " (rowid, statement) VALUES (new.seq, new.statement); END");
        s.execute("CREATE TRIGGER " + TEXT_INDEX + "_delete AFTER DELETE ON audit_event BEGIN"
                + " INSERT INTO " + TEXT_INDEX + " (" + TEXT_INDEX + ", rowid, statement)"
                + " VALUES ('delete', old.seq, old.statement); END");
        // Records are never updated by phigate; this keeps the index true to the table if someone does (an
        // auditor's search then shows the text as it now is, and `audit verify` names the edit).
        s.execute("CREATE TRIGGER " + TEXT_INDEX + "_update AFTER UPDATE OF seq, statement ON audit_event BEGIN"
                + " INSERT INTO " + TEXT_INDEX + " (" + TEXT_INDEX + ", rowid, statement)"
                + " VALUES ('delete', old.seq, old.statement);"
                + " INSERT INTO " + TEXT_INDEX + " (rowid, statement) VALUES (new.seq, new.statement); END");
        s.execute("INSERT INTO " + TEXT_INDEX + " (" + TEXT_INDEX + ") VALUES ('rebuild')");
    }

    private static boolean hasRecords(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT 1 FROM audit_event LIMIT 1")) {
            return rs.next();
        }
    }

    private static long lastSeq(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT coalesce(max(seq), 0) FROM audit_event")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static void createSchema(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try {
                int version;
                try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                    version = rs.next() ? rs.getInt(1) : 0;
                }
                if (version > SCHEMA_VERSION) {
                    throw new SQLException("audit schema version " + version + " is newer than this gateway ("
                            + SCHEMA_VERSION + ")");
                }
                if (version < 5) {
                    s.execute("""
                            CREATE TABLE IF NOT EXISTS audit_event (
                                seq            INTEGER PRIMARY KEY AUTOINCREMENT,
                                time           TEXT NOT NULL,
                                kind           TEXT NOT NULL,
                                session_id     TEXT,
                                statement_id   INTEGER,
                                client_address TEXT,
                                upstream       TEXT,
                                issuer         TEXT,
                                subject        TEXT,
                                protocol       TEXT,
                                statement      TEXT,
                                parameters     TEXT,
                                prepared_name  TEXT,
                                portal         TEXT,
                                outcome        TEXT,
                                sqlstate       TEXT,
                                command_tag    TEXT,
                                row_count      INTEGER,
                                duration_us    INTEGER,
                                detail         TEXT,
                                replica        TEXT,
                                chain_seq      INTEGER,
                                prev_hash      TEXT,
                                hash           TEXT,
                                response       BLOB,
                                response_digest TEXT,
                                response_bytes INTEGER,
                                response_truncated INTEGER,
                                text_id        INTEGER
                            )""");
                    // An older file: add what later versions introduced. Its records keep the per-record text
                    // index they have (schema 4), narrowed to them; a file from before that index gets it first.
                    if (hasRecords(s)) {
                        createTextIndex(s);
                    }
                    java.util.Set<String> have = new java.util.HashSet<>();
                    try (ResultSet cols = s.executeQuery("PRAGMA table_info(audit_event)")) {
                        while (cols.next()) {
                            have.add(cols.getString("name"));
                        }
                    }
                    for (String column : new String[]{"replica TEXT", "chain_seq INTEGER", "prev_hash TEXT", "hash TEXT",
                            "response BLOB", "response_digest TEXT", "response_bytes INTEGER", "response_truncated INTEGER",
                            "text_id INTEGER"}) {
                        if (!have.contains(column.substring(0, column.indexOf(' ')))) {
                            s.execute("ALTER TABLE audit_event ADD COLUMN " + column);
                        }
                    }
                    s.execute("CREATE UNIQUE INDEX IF NOT EXISTS audit_event_chain ON audit_event (replica, chain_seq)");
                    s.execute("CREATE INDEX IF NOT EXISTS audit_event_session ON audit_event (session_id, seq)");
                    s.execute("CREATE INDEX IF NOT EXISTS audit_event_time ON audit_event (time)");
                    StatementTexts.keepLegacyIndexFor(s, lastSeq(s));
                }
                if (version < 6) {
                    // Every record up to here is in the per-record index already (schema 4) or names its text
                    // (schema 5); the simple protocol's records from here on go to the per-record index.
                    StatementTexts.indexAdHocTextsPerRecord(s, lastSeq(s));
                }
                if (version < 7) {
                    StatementTexts.indexPerRecordByTheWriter(s);
                }
                if (version < SCHEMA_VERSION) {
                    s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
                }
                Checkpointer.createSchema(s);
                AuditArchive.createSchema(s);
                StatementTexts.createSchema(s);
                // Finds a request's completion in one lookup: search joins every hit to it, so without this a
                // common word costs a scan of each hit's session.
                s.execute("CREATE INDEX IF NOT EXISTS audit_event_statement ON audit_event (session_id, statement_id)");
                s.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                try {
                    s.execute("ROLLBACK");
                } catch (SQLException ignored) {
                    // The connection is closed by the caller, which rolls back anyway.
                }
                throw e;
            }
        }
    }
}
