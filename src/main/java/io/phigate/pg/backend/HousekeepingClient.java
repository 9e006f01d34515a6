package io.phigate.pg.backend;

import io.phigate.config.UpstreamConfig;
import io.phigate.credentials.AdminConnection;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.*;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.sql.PgCatalog;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The gateway's one client for its own housekeeping queries on an upstream: loading the catalog, creating and
 * dropping ephemeral session users, row estimates. One simple Query at a time, rows returned as text. Not for
 * agents' statements, which go through the session pump. One thread at a time.
 *
 * <p>Every connection it opens runs its statements under the server's {@code statement_timeout} and every read
 * under a socket timeout a little longer ({@link #READ_GRACE}), so a stuck server, a lock someone else holds or a
 * network that drops packets ends a housekeeping query with an error (the session is refused, the janitor retries)
 * rather than holding a connection thread or the catalog lock forever (decision 0041).
 */
public final class HousekeepingClient implements PgCatalog.Queries, AdminConnection {
    /** Long enough for the catalog of a large database; the administrative statements take milliseconds. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** The server's own timeout answers first; the socket's is for a server that cannot answer at all. */
    static final Duration READ_GRACE = Duration.ofSeconds(5);
    /** The catalog's largest rows are view definitions; 64 MiB leaves room for any sane one. */
    private static final int DECODE_LIMIT = 64 * 1024 * 1024;

    /** The server refused a statement: its primary message and SQLSTATE, never its detail. */
    public static final class Refused extends IOException {
        private final String sqlState;

        Refused(String message, String sqlState) {
            super(message + " (SQLSTATE " + sqlState + ")");
            this.sqlState = sqlState;
        }

        public String sqlState() {
            return sqlState;
        }
    }

    private final UpstreamConnection connection;

    private HousekeepingClient(UpstreamConnection connection) {
        this.connection = connection;
    }

    /** Logs in with the upstream's configured credential; {@code purpose} is the application_name the server shows. */
    public static HousekeepingClient open(UpstreamConfig config, String purpose) throws UpstreamException {
        return open(config, purpose, TIMEOUT);
    }

    static HousekeepingClient open(UpstreamConfig config, String purpose, Duration timeout) throws UpstreamException {
        UpstreamConnection c = UpstreamConnection.open(config, Map.of("application_name", purpose,
                "statement_timeout", Long.toString(timeout.toMillis())), DECODE_LIMIT);
        return over(c, timeout);
    }

    /**
     * A client over a connection the caller opened (as a session's own user, say, with its own
     * statement_timeout of {@code timeout}); its reads are bounded too. Closing the client closes that connection.
     */
    public static HousekeepingClient over(UpstreamConnection connection, Duration timeout) {
        try {
            connection.readTimeout(timeout.plus(READ_GRACE));
        } catch (IOException e) {
            // The socket is already closed: the first query says so.
        }
        return new HousekeepingClient(connection);
    }

    /** Loads {@code config}'s catalog over a connection of its own, closed afterwards. */
    public static PgCatalog loadCatalog(UpstreamConfig config) throws IOException {
        try (HousekeepingClient c = open(config, "phigate catalog")) {
            return PgCatalog.load(c);
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The administrative connections of the ephemeral session users, by upstream name. */
    public static AdminConnection.Opener admin(Function<String, UpstreamConfig> upstreams) {
        return name -> {
            UpstreamConfig upstream = upstreams.apply(name);
            if (upstream == null) {
                throw new IOException("upstream '" + name + "' is not configured");
            }
            try {
                return open(upstream, "phigate-admin");
            } catch (UpstreamException e) {
                throw new IOException(e.getMessage(), e);
            }
        };
    }

    /**
     * Runs {@code sql} (one statement, or several separated by semicolons) and returns the rows; SQL NULL is null.
     * An ErrorResponse becomes {@link Refused}, thrown once the connection is back at ReadyForQuery, so the
     * connection stays usable.
     */
    @Override
    public List<List<String>> query(String sql) throws IOException {
        connection.out().write(MessageCodec.encode(new FrontendMessage.Query(sql)));
        connection.out().flush();
        List<List<String>> rows = new ArrayList<>();
        Refused refused = null;
        try {
            while (true) {
                if (connection.reader().next() < 0) {
                    throw new IOException("upstream closed the connection during a housekeeping query");
                }
                BackendMessage m = MessageCodec.decodeBackend(connection.reader().type(), connection.reader().body());
                switch (m) {
                    case DataRow r -> rows.add(Arrays.stream(r.values())
                            .map(v -> v == null ? null : new String(v, StandardCharsets.UTF_8)).toList());
                    case ErrorResponse e -> refused = refused != null ? refused : new Refused(e.message(), e.sqlState());
                    case ReadyForQuery r -> {
                        if (refused != null) {
                            throw refused;
                        }
                        return rows;
                    }
                    case CopyInResponse c -> throw new IOException("a housekeeping query unexpectedly started COPY FROM");
                    default -> {
                        // RowDescription, CommandComplete, notices, parameter changes: nothing to keep.
                    }
                }
            }
        } catch (SocketTimeoutException e) {
            // Whatever the server sends later belongs to a query nobody waits for: the connection is done.
            connection.abort();
            throw e;
        }
    }

    @Override
    public void close() {
        connection.close();
    }
}
