package io.phigate.pg.message;

import io.phigate.pg.message.BackendMessage.*;
import io.phigate.pg.message.FrontendMessage.*;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place PostgreSQL messages are decoded and encoded. Decoding takes a frame body (without type byte
 * and length) and throws {@link ProtocolException} on anything malformed; encoding returns a whole frame.
 */
public final class MessageCodec {
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;
    public static final int CANCEL_REQUEST_CODE = 80877102;
    public static final int PROTOCOL_3_0 = 3 << 16;
    /** The longest cancel key protocol 3.2 allows. */
    static final int MAX_CANCEL_KEY = 256;

    private MessageCodec() {
    }

    /** Decodes an untyped startup-phase packet; {@code packet} excludes its length word. */
    public static FrontendMessage decodeStartup(byte[] packet) throws ProtocolException {
        BodyReader r = new BodyReader(packet, "startup packet");
        int code = r.int32();
        switch (code) {
            case SSL_REQUEST_CODE -> {
                r.end();
                return SslRequest.INSTANCE;
            }
            case GSSENC_REQUEST_CODE -> {
                r.end();
                return GssEncRequest.INSTANCE;
            }
            case CANCEL_REQUEST_CODE -> {
                int pid = r.int32();
                if (r.remaining() < 4 || r.remaining() > MAX_CANCEL_KEY) {
                    throw new ProtocolException("malformed CancelRequest: key of " + r.remaining() + " bytes");
                }
                return new CancelRequest(pid, r.rest());
            }
            default -> {
                if (code >>> 16 != 3) {
                    throw new ProtocolException("unsupported frontend protocol " + (code >>> 16) + "."
                            + (code & 0xFFFF) + ": phigate supports 3.0");
                }
                Map<String, String> params = new LinkedHashMap<>();
                while (true) {
                    String name = r.cstring();
                    if (name.isEmpty()) {
                        break;
                    }
                    if (params.put(name, r.cstring()) != null) {
                        throw new ProtocolException("malformed StartupMessage: parameter " + name + " repeated");
                    }
                }
                r.end();
                return new StartupMessage(code, Collections.unmodifiableMap(params));
            }
        }
    }

    public static FrontendMessage decodeFrontend(byte type, byte[] body) throws ProtocolException {
        return switch (type) {
            case 'Q' -> {
                BodyReader r = new BodyReader(body, "Query");
                String sql = r.cstring();
                r.end();
                yield new Query(sql);
            }
            case 'P' -> {
                BodyReader r = new BodyReader(body, "Parse");
                String name = r.cstring();
                String query = r.cstring();
                int n = r.count16();
                int[] types = new int[n];
                for (int i = 0; i < n; i++) {
                    types[i] = r.int32();
                }
                r.end();
                yield new Parse(name, query, types);
            }
            case 'B' -> decodeBind(body);
            case 'D' -> {
                BodyReader r = new BodyReader(body, "Describe");
                byte kind = statementOrPortal(r.int8(), "Describe");
                String name = r.cstring();
                r.end();
                yield new Describe(kind, name);
            }
            case 'E' -> {
                BodyReader r = new BodyReader(body, "Execute");
                String portal = r.cstring();
                int maxRows = r.int32();
                r.end();
                yield new Execute(portal, maxRows);
            }
            case 'C' -> {
                BodyReader r = new BodyReader(body, "Close");
                byte kind = statementOrPortal(r.int8(), "Close");
                String name = r.cstring();
                r.end();
                yield new Close(kind, name);
            }
            case 'S' -> empty(body, "Sync", Sync.INSTANCE);
            case 'H' -> empty(body, "Flush", Flush.INSTANCE);
            case 'X' -> empty(body, "Terminate", Terminate.INSTANCE);
            case 'd' -> new FrontendMessage.CopyData(body);
            case 'c' -> empty(body, "CopyDone", FrontendMessage.CopyDone.INSTANCE);
            case 'f' -> {
                BodyReader r = new BodyReader(body, "CopyFail");
                String msg = r.cstring();
                r.end();
                yield new CopyFail(msg);
            }
            case 'F' -> {
                BodyReader r = new BodyReader(body, "FunctionCall");
                int oid = r.int32();
                short[] argFormats = formats(r);
                int n = r.count16();
                byte[][] args = new byte[n][];
                for (int i = 0; i < n; i++) {
                    args[i] = r.lengthPrefixed();
                }
                short resultFormat = r.int16();
                r.end();
                checkFormats(argFormats, n, "FunctionCall");
                yield new FunctionCall(oid, argFormats, args, resultFormat);
            }
            case 'p' -> new AuthenticationResponse(body);
            default -> new FrontendMessage.Unknown(type, body);
        };
    }

    private static Bind decodeBind(byte[] body) throws ProtocolException {
        BodyReader r = new BodyReader(body, "Bind");
        String portal = r.cstring();
        String statement = r.cstring();
        short[] paramFormats = formats(r);
        int n = r.int16() & 0xFFFF;
        // Each value has at least its Int32 length.
        if (n * 4L > r.remaining()) {
            throw new ProtocolException("malformed Bind: " + n + " parameters exceed the message");
        }
        byte[][] params = new byte[n][];
        for (int i = 0; i < n; i++) {
            params[i] = r.lengthPrefixed();
        }
        short[] resultFormats = formats(r);
        r.end();
        checkFormats(paramFormats, n, "Bind");
        return new Bind(portal, statement, paramFormats, params, resultFormats);
    }

    public static BackendMessage decodeBackend(byte type, byte[] body) throws ProtocolException {
        return switch (type) {
            case 'R' -> decodeAuthentication(body);
            case 'S' -> {
                BodyReader r = new BodyReader(body, "ParameterStatus");
                String name = r.cstring();
                String value = r.cstring();
                r.end();
                yield new ParameterStatus(name, value);
            }
            case 'K' -> {
                BodyReader r = new BodyReader(body, "BackendKeyData");
                int pid = r.int32();
                if (r.remaining() < 4 || r.remaining() > MAX_CANCEL_KEY) {
                    throw new ProtocolException("malformed BackendKeyData: key of " + r.remaining() + " bytes");
                }
                yield new BackendKeyData(pid, r.rest());
            }
            case 'Z' -> {
                BodyReader r = new BodyReader(body, "ReadyForQuery");
                byte status = r.int8();
                r.end();
                if (status != 'I' && status != 'T' && status != 'E') {
                    throw new ProtocolException("malformed ReadyForQuery: status " + status);
                }
                yield new ReadyForQuery(status);
            }
            case 'T' -> {
                BodyReader r = new BodyReader(body, "RowDescription");
                int n = r.count16();
                List<RowDescription.Field> fields = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    fields.add(new RowDescription.Field(r.cstring(), r.int32(), r.int16(), r.int32(), r.int16(),
                            r.int32(), r.int16()));
                }
                r.end();
                yield new RowDescription(List.copyOf(fields));
            }
            case 'D' -> {
                BodyReader r = new BodyReader(body, "DataRow");
                int n = r.count16();
                byte[][] values = new byte[n][];
                for (int i = 0; i < n; i++) {
                    values[i] = r.lengthPrefixed();
                }
                r.end();
                yield new DataRow(values);
            }
            case 'C' -> {
                BodyReader r = new BodyReader(body, "CommandComplete");
                String tag = r.cstring();
                r.end();
                yield new CommandComplete(tag);
            }
            case 'I' -> empty(body, "EmptyQueryResponse", EmptyQueryResponse.INSTANCE);
            case 'E' -> new ErrorResponse(fields(body, "ErrorResponse"));
            case 'N' -> new NoticeResponse(fields(body, "NoticeResponse"));
            case '1' -> empty(body, "ParseComplete", ParseComplete.INSTANCE);
            case '2' -> empty(body, "BindComplete", BindComplete.INSTANCE);
            case '3' -> empty(body, "CloseComplete", CloseComplete.INSTANCE);
            case 'n' -> empty(body, "NoData", NoData.INSTANCE);
            case 's' -> empty(body, "PortalSuspended", PortalSuspended.INSTANCE);
            case 't' -> {
                BodyReader r = new BodyReader(body, "ParameterDescription");
                int n = r.count16();
                int[] oids = new int[n];
                for (int i = 0; i < n; i++) {
                    oids[i] = r.int32();
                }
                r.end();
                yield new ParameterDescription(oids);
            }
            case 'G', 'H', 'W' -> {
                BodyReader r = new BodyReader(body, "CopyResponse");
                byte format = r.int8();
                short[] columns = new short[r.count16()];
                for (int i = 0; i < columns.length; i++) {
                    columns[i] = r.int16();
                }
                r.end();
                yield switch (type) {
                    case 'G' -> new CopyInResponse(format, columns);
                    case 'H' -> new CopyOutResponse(format, columns);
                    default -> new CopyBothResponse(format, columns);
                };
            }
            case 'd' -> new BackendMessage.CopyData(body);
            case 'c' -> empty(body, "CopyDone", BackendMessage.CopyDone.INSTANCE);
            case 'A' -> {
                BodyReader r = new BodyReader(body, "NotificationResponse");
                int pid = r.int32();
                String channel = r.cstring();
                String payload = r.cstring();
                r.end();
                yield new NotificationResponse(pid, channel, payload);
            }
            case 'V' -> {
                BodyReader r = new BodyReader(body, "FunctionCallResponse");
                byte[] result = r.lengthPrefixed();
                r.end();
                yield new FunctionCallResponse(result);
            }
            case 'v' -> {
                BodyReader r = new BodyReader(body, "NegotiateProtocolVersion");
                int minor = r.int32();
                int n = r.int32();
                if (n < 0 || n > r.remaining()) {
                    throw new ProtocolException("malformed NegotiateProtocolVersion: " + n + " options");
                }
                List<String> options = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    options.add(r.cstring());
                }
                r.end();
                yield new NegotiateProtocolVersion(minor, List.copyOf(options));
            }
            default -> new BackendMessage.Unknown(type, body);
        };
    }

    private static BackendMessage decodeAuthentication(byte[] body) throws ProtocolException {
        BodyReader r = new BodyReader(body, "Authentication");
        int code = r.int32();
        BackendMessage m = switch (code) {
            case 0 -> AuthenticationOk.INSTANCE;
            case 3 -> AuthenticationCleartextPassword.INSTANCE;
            case 5 -> new AuthenticationMD5Password(r.bytes(4));
            case 10 -> {
                List<String> mechanisms = new ArrayList<>();
                while (true) {
                    String m2 = r.cstring();
                    if (m2.isEmpty()) {
                        break;
                    }
                    mechanisms.add(m2);
                }
                yield new AuthenticationSASL(List.copyOf(mechanisms));
            }
            case 11 -> new AuthenticationSASLContinue(r.rest());
            case 12 -> new AuthenticationSASLFinal(r.rest());
            default -> {
                r.rest();
                yield new AuthenticationOther(code);
            }
        };
        r.end();
        return m;
    }

    // ---- encoding ----

    public static byte[] encode(BackendMessage message) {
        return switch (message) {
            case AuthenticationOk m -> new FrameBuilder((byte) 'R').int32(0).build();
            case AuthenticationCleartextPassword m -> new FrameBuilder((byte) 'R').int32(3).build();
            case AuthenticationMD5Password m -> new FrameBuilder((byte) 'R').int32(5).bytes(m.salt()).build();
            case AuthenticationSASL m -> {
                FrameBuilder b = new FrameBuilder((byte) 'R').int32(10);
                m.mechanisms().forEach(b::cstring);
                yield b.int8(0).build();
            }
            case AuthenticationSASLContinue m -> new FrameBuilder((byte) 'R').int32(11).bytes(m.data()).build();
            case AuthenticationSASLFinal m -> new FrameBuilder((byte) 'R').int32(12).bytes(m.data()).build();
            case AuthenticationOther m -> new FrameBuilder((byte) 'R').int32(m.code()).build();
            case ParameterStatus m -> new FrameBuilder((byte) 'S').cstring(m.name()).cstring(m.value()).build();
            case BackendKeyData m -> new FrameBuilder((byte) 'K').int32(m.processId()).bytes(m.secretKey()).build();
            case ReadyForQuery m -> new FrameBuilder((byte) 'Z').int8(m.status()).build();
            case RowDescription m -> {
                FrameBuilder b = new FrameBuilder((byte) 'T').int16(m.fields().size());
                for (RowDescription.Field f : m.fields()) {
                    b.cstring(f.name()).int32(f.tableOid()).int16(f.columnNumber()).int32(f.typeOid())
                            .int16(f.typeSize()).int32(f.typeModifier()).int16(f.format());
                }
                yield b.build();
            }
            case DataRow m -> {
                FrameBuilder b = new FrameBuilder((byte) 'D').int16(m.values().length);
                for (byte[] v : m.values()) {
                    b.lengthPrefixed(v);
                }
                yield b.build();
            }
            case CommandComplete m -> new FrameBuilder((byte) 'C').cstring(m.tag()).build();
            case EmptyQueryResponse m -> new FrameBuilder((byte) 'I').build();
            case ErrorResponse m -> fieldsFrame((byte) 'E', m.fields());
            case NoticeResponse m -> fieldsFrame((byte) 'N', m.fields());
            case ParseComplete m -> new FrameBuilder((byte) '1').build();
            case BindComplete m -> new FrameBuilder((byte) '2').build();
            case CloseComplete m -> new FrameBuilder((byte) '3').build();
            case NoData m -> new FrameBuilder((byte) 'n').build();
            case PortalSuspended m -> new FrameBuilder((byte) 's').build();
            case ParameterDescription m -> {
                FrameBuilder b = new FrameBuilder((byte) 't').int16(m.typeOids().length);
                for (int oid : m.typeOids()) {
                    b.int32(oid);
                }
                yield b.build();
            }
            case CopyInResponse m -> new FrameBuilder((byte) 'G').int8(m.format()).int16s(m.columnFormats()).build();
            case CopyOutResponse m -> new FrameBuilder((byte) 'H').int8(m.format()).int16s(m.columnFormats()).build();
            case CopyBothResponse m -> new FrameBuilder((byte) 'W').int8(m.format()).int16s(m.columnFormats()).build();
            case BackendMessage.CopyData m -> new FrameBuilder((byte) 'd').bytes(m.data()).build();
            case BackendMessage.CopyDone m -> new FrameBuilder((byte) 'c').build();
            case NotificationResponse m ->
                    new FrameBuilder((byte) 'A').int32(m.processId()).cstring(m.channel()).cstring(m.payload()).build();
            case FunctionCallResponse m -> new FrameBuilder((byte) 'V').lengthPrefixed(m.result()).build();
            case NegotiateProtocolVersion m -> {
                FrameBuilder b = new FrameBuilder((byte) 'v').int32(m.newestMinorVersion())
                        .int32(m.unrecognisedOptions().size());
                m.unrecognisedOptions().forEach(b::cstring);
                yield b.build();
            }
            case BackendMessage.Unknown m -> new FrameBuilder(m.type()).bytes(m.body()).build();
        };
    }

    public static byte[] encode(FrontendMessage message) {
        return switch (message) {
            case StartupMessage m -> {
                FrameBuilder b = new FrameBuilder().int32(m.protocolVersion());
                m.parameters().forEach((k, v) -> b.cstring(k).cstring(v));
                yield b.int8(0).build();
            }
            case SslRequest m -> new FrameBuilder().int32(SSL_REQUEST_CODE).build();
            case GssEncRequest m -> new FrameBuilder().int32(GSSENC_REQUEST_CODE).build();
            case CancelRequest m ->
                    new FrameBuilder().int32(CANCEL_REQUEST_CODE).int32(m.processId()).bytes(m.secretKey()).build();
            case Query m -> new FrameBuilder((byte) 'Q').cstring(m.sql()).build();
            case Parse m -> {
                FrameBuilder b = new FrameBuilder((byte) 'P').cstring(m.statement()).cstring(m.query())
                        .int16(m.parameterTypes().length);
                for (int t : m.parameterTypes()) {
                    b.int32(t);
                }
                yield b.build();
            }
            case Bind m -> {
                FrameBuilder b = new FrameBuilder((byte) 'B').cstring(m.portal()).cstring(m.statement())
                        .int16s(m.parameterFormats()).int16(m.parameters().length);
                for (byte[] p : m.parameters()) {
                    b.lengthPrefixed(p);
                }
                yield b.int16s(m.resultFormats()).build();
            }
            case Describe m -> new FrameBuilder((byte) 'D').int8(m.kind()).cstring(m.name()).build();
            case Execute m -> new FrameBuilder((byte) 'E').cstring(m.portal()).int32(m.maxRows()).build();
            case Close m -> new FrameBuilder((byte) 'C').int8(m.kind()).cstring(m.name()).build();
            case Sync m -> new FrameBuilder((byte) 'S').build();
            case Flush m -> new FrameBuilder((byte) 'H').build();
            case Terminate m -> new FrameBuilder((byte) 'X').build();
            case FrontendMessage.CopyData m -> new FrameBuilder((byte) 'd').bytes(m.data()).build();
            case FrontendMessage.CopyDone m -> new FrameBuilder((byte) 'c').build();
            case CopyFail m -> new FrameBuilder((byte) 'f').cstring(m.message()).build();
            case FunctionCall m -> {
                FrameBuilder b = new FrameBuilder((byte) 'F').int32(m.functionOid()).int16s(m.argumentFormats())
                        .int16(m.arguments().length);
                for (byte[] a : m.arguments()) {
                    b.lengthPrefixed(a);
                }
                yield b.int16(m.resultFormat()).build();
            }
            case AuthenticationResponse m -> new FrameBuilder((byte) 'p').bytes(m.data()).build();
            case FrontendMessage.Unknown m -> new FrameBuilder(m.type()).bytes(m.body()).build();
        };
    }

    // ---- helpers ----

    private static <T> T empty(byte[] body, String name, T instance) throws ProtocolException {
        if (body.length != 0) {
            throw new ProtocolException("malformed " + name + ": expected no body, got " + body.length + " bytes");
        }
        return instance;
    }

    private static byte statementOrPortal(byte kind, String message) throws ProtocolException {
        if (kind != 'S' && kind != 'P') {
            throw new ProtocolException("malformed " + message + ": kind must be 'S' or 'P'");
        }
        return kind;
    }

    private static short[] formats(BodyReader r) throws ProtocolException {
        short[] formats = new short[r.count16()];
        for (int i = 0; i < formats.length; i++) {
            formats[i] = r.int16();
            if (formats[i] != 0 && formats[i] != 1) {
                throw new ProtocolException("malformed message: format code " + formats[i]);
            }
        }
        return formats;
    }

    private static void checkFormats(short[] formats, int values, String message) throws ProtocolException {
        if (formats.length > 1 && formats.length != values) {
            throw new ProtocolException("malformed " + message + ": " + formats.length + " format codes for "
                    + values + " values");
        }
    }

    private static Map<Byte, String> fields(byte[] body, String message) throws ProtocolException {
        BodyReader r = new BodyReader(body, message);
        Map<Byte, String> fields = new LinkedHashMap<>();
        while (true) {
            byte code = r.int8();
            if (code == 0) {
                break;
            }
            fields.put(code, r.cstring());
        }
        r.end();
        return Collections.unmodifiableMap(fields);
    }

    private static byte[] fieldsFrame(byte type, Map<Byte, String> fields) {
        FrameBuilder b = new FrameBuilder(type);
        fields.forEach((code, value) -> b.int8(code).cstring(value));
        return b.int8(0).build();
    }
}
