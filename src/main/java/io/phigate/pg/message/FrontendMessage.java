package io.phigate.pg.message;

import java.util.Arrays;
import java.util.Map;

/**
 * Messages a client sends, named as in the PostgreSQL protocol documentation. The first four are untyped
 * startup-phase packets; the rest carry a type byte. Records holding values (parameters, passwords, COPY data)
 * never print them.
 */
public sealed interface FrontendMessage {

    /** StartupMessage: protocol version (major << 16 | minor) and the connection parameters. */
    record StartupMessage(int protocolVersion, Map<String, String> parameters) implements FrontendMessage {
        public int majorVersion() {
            return protocolVersion >>> 16;
        }

        public int minorVersion() {
            return protocolVersion & 0xFFFF;
        }
    }

    /** SSLRequest: the client asks to switch to TLS before the startup message. */
    record SslRequest() implements FrontendMessage {
        public static final SslRequest INSTANCE = new SslRequest();
    }

    /** GSSENCRequest: the client asks for GSSAPI encryption; phigate always answers 'N'. */
    record GssEncRequest() implements FrontendMessage {
        public static final GssEncRequest INSTANCE = new GssEncRequest();
    }

    /** CancelRequest: sent on a new connection; the key identifies the session whose statement to cancel. */
    record CancelRequest(int processId, byte[] secretKey) implements FrontendMessage {
        @Override
        public String toString() {
            return "CancelRequest[processId=" + processId + "]";
        }
    }

    /** Query ('Q'): simple query protocol; may hold several statements separated by semicolons. */
    record Query(String sql) implements FrontendMessage {
        @Override
        public String toString() {
            return "Query[length=" + sql.length() + "]";
        }
    }

    /** Parse ('P'). An empty name is the unnamed prepared statement. */
    record Parse(String statement, String query, int[] parameterTypes) implements FrontendMessage {
        @Override
        public String toString() {
            return "Parse[statement=" + statement + ", length=" + query.length() + ", parameterTypes="
                    + parameterTypes.length + "]";
        }
    }

    /**
     * Bind ('B'). A parameter value of null is SQL NULL. {@code parameterFormats} follows the protocol: empty
     * means all text, one entry applies to all, otherwise one per parameter.
     */
    record Bind(String portal, String statement, short[] parameterFormats, byte[][] parameters,
                short[] resultFormats) implements FrontendMessage {
        /** The format code (0 text, 1 binary) of parameter {@code i}. */
        public short parameterFormat(int i) {
            return formatOf(parameterFormats, i);
        }

        @Override
        public String toString() {
            return "Bind[portal=" + portal + ", statement=" + statement + ", parameters=" + parameters.length + "]";
        }
    }

    /** Describe ('D') of a prepared statement ('S') or a portal ('P'). */
    record Describe(byte kind, String name) implements FrontendMessage {
    }

    /** Execute ('E'). {@code maxRows} 0 means no limit. */
    record Execute(String portal, int maxRows) implements FrontendMessage {
    }

    /** Close ('C') of a prepared statement ('S') or a portal ('P'). */
    record Close(byte kind, String name) implements FrontendMessage {
    }

    /** Sync ('S'): ends an extended-protocol batch; the server answers ReadyForQuery. */
    record Sync() implements FrontendMessage {
        public static final Sync INSTANCE = new Sync();
    }

    /** Flush ('H'): asks the server to send what it has without ending the batch. */
    record Flush() implements FrontendMessage {
        public static final Flush INSTANCE = new Flush();
    }

    /** Terminate ('X'). */
    record Terminate() implements FrontendMessage {
        public static final Terminate INSTANCE = new Terminate();
    }

    /** CopyData ('d') from the client during COPY FROM STDIN. */
    record CopyData(byte[] data) implements FrontendMessage {
        @Override
        public String toString() {
            return "CopyData[bytes=" + data.length + "]";
        }
    }

    /** CopyDone ('c'). */
    record CopyDone() implements FrontendMessage {
        public static final CopyDone INSTANCE = new CopyDone();
    }

    /** CopyFail ('f'). */
    record CopyFail(String message) implements FrontendMessage {
    }

    /** FunctionCall ('F'), the legacy fast-path interface. */
    record FunctionCall(int functionOid, short[] argumentFormats, byte[][] arguments, short resultFormat)
            implements FrontendMessage {
        public short argumentFormat(int i) {
            return formatOf(argumentFormats, i);
        }

        @Override
        public String toString() {
            return "FunctionCall[oid=" + functionOid + ", arguments=" + arguments.length + "]";
        }
    }

    /**
     * 'p': PasswordMessage, SASLInitialResponse, SASLResponse or GSSResponse. Which one depends on the
     * authentication request that preceded it, so the codec keeps the bytes and the authenticator interprets them.
     */
    record AuthenticationResponse(byte[] data) implements FrontendMessage {
        @Override
        public String toString() {
            return "AuthenticationResponse[bytes=" + data.length + "]";
        }
    }

    /** A typed message phigate does not know. Refused by rule, never forwarded blindly. */
    record Unknown(byte type, byte[] body) implements FrontendMessage {
        @Override
        public String toString() {
            return "Unknown[type=" + (char) type + ", bytes=" + body.length + "]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Unknown u && u.type == type && Arrays.equals(u.body, body);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(body);
        }
    }

    private static short formatOf(short[] formats, int i) {
        return switch (formats.length) {
            case 0 -> 0;
            case 1 -> formats[0];
            default -> formats[i];
        };
    }
}
