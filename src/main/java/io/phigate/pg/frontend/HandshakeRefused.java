package io.phigate.pg.frontend;

/** The handshake ends without a session; the client is told why with {@code sqlState}. */
public final class HandshakeRefused extends Exception {
    private final String sqlState;
    private final String upstream;
    private final transient String presentedToken;

    public HandshakeRefused(String sqlState, String message, String upstream) {
        this(sqlState, message, upstream, null);
    }

    /** A refused token; kept only so the refusal can name the claimed issuer and subject, never printed. */
    public HandshakeRefused(String sqlState, String message, String upstream, String presentedToken) {
        super(message);
        this.sqlState = sqlState;
        this.upstream = upstream;
        this.presentedToken = presentedToken;
    }

    public String presentedToken() {
        return presentedToken;
    }

    public String sqlState() {
        return sqlState;
    }

    public String upstream() {
        return upstream;
    }
}
