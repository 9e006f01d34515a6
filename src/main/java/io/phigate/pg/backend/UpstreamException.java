package io.phigate.pg.backend;

/** The gateway could not open or keep a session on an upstream database. */
public final class UpstreamException extends Exception {
    private final String sqlState;

    public UpstreamException(String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
