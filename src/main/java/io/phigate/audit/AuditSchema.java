package io.phigate.audit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * What differs between the stores {@link AuditWriter} can write to: how its connection is opened and the schema
 * made ready, the INSERT text, and what to do before each group. The group-commit loop and the hash chain are the
 * writer's own and the same for every store. Called only on the writer thread.
 */
interface AuditSchema {

    /** The columns every store's {@code audit_event} has, in the order the writer binds them (1 to 27). */
    String INSERT_COLUMNS = """
            time, kind, session_id, statement_id, client_address, upstream, issuer, subject, protocol, statement,
            parameters, prepared_name, portal, outcome, sqlstate, command_tag, row_count, duration_us, detail, replica,
            chain_seq, prev_hash, hash, response, response_digest, response_bytes, response_truncated""";

    /** Opens a durable connection with the schema in place (creating it where this store may). */
    Connection open() throws SQLException, IOException;

    /**
     * The INSERT of {@code rows} rows, each with {@link #columns()} parameters: first the 27 of
     * {@link #INSERT_COLUMNS}, then the store's own.
     */
    String insert(int rows);

    /** Parameters per row in {@link #insert}: the 27 shared ones and the store's own. */
    default int columns() {
        return 27;
    }

    /** The most rows one INSERT may carry (a power of two); the writer sends larger groups in several. */
    default int maxRowsPerInsert() {
        return 1;
    }

    /**
     * Inside a group's transaction, before its rows are inserted: the store's own work for them (SQLite stores
     * each statement text it has not stored yet, {@link StatementTexts}).
     */
    default void beforeInsert(Connection c, List<AuditRow> rows) throws SQLException {
    }

    /**
     * Binds a row's parameters after the 27 shared ones, the row's first parameter being {@code base + 1};
     * {@code index} is its place in the rows last given to {@link #beforeInsert}.
     */
    default void bindExtra(PreparedStatement insert, int base, int index, AuditRow row) throws SQLException {
    }

    /**
     * Inside a group's transaction, after its rows (chain places {@code firstSeq} to {@code lastSeq} of
     * {@code replica}, in order) were inserted: the store's own work that reads them back (SQLite indexes the
     * simple protocol's texts per record here, in one statement per group, decision 0098).
     */
    default void afterInsert(Connection c, String replica, long firstSeq, long lastSeq) throws SQLException {
    }

    /** After a group's transaction was rolled back (or its commit failed), or the connection was closed. */
    default void rolledBack() {
    }

    /** The statement that starts a group's transaction. */
    default String begin() {
        return "BEGIN";
    }

    /** Before each group's transaction: make room for its rows (PostgreSQL creates the day partitions). */
    default void beforeGroup(Connection c, List<AuditRow> rows) throws SQLException {
    }

    /** True when the open connection no longer reaches the store and must be reopened before writing. */
    default boolean lost(Connection c) {
        return false;
    }

    /** True for a failure that leaves the connection usable (lock contention), so it is kept. */
    default boolean isContention(SQLException e) {
        return false;
    }

    /** {@code (?, ?, ...), (?, ...)}: {@code rows} rows of {@code columns} parameters. */
    static String placeholders(int rows, int columns) {
        String row = "(" + "?, ".repeat(columns - 1) + "?)";
        return String.join(", ", java.util.Collections.nCopies(rows, row));
    }
}
