package io.phigate.pg.message;

import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.BackendMessage.NoticeResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/** The SQLSTATEs phigate itself raises, and builders for the error and notice messages that carry them. */
public final class ErrorCodes {
    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String CANNOT_CONNECT_NOW = "57P03";
    public static final String CONNECTION_REJECTED = "08004";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String INVALID_AUTHORIZATION = "28000";
    public static final String INVALID_CATALOG_NAME = "3D000";
    public static final String TOO_MANY_CONNECTIONS = "53300";
    public static final String SYSTEM_IO_ERROR = "58030";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String ADMIN_SHUTDOWN = "57P01";
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    /** The server's code for a prepared statement or portal name that does not exist. */
    public static final String INVALID_SQL_STATEMENT_NAME = "26000";
    public static final String INVALID_CURSOR_NAME = "34000";

    private ErrorCodes() {
    }

    public static ErrorResponse error(String sqlState, String message) {
        return new ErrorResponse(fields("ERROR", sqlState, message));
    }

    /** An error with a 1-based statement position (the P field), as the server reports syntax errors; 0: none. */
    public static ErrorResponse error(String sqlState, String message, int position) {
        Map<Byte, String> f = fields("ERROR", sqlState, message);
        if (position > 0) {
            f.put((byte) 'P', Integer.toString(position));
        }
        return new ErrorResponse(f);
    }

    public static ErrorResponse fatal(String sqlState, String message) {
        return new ErrorResponse(fields("FATAL", sqlState, message));
    }

    public static NoticeResponse notice(String message) {
        return new NoticeResponse(fields("NOTICE", "00000", message));
    }

    private static Map<Byte, String> fields(String severity, String sqlState, String message) {
        Map<Byte, String> f = new LinkedHashMap<>();
        f.put((byte) 'S', severity);
        f.put((byte) 'V', severity);
        f.put((byte) 'C', sqlState);
        f.put((byte) 'M', message);
        return f;
    }
}
