package io.phigate.credentials;

import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one simple-protocol statement on the gateway's administrative connection and reads its answer to
 * ReadyForQuery: the rows as text, or {@link Failed} with the server's SQLSTATE. Statements here may carry a
 * password verifier, so neither the statement nor the server's detail is ever logged.
 */
final class AdminSql {
    private AdminSql() {
    }

    /** The server answered with an ErrorResponse; the message is the server's primary message only. */
    static final class Failed extends Exception {
        private final String sqlState;

        Failed(String sqlState, String message) {
            super(message);
            this.sqlState = sqlState;
        }

        String sqlState() {
            return sqlState;
        }
    }

    static List<List<String>> run(UpstreamConnection c, String sql) throws IOException, Failed {
        OutputStream out = c.out();
        out.write(MessageCodec.encode(new FrontendMessage.Query(sql)));
        out.flush();
        List<List<String>> rows = new ArrayList<>();
        Failed failed = null;
        while (true) {
            if (c.reader().next() < 0) {
                throw new IOException("the server closed the administrative connection");
            }
            BackendMessage m = MessageCodec.decodeBackend(c.reader().type(), c.reader().body());
            switch (m) {
                case BackendMessage.DataRow d -> {
                    List<String> row = new ArrayList<>(d.values().length);
                    for (byte[] v : d.values()) {
                        row.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
                    }
                    rows.add(row);
                }
                case BackendMessage.ErrorResponse e -> {
                    if (failed == null) {
                        failed = new Failed(e.sqlState(), e.message());
                    }
                }
                case BackendMessage.ReadyForQuery r -> {
                    if (failed != null) {
                        throw failed;
                    }
                    return rows;
                }
                default -> {
                    // RowDescription, CommandComplete, notices: nothing to act on.
                }
            }
        }
    }

    /** A string literal with standard_conforming_strings on (PostgreSQL's default since 9.1). */
    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String identifier(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
