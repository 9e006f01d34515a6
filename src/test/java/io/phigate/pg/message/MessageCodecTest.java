package io.phigate.pg.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.phigate.pg.message.BackendMessage.*;
import io.phigate.pg.message.FrontendMessage.*;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class MessageCodecTest {
    private static final String SECRET = "SECRET-123-45-6789";
    private static final byte[] SECRET_BYTES = SECRET.getBytes(StandardCharsets.UTF_8);

    // ---- samples: at least one instance of every record type ----

    static List<FrontendMessage> frontendSamples() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "clinical");
        params.put("application_name", "psql — ü");
        return List.of(
                new StartupMessage(MessageCodec.PROTOCOL_3_0, params),
                new StartupMessage((3 << 16) | 2, Map.of("user", "bob")),
                SslRequest.INSTANCE,
                GssEncRequest.INSTANCE,
                new CancelRequest(4242, new byte[]{1, 2, 3, 4}),
                new CancelRequest(-7, sequence(32)),
                new Query("SELECT 1; SELECT 'ü'"),
                new Query(""),
                new Parse("s1", "SELECT $1, $2", new int[]{23, 25}),
                new Parse("", "SELECT 1", new int[0]),
                new Bind("p1", "s1", new short[]{0, 1}, new byte[][]{"42".getBytes(), null}, new short[]{1}),
                new Bind("", "", new short[0], new byte[][]{new byte[0]}, new short[0]),
                new Bind("", "", new short[]{1}, new byte[][]{sequence(3), sequence(0), null}, new short[]{0, 1, 0}),
                new Describe((byte) 'S', "s1"),
                new Describe((byte) 'P', ""),
                new Execute("p1", 100),
                new Execute("", 0),
                new Close((byte) 'S', "s1"),
                new Close((byte) 'P', ""),
                Sync.INSTANCE,
                Flush.INSTANCE,
                Terminate.INSTANCE,
                new FrontendMessage.CopyData(sequence(300)),
                new FrontendMessage.CopyData(new byte[0]),
                FrontendMessage.CopyDone.INSTANCE,
                new CopyFail("client gave up"),
                new FunctionCall(1598, new short[]{1}, new byte[][]{sequence(8), null}, (short) 1),
                new FunctionCall(1, new short[0], new byte[0][], (short) 0),
                new AuthenticationResponse("md5abcdef\0".getBytes(StandardCharsets.US_ASCII)),
                new FrontendMessage.Unknown((byte) 'z', sequence(5)));
    }

    static List<BackendMessage> backendSamples() {
        return List.of(
                AuthenticationOk.INSTANCE,
                AuthenticationCleartextPassword.INSTANCE,
                new AuthenticationMD5Password(new byte[]{9, 8, 7, 6}),
                new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
                new AuthenticationSASLContinue("r=abc,s=QSXCR+Q6sek8bf92,i=4096".getBytes(StandardCharsets.US_ASCII)),
                new AuthenticationSASLFinal("v=abc".getBytes(StandardCharsets.US_ASCII)),
                new AuthenticationOther(7),
                new ParameterStatus("server_version", "18.1"),
                new BackendKeyData(12345, new byte[]{1, 2, 3, 4}),
                new BackendKeyData(12345, sequence(32)),
                new ReadyForQuery((byte) 'I'),
                new ReadyForQuery((byte) 'T'),
                new ReadyForQuery((byte) 'E'),
                new RowDescription(List.of(
                        new RowDescription.Field("id", 16384, (short) 1, 23, (short) 4, -1, (short) 0),
                        new RowDescription.Field("näme", 0, (short) 0, 25, (short) -1, -1, (short) 1))),
                new RowDescription(List.of()),
                new DataRow(new byte[][]{"1".getBytes(), null, new byte[0]}),
                new DataRow(new byte[0][]),
                new CommandComplete("SELECT 5"),
                EmptyQueryResponse.INSTANCE,
                ErrorCodes.error(ErrorCodes.PROTOCOL_VIOLATION, "bad"),
                ErrorCodes.notice("hello"),
                ParseComplete.INSTANCE,
                BindComplete.INSTANCE,
                CloseComplete.INSTANCE,
                NoData.INSTANCE,
                PortalSuspended.INSTANCE,
                new ParameterDescription(new int[]{23, 25, 1043}),
                new CopyInResponse((byte) 0, new short[]{0, 0}),
                new CopyOutResponse((byte) 1, new short[]{1}),
                new CopyBothResponse((byte) 0, new short[0]),
                new BackendMessage.CopyData(sequence(300)),
                BackendMessage.CopyDone.INSTANCE,
                new NotificationResponse(77, "jobs", "payload"),
                new FunctionCallResponse(sequence(4)),
                new FunctionCallResponse(null),
                new NegotiateProtocolVersion(0, List.of("_pq_.compression")),
                new BackendMessage.Unknown((byte) 'z', sequence(5)));
    }

    @Test
    void samplesCoverEveryMessageType() {
        assertThat(frontendSamples().stream().map(Object::getClass).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder(FrontendMessage.class.getPermittedSubclasses());
        assertThat(backendSamples().stream().map(Object::getClass).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder(BackendMessage.class.getPermittedSubclasses());
    }

    @ParameterizedTest
    @MethodSource("frontendSamples")
    void frontendMessageSurvivesEncodeThenDecode(FrontendMessage message) throws ProtocolException {
        byte[] frame = MessageCodec.encode(message);
        FrontendMessage decoded = isStartupPhase(message)
                ? MessageCodec.decodeStartup(untypedBody(frame))
                : MessageCodec.decodeFrontend(frame[0], typedBody(frame));

        assertThat(decoded).isExactlyInstanceOf(message.getClass());
        assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
        // Byte-identical re-encoding also proves field and parameter order survive.
        assertThat(MessageCodec.encode(decoded)).isEqualTo(frame);
    }

    @ParameterizedTest
    @MethodSource("backendSamples")
    void backendMessageSurvivesEncodeThenDecode(BackendMessage message) throws ProtocolException {
        byte[] frame = MessageCodec.encode(message);
        BackendMessage decoded = MessageCodec.decodeBackend(frame[0], typedBody(frame));

        assertThat(decoded).isExactlyInstanceOf(message.getClass());
        assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
        assertThat(MessageCodec.encode(decoded)).isEqualTo(frame);
    }

    @Test
    void encodedFramesCarryTheirOwnLength() {
        for (FrontendMessage m : frontendSamples()) {
            byte[] frame = MessageCodec.encode(m);
            int lengthAt = isStartupPhase(m) ? 0 : 1;
            assertThat(int32(frame, lengthAt)).as("%s", m).isEqualTo(frame.length - lengthAt);
        }
        for (BackendMessage m : backendSamples()) {
            byte[] frame = MessageCodec.encode(m);
            assertThat(int32(frame, 1)).as("%s", m).isEqualTo(frame.length - 1);
        }
    }

    // ---- startup-phase packets ----

    @Test
    void startupMessageKeepsVersionAndParametersInOrder() throws ProtocolException {
        byte[] packet = body(new FrameBuilder().int32(MessageCodec.PROTOCOL_3_0)
                .cstring("user").cstring("alice").cstring("database").cstring("clinical")
                .cstring("options").cstring("-c search_path=x").int8(0));

        StartupMessage m = (StartupMessage) MessageCodec.decodeStartup(untypedBody(packet));

        assertThat(m.majorVersion()).isEqualTo(3);
        assertThat(m.minorVersion()).isZero();
        assertThat(m.parameters()).containsExactly(Map.entry("user", "alice"), Map.entry("database", "clinical"),
                Map.entry("options", "-c search_path=x"));
    }

    @Test
    void startupMessageOfProtocol32IsAccepted() throws ProtocolException {
        byte[] packet = untypedBody(body(new FrameBuilder().int32((3 << 16) | 2).cstring("user").cstring("a")
                .int8(0)));

        StartupMessage m = (StartupMessage) MessageCodec.decodeStartup(packet);

        assertThat(m.majorVersion()).isEqualTo(3);
        assertThat(m.minorVersion()).isEqualTo(2);
    }

    @Test
    void sslAndGssEncRequestsAreRecognised() throws ProtocolException {
        assertThat(MessageCodec.decodeStartup(int32Bytes(80877103))).isSameAs(SslRequest.INSTANCE);
        assertThat(MessageCodec.decodeStartup(int32Bytes(80877104))).isSameAs(GssEncRequest.INSTANCE);
    }

    @ParameterizedTest
    @CsvSource({"4", "32", "256"})
    void cancelRequestCarriesKeysOfProtocol30And32(int keyLength) throws ProtocolException {
        byte[] key = sequence(keyLength);
        byte[] packet = untypedBody(body(new FrameBuilder().int32(MessageCodec.CANCEL_REQUEST_CODE).int32(99)
                .bytes(key)));

        CancelRequest m = (CancelRequest) MessageCodec.decodeStartup(packet);

        assertThat(m.processId()).isEqualTo(99);
        assertThat(m.secretKey()).isEqualTo(key);
    }

    // ---- malformed input ----

    static Stream<Arguments> malformedFrontend() {
        return Stream.of(
                Arguments.of("Bind whose parameter count exceeds the body", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(0).int16(1000).int16(0))),
                Arguments.of("Bind with a negative value length other than -1", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(0).int16(1).int32(-2)
                                .int16(0))),
                Arguments.of("Bind with value length beyond the body", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(0).int16(1)
                                .int32(Integer.MAX_VALUE).int16(0))),
                Arguments.of("Bind with parameter format code 2", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(1).int16(2).int16(0)
                                .int16(0))),
                Arguments.of("Bind with result format code 2", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(0).int16(0).int16(1)
                                .int16(2))),
                Arguments.of("Bind with two format codes for three values", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(2).int16(0).int16(1)
                                .int16(3).int32(-1).int32(-1).int32(-1).int16(0))),
                Arguments.of("Bind with trailing bytes", 'B',
                        body(new FrameBuilder((byte) 'B').cstring("").cstring("").int16(0).int16(0).int16(0)
                                .int8(7))),
                Arguments.of("Query with an unterminated string", 'Q',
                        "SELECT 1".getBytes(StandardCharsets.US_ASCII)),
                Arguments.of("Query with bytes after its string", 'Q', new byte[]{'x', 0, 'y'}),
                Arguments.of("Sync with trailing bytes", 'S', new byte[]{0}),
                Arguments.of("Flush with trailing bytes", 'H', new byte[]{1, 2}),
                Arguments.of("Describe of kind 'X'", 'D', body(new FrameBuilder((byte) 'D').int8('X').cstring(""))),
                Arguments.of("Close of kind 'X'", 'C', body(new FrameBuilder((byte) 'C').int8('X').cstring(""))),
                Arguments.of("Describe without a body", 'D', new byte[0]),
                Arguments.of("Execute truncated in its row limit", 'E',
                        body(new FrameBuilder((byte) 'E').cstring("").int16(0))),
                Arguments.of("Parse whose type count exceeds the body", 'P',
                        body(new FrameBuilder((byte) 'P').cstring("").cstring("SELECT 1").int16(0xFFFF))),
                Arguments.of("FunctionCall with one format for two arguments but three codes", 'F',
                        body(new FrameBuilder((byte) 'F').int32(1).int16(3).int16(0).int16(0).int16(0).int16(2)
                                .int32(-1).int32(-1).int16(0))),
                Arguments.of("FunctionCall without a result format", 'F',
                        body(new FrameBuilder((byte) 'F').int32(1).int16(0).int16(0))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedFrontend")
    void malformedFrontendBodyRaisesProtocolException(String what, char type, byte[] body) {
        assertThatThrownBy(() -> MessageCodec.decodeFrontend((byte) type, body))
                .isExactlyInstanceOf(ProtocolException.class);
    }

    @Test
    void everyTruncationOfBindRaisesProtocolException() {
        byte[] full = typedBody(MessageCodec.encode(new Bind("portal", "stmt", new short[]{0, 1},
                new byte[][]{"abc".getBytes(), null}, new short[]{1})));
        for (int cut = 0; cut < full.length; cut++) {
            byte[] truncated = Arrays.copyOf(full, cut);
            assertThatThrownBy(() -> MessageCodec.decodeFrontend((byte) 'B', truncated))
                    .as("Bind cut at %d of %d bytes", cut, full.length)
                    .isExactlyInstanceOf(ProtocolException.class);
        }
    }

    static Stream<Arguments> malformedBackend() {
        return Stream.of(
                Arguments.of("ReadyForQuery with status 'X'", 'Z', new byte[]{'X'}),
                Arguments.of("BackendKeyData with a 3-byte key", 'K', new byte[]{0, 0, 0, 1, 1, 2, 3}),
                Arguments.of("BackendKeyData with a 300-byte key", 'K',
                        body(new FrameBuilder((byte) 'K').int32(1).bytes(new byte[300]))),
                Arguments.of("DataRow with a negative value length other than -1", 'D',
                        body(new FrameBuilder((byte) 'D').int16(1).int32(-5))),
                Arguments.of("DataRow whose column count exceeds the body", 'D',
                        body(new FrameBuilder((byte) 'D').int16(0x7FFF).int32(-1))),
                Arguments.of("RowDescription truncated inside a field", 'T',
                        body(new FrameBuilder((byte) 'T').int16(1).cstring("id").int32(0))),
                Arguments.of("AuthenticationMD5Password with a 3-byte salt", 'R',
                        body(new FrameBuilder((byte) 'R').int32(5).bytes(new byte[3]))),
                Arguments.of("AuthenticationOk with trailing bytes", 'R', body(new FrameBuilder((byte) 'R').int32(0)
                        .int8(1))),
                Arguments.of("ErrorResponse without its terminator", 'E',
                        body(new FrameBuilder((byte) 'E').int8('S').cstring("ERROR"))),
                Arguments.of("NegotiateProtocolVersion with a negative option count", 'v',
                        body(new FrameBuilder((byte) 'v').int32(0).int32(-1))),
                Arguments.of("NegotiateProtocolVersion whose option count exceeds the body", 'v',
                        body(new FrameBuilder((byte) 'v').int32(0).int32(Integer.MAX_VALUE))),
                Arguments.of("FunctionCallResponse with length beyond the body", 'V',
                        body(new FrameBuilder((byte) 'V').int32(10).int8(1))),
                Arguments.of("EmptyQueryResponse with a body", 'I', new byte[]{0}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBackend")
    void malformedBackendBodyRaisesProtocolException(String what, char type, byte[] body) {
        assertThatThrownBy(() -> MessageCodec.decodeBackend((byte) type, body))
                .isExactlyInstanceOf(ProtocolException.class);
    }

    static Stream<Arguments> malformedStartup() {
        return Stream.of(
                Arguments.of("CancelRequest with a 300-byte key",
                        untypedBody(body(new FrameBuilder().int32(MessageCodec.CANCEL_REQUEST_CODE).int32(1)
                                .bytes(new byte[300])))),
                Arguments.of("CancelRequest with a 3-byte key",
                        untypedBody(body(new FrameBuilder().int32(MessageCodec.CANCEL_REQUEST_CODE).int32(1)
                                .bytes(new byte[3])))),
                Arguments.of("CancelRequest without a process id",
                        int32Bytes(MessageCodec.CANCEL_REQUEST_CODE)),
                Arguments.of("StartupMessage of protocol 2.0",
                        untypedBody(body(new FrameBuilder().int32(2 << 16).cstring("user").cstring("a").int8(0)))),
                Arguments.of("StartupMessage of protocol 4.0",
                        untypedBody(body(new FrameBuilder().int32(4 << 16).cstring("user").cstring("a").int8(0)))),
                Arguments.of("StartupMessage repeating a parameter",
                        untypedBody(body(new FrameBuilder().int32(MessageCodec.PROTOCOL_3_0).cstring("user")
                                .cstring("a").cstring("user").cstring("b").int8(0)))),
                Arguments.of("StartupMessage without the final terminator",
                        untypedBody(body(new FrameBuilder().int32(MessageCodec.PROTOCOL_3_0).cstring("user")
                                .cstring("a")))),
                Arguments.of("StartupMessage with a name but no value",
                        untypedBody(body(new FrameBuilder().int32(MessageCodec.PROTOCOL_3_0).cstring("user")
                                .int8(0)))),
                Arguments.of("SSLRequest with trailing bytes",
                        untypedBody(body(new FrameBuilder().int32(MessageCodec.SSL_REQUEST_CODE).int8(0)))),
                Arguments.of("packet shorter than its code", new byte[]{0, 3}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedStartup")
    void malformedStartupPacketRaisesProtocolException(String what, byte[] packet) {
        assertThatThrownBy(() -> MessageCodec.decodeStartup(packet)).isExactlyInstanceOf(ProtocolException.class);
    }

    @Test
    void unknownFrontendTypeDecodesToUnknownKeepingItsBody() throws ProtocolException {
        byte[] body = {1, 2, 3};

        FrontendMessage m = MessageCodec.decodeFrontend((byte) '!', body);

        assertThat(m).isEqualTo(new FrontendMessage.Unknown((byte) '!', new byte[]{1, 2, 3}));
    }

    // ---- CommandComplete ----

    @ParameterizedTest
    @CsvSource({"SELECT 5, 5", "INSERT 0 3, 3", "COPY 10, 10", "BEGIN, -1", "UPDATE 0, 0", "DELETE 12, 12",
            "FETCH 2, 2", "MERGE 4, 4", "CREATE TABLE, -1", "'SELECT 9223372036854775807', 9223372036854775807"})
    void commandCompleteRowsReadsTheCountAtTheEndOfTheTag(String tag, long rows) {
        assertThat(new CommandComplete(tag).rows()).isEqualTo(rows);
    }

    // ---- values never reach logs ----

    static Stream<Object> messagesCarryingSecrets() {
        return Stream.of(
                new Bind("p", "s", new short[0], new byte[][]{SECRET_BYTES}, new short[0]),
                new Query("SELECT * FROM patients WHERE ssn = '" + SECRET + "'"),
                new Parse("s1", "SELECT * FROM patients WHERE ssn = '" + SECRET + "'", new int[0]),
                new FrontendMessage.CopyData(SECRET_BYTES),
                new BackendMessage.CopyData(SECRET_BYTES),
                new AuthenticationResponse(SECRET_BYTES),
                new DataRow(new byte[][]{SECRET_BYTES, null}),
                new FunctionCall(1, new short[0], new byte[][]{SECRET_BYTES}, (short) 0),
                new FunctionCallResponse(SECRET_BYTES),
                new NotificationResponse(1, "ch", SECRET),
                new CancelRequest(1, SECRET_BYTES),
                new BackendKeyData(1, SECRET_BYTES),
                new FrontendMessage.Unknown((byte) 'z', SECRET_BYTES),
                new BackendMessage.Unknown((byte) 'z', SECRET_BYTES));
    }

    @ParameterizedTest
    @MethodSource("messagesCarryingSecrets")
    void toStringNeverShowsTheValues(Object message) {
        assertThat(message.toString()).doesNotContain("SECRET").doesNotContain("123-45-6789")
                .doesNotContain(HexFormat.of().formatHex(SECRET_BYTES));
    }

    // ---- brute force: any input either decodes or raises ProtocolException ----

    private static final int RANDOM_INPUTS = 20_000;

    @Test
    void randomFrontendBodiesDecodeOrRaiseProtocolException() {
        String types = "QPBDECSHXdcfFp";
        Map<Byte, List<byte[]>> seeds = seedsByType(frontendSamples().stream()
                .filter(m -> !isStartupPhase(m)).map(MessageCodec::encode));
        for (char type : types.toCharArray()) {
            fuzz(type, seeds.getOrDefault((byte) type, List.of()),
                    body -> MessageCodec.decodeFrontend((byte) type, body));
        }
    }

    @Test
    void randomBackendBodiesDecodeOrRaiseProtocolException() {
        String types = "RSKZTDCIEN123nstGHWdcAVv";
        Map<Byte, List<byte[]>> seeds = seedsByType(backendSamples().stream().map(MessageCodec::encode));
        for (char type : types.toCharArray()) {
            fuzz(type, seeds.getOrDefault((byte) type, List.of()),
                    body -> MessageCodec.decodeBackend((byte) type, body));
        }
    }

    @Test
    void randomStartupPacketsDecodeOrRaiseProtocolException() {
        int[] codes = {MessageCodec.PROTOCOL_3_0, (3 << 16) | 2, 2 << 16, MessageCodec.SSL_REQUEST_CODE,
                MessageCodec.GSSENC_REQUEST_CODE, MessageCodec.CANCEL_REQUEST_CODE};
        List<byte[]> seeds = frontendSamples().stream().filter(MessageCodecTest::isStartupPhase)
                .map(m -> untypedBody(MessageCodec.encode(m))).toList();
        Random random = new Random(5432);
        for (int i = 0; i < RANDOM_INPUTS; i++) {
            byte[] packet = switch (i % 3) {
                case 0 -> randomBytes(random, 300);
                case 1 -> {
                    // A known code followed by noise reaches the per-kind parsing.
                    byte[] tail = randomBytes(random, 300);
                    byte[] p = Arrays.copyOf(int32Bytes(codes[random.nextInt(codes.length)]), 4 + tail.length);
                    System.arraycopy(tail, 0, p, 4, tail.length);
                    yield p;
                }
                default -> mutate(random, seeds.get(random.nextInt(seeds.size())));
            };
            expectDecodeOrProtocolException("startup", packet, MessageCodec::decodeStartup);
        }
    }

    private interface Decoder {
        Object decode(byte[] body) throws ProtocolException;
    }

    private static void fuzz(char type, List<byte[]> seeds, Decoder decoder) {
        // Seeded per type so a failure names an input that reproduces alone.
        Random random = new Random(type * 7919L);
        for (int i = 0; i < RANDOM_INPUTS; i++) {
            byte[] body = seeds.isEmpty() || i % 2 == 0
                    ? randomBytes(random, 64)
                    : mutate(random, seeds.get(random.nextInt(seeds.size())));
            expectDecodeOrProtocolException(String.valueOf(type), body, decoder);
        }
    }

    private static void expectDecodeOrProtocolException(String what, byte[] body, Decoder decoder) {
        try {
            decoder.decode(body);
        } catch (ProtocolException expected) {
            // The only acceptable failure.
        } catch (Throwable t) {
            fail("decoding '%s' body %s threw %s", what, HexFormat.of().formatHex(body), t);
        }
    }

    /** Random length, with short bodies over-represented because that is where the edge cases are. */
    private static byte[] randomBytes(Random random, int maxLength) {
        int length = random.nextBoolean() ? random.nextInt(12) : random.nextInt(maxLength + 1);
        byte[] b = new byte[length];
        random.nextBytes(b);
        // Counts and lengths of 0xFF.. (negative) and small values both matter; bias some bytes to extremes.
        for (int i = 0; i < b.length; i++) {
            int roll = random.nextInt(8);
            if (roll == 0) {
                b[i] = 0;
            } else if (roll == 1) {
                b[i] = (byte) 0xFF;
            }
        }
        return b;
    }

    /** A valid body with a few bytes changed, truncated or extended: reaches deep into the parser. */
    private static byte[] mutate(Random random, byte[] seed) {
        byte[] b = seed.clone();
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = random.nextInt(b.length);
            b[at] = switch (random.nextInt(4)) {
                case 0 -> 0;
                case 1 -> (byte) 0xFF;
                case 2 -> (byte) 0x7F;
                default -> (byte) random.nextInt(256);
            };
        }
        return switch (random.nextInt(3)) {
            case 0 -> Arrays.copyOf(b, random.nextInt(b.length + 1));
            case 1 -> Arrays.copyOf(b, b.length + random.nextInt(4));
            default -> b;
        };
    }

    private static Map<Byte, List<byte[]>> seedsByType(Stream<byte[]> frames) {
        return frames.collect(Collectors.groupingBy(f -> f[0],
                Collectors.mapping(MessageCodecTest::typedBody, Collectors.toList())));
    }

    // ---- helpers ----

    private static boolean isStartupPhase(FrontendMessage m) {
        return m instanceof StartupMessage || m instanceof SslRequest || m instanceof GssEncRequest
                || m instanceof CancelRequest;
    }

    /** The body of a typed frame: without type byte and length. */
    static byte[] typedBody(byte[] frame) {
        return Arrays.copyOfRange(frame, 5, frame.length);
    }

    /** The packet of an untyped frame: without its length. */
    static byte[] untypedBody(byte[] frame) {
        return Arrays.copyOfRange(frame, 4, frame.length);
    }

    /**
     * A typed frame's body, or an untyped frame whole (callers strip its length with untypedBody). The two are
     * told apart by the first byte: a type byte is never 0 here, an untyped length below 16 MiB always starts 0.
     */
    private static byte[] body(FrameBuilder b) {
        byte[] frame = b.build();
        return frame[0] != 0 ? typedBody(frame) : frame;
    }

    private static byte[] sequence(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    private static byte[] int32Bytes(int v) {
        return new byte[]{(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static int int32(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }
}
