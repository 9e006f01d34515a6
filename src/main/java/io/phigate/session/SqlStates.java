package io.phigate.session;

/**
 * The SQLSTATEs the pipeline refuses with. The codes are PostgreSQL's (a document-store gateway maps them to its
 * own error codes), kept here so the neutral core names them without importing a protocol package.
 */
public final class SqlStates {
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String SYSTEM_IO_ERROR = "58030";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    public static final String QUERY_CANCELED = "57014";
    public static final String CONFIGURATION_LIMIT_EXCEEDED = "53400";
    /** An administrator ended the session (PostgreSQL's admin_shutdown, as pg_terminate_backend gives). */
    public static final String ADMIN_SHUTDOWN = "57P01";
    /**
     * Ticket mode: the statement needs approval and a request was opened; retry once approved. A class of its own
     * ("PA", phigate approval), so an agent can tell it from every error PostgreSQL raises.
     */
    public static final String APPROVAL_REQUIRED = "PA001";

    private SqlStates() {
    }
}
