package io.phigate.credentials;

import java.io.IOException;
import java.util.List;

/**
 * The gateway's administrative connection to one upstream, as this package needs it: one simple statement at a
 * time, rows as text (SQL NULL is null). A server error is an IOException whose message is the server's primary
 * message and SQLSTATE only, never its detail, because statements here may carry a password verifier. The
 * protocol package implements it (its housekeeping client, with read and statement timeouts) and the composition
 * root wires it in, so this package never touches the wire (decision 0041).
 */
public interface AdminConnection extends AutoCloseable {

    List<List<String>> query(String sql) throws IOException;

    @Override
    void close();

    /** Opens the administrative connection to the upstream clients know by this name. */
    @FunctionalInterface
    interface Opener {
        AdminConnection open(String upstream) throws IOException;
    }
}
