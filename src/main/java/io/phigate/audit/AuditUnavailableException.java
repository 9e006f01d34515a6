package io.phigate.audit;

/** The audit store cannot make a record durable; the statement it guards must not run. */
public final class AuditUnavailableException extends Exception {
    public AuditUnavailableException(String message) {
        super(message);
    }

    public AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
