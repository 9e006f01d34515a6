package io.phigate.pg.backend;

import io.phigate.config.UpstreamConfig;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.*;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.sql.PgCatalog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A side connection of the gateway's own to an upstream, for its housekeeping queries (the catalog, row estimates): one
 * simple Query at a time, rows returned as text. Not for agents' statements, which go through the session pump.
 * One thread at a time.
 */
public final class SimpleQueryClient implements PgCatalog.Queries, AutoCloseable {
    /** The catalog's largest rows are view definitions; 64 MiB leaves room for any sane one. */
    private static final int DECODE_LIMIT = 64 * 1024 * 1024;

    private final UpstreamConnection connection;

    private SimpleQueryClient(UpstreamConnection connection) {
        this.connection = connection;
    }

    public static SimpleQueryClient open(UpstreamConfig config) throws UpstreamException {
        return new SimpleQueryClient(UpstreamConnection.open(config, Map.of("application_name", "phigate catalog"),
                DECODE_LIMIT));
    }

    /** A client over a connection opened by the caller (as a session's own user, say); closing it closes that. */
    public static SimpleQueryClient over(UpstreamConnection connection) {
        return new SimpleQueryClient(connection);
    }

    /** Loads {@code config}'s catalog over a connection of its own, closed afterwards. */
    public static PgCatalog loadCatalog(UpstreamConfig config) throws IOException {
        try (SimpleQueryClient c = open(config)) {
            return PgCatalog.load(c);
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Runs {@code sql} (one statement) and returns its rows; SQL NULL is null. An ErrorResponse becomes an
     * IOException carrying the server's message and SQLSTATE, after the connection is back at ReadyForQuery.
     */
    @Override
    public List<List<String>> query(String sql) throws IOException {
        connection.out().write(MessageCodec.encode(new FrontendMessage.Query(sql)));
        connection.out().flush();
        List<List<String>> rows = new ArrayList<>();
        String error = null;
        while (true) {
            if (connection.reader().next() < 0) {
                throw new IOException("upstream closed the connection during a catalog query");
            }
            BackendMessage m = MessageCodec.decodeBackend(connection.reader().type(), connection.reader().body());
            switch (m) {
                case DataRow r -> rows.add(Arrays.stream(r.values())
                        .map(v -> v == null ? null : new String(v, StandardCharsets.UTF_8)).toList());
                case ErrorResponse e -> error = e.message() + " (SQLSTATE " + e.sqlState() + ")";
                case ReadyForQuery r -> {
                    if (error != null) {
                        throw new IOException("catalog query failed: " + error);
                    }
                    return rows;
                }
                case CopyInResponse c -> throw new IOException("catalog query unexpectedly started COPY FROM");
                default -> {
                    // RowDescription, CommandComplete, notices, parameter changes: nothing to keep.
                }
            }
        }
    }

    @Override
    public void close() {
        connection.close();
    }
}
