package io.phigate.pg.message;

import java.util.List;
import java.util.Map;

/**
 * Messages the server sends, named as in the PostgreSQL protocol documentation. The gateway forwards most of
 * them as raw frames and decodes only what it acts on; these types are what it decodes and what it synthesises.
 */
public sealed interface BackendMessage {

    /** 'R' with code 0. */
    record AuthenticationOk() implements BackendMessage {
        public static final AuthenticationOk INSTANCE = new AuthenticationOk();
    }

    /** 'R' with code 3. */
    record AuthenticationCleartextPassword() implements BackendMessage {
        public static final AuthenticationCleartextPassword INSTANCE = new AuthenticationCleartextPassword();
    }

    /** 'R' with code 5 and a four-byte salt. */
    record AuthenticationMD5Password(byte[] salt) implements BackendMessage {
    }

    /** 'R' with code 10: the SASL mechanisms the server offers. */
    record AuthenticationSASL(List<String> mechanisms) implements BackendMessage {
    }

    /** 'R' with code 11. */
    record AuthenticationSASLContinue(byte[] data) implements BackendMessage {
    }

    /** 'R' with code 12. */
    record AuthenticationSASLFinal(byte[] data) implements BackendMessage {
    }

    /** 'R' with a code phigate does not implement (Kerberos, GSS, SSPI). */
    record AuthenticationOther(int code) implements BackendMessage {
    }

    /** 'S'. */
    record ParameterStatus(String name, String value) implements BackendMessage {
    }

    /** 'K'. The key is four bytes in protocol 3.0 and up to 256 in 3.2. */
    record BackendKeyData(int processId, byte[] secretKey) implements BackendMessage {
        @Override
        public String toString() {
            return "BackendKeyData[processId=" + processId + "]";
        }
    }

    /** 'Z' with the transaction status: 'I' idle, 'T' in a transaction block, 'E' in a failed one. */
    record ReadyForQuery(byte status) implements BackendMessage {
        public static final ReadyForQuery IDLE = new ReadyForQuery((byte) 'I');
    }

    /** 'T'. */
    record RowDescription(List<Field> fields) implements BackendMessage {
        public record Field(String name, int tableOid, short columnNumber, int typeOid, short typeSize,
                            int typeModifier, short format) {
        }
    }

    /** 'D'. A null entry is SQL NULL. */
    record DataRow(byte[][] values) implements BackendMessage {
        @Override
        public String toString() {
            return "DataRow[columns=" + values.length + "]";
        }
    }

    /** 'C': the command tag, e.g. "SELECT 5", "INSERT 0 1". */
    record CommandComplete(String tag) implements BackendMessage {
        /** The row count at the end of the tag, or -1 when the tag carries none. */
        public long rows() {
            int space = tag.lastIndexOf(' ');
            if (space < 0) {
                return -1;
            }
            try {
                return Long.parseLong(tag, space + 1, tag.length(), 10);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }

    /** 'I'. */
    record EmptyQueryResponse() implements BackendMessage {
        public static final EmptyQueryResponse INSTANCE = new EmptyQueryResponse();
    }

    /** 'E'. Fields are keyed by their one-byte code ('S' severity, 'C' SQLSTATE, 'M' message, ...). */
    record ErrorResponse(Map<Byte, String> fields) implements BackendMessage {
        public String sqlState() {
            return fields.get((byte) 'C');
        }

        public String message() {
            return fields.get((byte) 'M');
        }

        /** Messages and details can quote row values (a duplicate key, a bad input), so only the code prints. */
        @Override
        public String toString() {
            return "ErrorResponse[severity=" + fields.get((byte) 'V') + ", sqlState=" + sqlState() + "]";
        }
    }

    /** 'N'. */
    record NoticeResponse(Map<Byte, String> fields) implements BackendMessage {
        @Override
        public String toString() {
            return "NoticeResponse[severity=" + fields.get((byte) 'V') + ", sqlState=" + fields.get((byte) 'C') + "]";
        }
    }

    /** '1'. */
    record ParseComplete() implements BackendMessage {
        public static final ParseComplete INSTANCE = new ParseComplete();
    }

    /** '2'. */
    record BindComplete() implements BackendMessage {
        public static final BindComplete INSTANCE = new BindComplete();
    }

    /** '3'. */
    record CloseComplete() implements BackendMessage {
        public static final CloseComplete INSTANCE = new CloseComplete();
    }

    /** 'n'. */
    record NoData() implements BackendMessage {
        public static final NoData INSTANCE = new NoData();
    }

    /** 's'. */
    record PortalSuspended() implements BackendMessage {
        public static final PortalSuspended INSTANCE = new PortalSuspended();
    }

    /** 't'. */
    record ParameterDescription(int[] typeOids) implements BackendMessage {
    }

    /** 'G'. */
    record CopyInResponse(byte format, short[] columnFormats) implements BackendMessage {
    }

    /** 'H'. */
    record CopyOutResponse(byte format, short[] columnFormats) implements BackendMessage {
    }

    /** 'W' (replication only; refused at startup, decoded for completeness). */
    record CopyBothResponse(byte format, short[] columnFormats) implements BackendMessage {
    }

    /** 'd'. */
    record CopyData(byte[] data) implements BackendMessage {
        @Override
        public String toString() {
            return "CopyData[bytes=" + data.length + "]";
        }
    }

    /** 'c'. */
    record CopyDone() implements BackendMessage {
        public static final CopyDone INSTANCE = new CopyDone();
    }

    /** 'A': LISTEN/NOTIFY. */
    record NotificationResponse(int processId, String channel, String payload) implements BackendMessage {
        @Override
        public String toString() {
            return "NotificationResponse[processId=" + processId + ", channel=" + channel + "]";
        }
    }

    /** 'V'. A null result is SQL NULL. */
    record FunctionCallResponse(byte[] result) implements BackendMessage {
        @Override
        public String toString() {
            return "FunctionCallResponse[bytes=" + (result == null ? -1 : result.length) + "]";
        }
    }

    /** 'v': the newest minor version the server supports and the options it did not recognise. */
    record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognisedOptions) implements BackendMessage {
    }

    /** A message type phigate does not know. */
    record Unknown(byte type, byte[] body) implements BackendMessage {
        @Override
        public String toString() {
            return "Unknown[type=" + (char) type + ", bytes=" + body.length + "]";
        }
    }
}
