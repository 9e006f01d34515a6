package io.phigate.pg.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.pg.message.FrontendMessage.*;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameReaderTest {
    private static final int BUFFER = 64 * 1024;
    private static final int LIMIT = 1024 * 1024;

    private static final List<FrontendMessage> MESSAGES = List.of(
            new Query("SELECT 1"),
            new Parse("s1", "SELECT $1", new int[]{23}),
            new Bind("", "s1", new short[0], new byte[][]{"42".getBytes(), null}, new short[0]),
            new Describe((byte) 'P', ""),
            new Execute("", 0),
            Sync.INSTANCE,
            new FrontendMessage.CopyData(new byte[5000]),
            Terminate.INSTANCE);

    @ParameterizedTest
    @ValueSource(ints = {5, 16, BUFFER})
    void framesArrivingOneByteAtATimeDecodeAsIfWhole(int bufferSize) throws IOException {
        byte[] stream = concat(MESSAGES.stream().map(MessageCodec::encode).toList());

        List<FrontendMessage> whole = readAll(new FrameReader(new ByteArrayInputStream(stream), bufferSize, LIMIT,
                LIMIT));
        List<FrontendMessage> trickled = readAll(new FrameReader(new OneByteAtATime(stream), bufferSize, LIMIT,
                LIMIT));

        assertThat(trickled).usingRecursiveFieldByFieldElementComparator().isEqualTo(whole);
        assertThat(whole).usingRecursiveFieldByFieldElementComparator().isEqualTo(MESSAGES);
    }

    @Test
    void aGrowingBufferDecodesAndCopiesExactlyWhatAFixedOneDoes() throws IOException {
        byte[] stream = concat(MESSAGES.stream().map(MessageCodec::encode).toList());
        // Chunks of 3,000 bytes fill an 8-byte buffer at once, so it doubles on nearly every read up to its cap.
        assertThat(readAll(new FrameReader(new Chunked(stream, 3000), 8, 4096, LIMIT, LIMIT)))
                .usingRecursiveFieldByFieldElementComparator().isEqualTo(MESSAGES);
        FrameReader copier = new FrameReader(new Chunked(stream, 3000), 8, 4096, LIMIT, LIMIT);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (copier.next() >= 0) {
            copier.transferTo(out);
        }
        assertThat(out.toByteArray()).isEqualTo(stream);
        assertThatThrownBy(() -> new FrameReader(new ByteArrayInputStream(stream), 64, 32, LIMIT, LIMIT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void transferToCopiesFramesArrivingOneByteAtATime() throws IOException {
        byte[] stream = concat(MESSAGES.stream().map(MessageCodec::encode).toList());
        FrameReader reader = new FrameReader(new OneByteAtATime(stream), 16, LIMIT, LIMIT);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        while (reader.next() >= 0) {
            reader.transferTo(out);
        }

        assertThat(out.toByteArray()).isEqualTo(stream);
    }

    @Test
    void startupPacketArrivingOneByteAtATimeIsReadWhole() throws IOException {
        byte[] startup = MessageCodec.encode(new StartupMessage(MessageCodec.PROTOCOL_3_0,
                Map.of("user", "alice", "database", "clinical")));
        byte[] query = MessageCodec.encode(new Query("SELECT 1"));
        FrameReader reader = new FrameReader(new OneByteAtATime(concat(List.of(startup, query))), BUFFER, LIMIT,
                LIMIT);

        assertThat(reader.readStartupPacket()).isEqualTo(Arrays.copyOfRange(startup, 4, startup.length));
        assertThat(reader.next()).isEqualTo('Q');
        assertThat(MessageCodec.decodeFrontend(reader.type(), reader.body())).isEqualTo(new Query("SELECT 1"));
        assertThat(reader.next()).isEqualTo(-1);
    }

    @Test
    void frameAfterStartupPacketInTheSameReadIsNotLost() throws IOException {
        byte[] startup = MessageCodec.encode(new StartupMessage(MessageCodec.PROTOCOL_3_0, Map.of("user", "a")));
        byte[] sync = MessageCodec.encode(Sync.INSTANCE);
        FrameReader reader = reader(concat(List.of(startup, sync)));

        reader.readStartupPacket();

        assertThat(reader.next()).isEqualTo('S');
        assertThat(reader.body()).isEmpty();
    }

    @Test
    void oversizeFrameIsRefusedBeforeItsBodyIsRead() {
        int frameLimit = 1000;
        byte[] header = {'Q', 0, 0, 0x03, (byte) 0xED}; // length 1005: a body of 1001 bytes
        FrameReader reader = new FrameReader(new HeaderThenNothing(header), BUFFER, frameLimit, frameLimit);

        assertThatThrownBy(reader::next)
                .isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("limits.max_frame_bytes")
                .hasMessageContaining("1001");
    }

    @Test
    void frameExactlyAtTheLimitIsAccepted() throws IOException {
        byte[] body = new byte[1000];
        byte[] frame = concat(List.of(new byte[]{'d', 0, 0, 0x03, (byte) 0xEC}, body));
        FrameReader reader = new FrameReader(new ByteArrayInputStream(frame), BUFFER, 1000, 1000);

        assertThat(reader.next()).isEqualTo('d');
        assertThat(reader.bodyLength()).isEqualTo(1000);
        assertThat(reader.body()).isEqualTo(body);
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 0, -1, Integer.MIN_VALUE})
    void lengthBelowFourIsRefused(int length) {
        byte[] header = {'Q', (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};

        assertThatThrownBy(() -> reader(header).next()).isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("invalid length");
    }

    @Test
    void lengthOfFourIsAnEmptyBody() throws IOException {
        FrameReader reader = reader(new byte[]{'S', 0, 0, 0, 4});

        assertThat(reader.next()).isEqualTo('S');
        assertThat(reader.body()).isEmpty();
        assertThat(reader.next()).isEqualTo(-1);
    }

    @Test
    void cleanEndOfStreamBetweenFramesIsMinusOne() throws IOException {
        FrameReader reader = reader(MessageCodec.encode(Sync.INSTANCE));

        assertThat(reader.next()).isEqualTo('S');
        reader.body();
        assertThat(reader.next()).isEqualTo(-1);
        assertThat(reader(new byte[0]).next()).isEqualTo(-1);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void endOfStreamInsideAHeaderIsEofException(int headerBytes) {
        byte[] frame = MessageCodec.encode(new Query("SELECT 1"));

        assertThatThrownBy(() -> reader(Arrays.copyOf(frame, headerBytes)).next())
                .isExactlyInstanceOf(EOFException.class);
    }

    @Test
    void endOfStreamInsideABodyIsEofExceptionFromBody() throws IOException {
        byte[] frame = MessageCodec.encode(new Query("SELECT 1"));
        FrameReader reader = reader(Arrays.copyOf(frame, frame.length - 1));

        reader.next();

        assertThatThrownBy(reader::body).isExactlyInstanceOf(EOFException.class);
    }

    @Test
    void endOfStreamInsideABodyIsEofExceptionFromTransferTo() throws IOException {
        byte[] frame = MessageCodec.encode(new FrontendMessage.CopyData(new byte[100]));
        FrameReader reader = new FrameReader(new OneByteAtATime(Arrays.copyOf(frame, 50)), 16, LIMIT, LIMIT);

        reader.next();

        assertThatThrownBy(() -> reader.transferTo(new ByteArrayOutputStream()))
                .isExactlyInstanceOf(EOFException.class);
    }

    @Test
    void endOfStreamInsideAStartupPacketIsAnIncompleteStartupPacket() {
        byte[] startup = MessageCodec.encode(new StartupMessage(MessageCodec.PROTOCOL_3_0, Map.of("user", "a")));

        assertThatThrownBy(() -> reader(Arrays.copyOf(startup, 2)).readStartupPacket())
                .isExactlyInstanceOf(UnreadableStartupPacket.class).hasMessage("incomplete startup packet");
        assertThatThrownBy(() -> reader(Arrays.copyOf(startup, startup.length - 1)).readStartupPacket())
                .isExactlyInstanceOf(UnreadableStartupPacket.class).hasMessage("incomplete startup packet");
        // Nothing at all is a connection that never spoke (a port probe), not a broken packet.
        assertThatThrownBy(() -> reader(new byte[0]).readStartupPacket()).isExactlyInstanceOf(EOFException.class);
    }

    @Test
    void transferToStreamsAFrameLargerThanTheDecodeLimit() throws IOException {
        int bodyLength = 10 * 1024 * 1024;
        byte[] body = new byte[bodyLength];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 131 + (i >>> 11));
        }
        byte[] frame = MessageCodec.encode(new FrontendMessage.CopyData(body));
        byte[] sync = MessageCodec.encode(Sync.INSTANCE);
        FrameReader reader = new FrameReader(new ByteArrayInputStream(concat(List.of(frame, sync))), BUFFER,
                16 * 1024 * 1024, 1024);

        assertThat(reader.next()).isEqualTo('d');
        assertThat(reader.bodyLength()).isEqualTo(bodyLength);
        assertThatThrownBy(reader::body).isExactlyInstanceOf(ProtocolException.class)
                .hasMessageContaining("limits.max_frame_bytes");

        ByteArrayOutputStream out = new ByteArrayOutputStream(frame.length);
        reader.transferTo(out);

        assertThat(out.toByteArray()).isEqualTo(frame);
        assertThat(reader.next()).isEqualTo('S');
        assertThat(reader.body()).isEmpty();
        assertThat(reader.next()).isEqualTo(-1);
    }

    @Test
    void skipBodyDiscardsExactlyOneFrame() throws IOException {
        FrameReader reader = reader(concat(List.of(MessageCodec.encode(new Query("SELECT 1")),
                MessageCodec.encode(Flush.INSTANCE))));

        reader.next();
        reader.skipBody();

        assertThat(reader.next()).isEqualTo('H');
    }

    @Test
    void nextBeforeTheBodyIsConsumedIsRefused() throws IOException {
        FrameReader reader = reader(MessageCodec.encode(new Query("SELECT 1")));

        reader.next();

        assertThatThrownBy(reader::next).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 4, 0, -1, 10_001, Integer.MAX_VALUE})
    void startupPacketLengthOutsidePostgresBoundsIsRefused(int length) {
        // Only the length word is there: a reader that read on would fail with EOFException instead.
        byte[] lengthWord = {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};

        assertThatThrownBy(() -> reader(lengthWord).readStartupPacket())
                .isExactlyInstanceOf(UnreadableStartupPacket.class)
                .hasMessageContaining("invalid length of startup packet");
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 10_000})
    void startupPacketLengthAtPostgresBoundsIsAccepted(int length) throws IOException {
        byte[] packet = new byte[length];
        packet[2] = (byte) (length >>> 8);
        packet[3] = (byte) length;

        assertThat(reader(packet).readStartupPacket()).hasSize(length - 4);
    }

    @Test
    void hasBufferedInputSeesBytesSentAfterSslRequestInTheSameRead() throws IOException {
        byte[] ssl = MessageCodec.encode(SslRequest.INSTANCE);
        byte[] smuggled = MessageCodec.encode(new Query("SELECT 1"));

        FrameReader alone = reader(ssl);
        alone.readStartupPacket();
        assertThat(alone.hasBufferedInput()).isFalse();

        FrameReader followed = reader(concat(List.of(ssl, smuggled)));
        followed.readStartupPacket();
        assertThat(followed.hasBufferedInput()).isTrue();
    }

    @Test
    void hasBufferedInputTracksFramesStillInTheBuffer() throws IOException {
        FrameReader reader = reader(concat(List.of(MessageCodec.encode(Sync.INSTANCE),
                MessageCodec.encode(Flush.INSTANCE))));

        assertThat(reader.hasBufferedInput()).isFalse();
        reader.next();
        reader.body();
        assertThat(reader.hasBufferedInput()).isTrue();
        reader.next();
        reader.body();
        assertThat(reader.hasBufferedInput()).isFalse();
        assertThat(reader.inputAvailable()).isFalse();
    }

    // ---- helpers ----

    private static FrameReader reader(byte[] bytes) {
        return new FrameReader(new ByteArrayInputStream(bytes), BUFFER, LIMIT, LIMIT);
    }

    private static List<FrontendMessage> readAll(FrameReader reader) throws IOException {
        List<FrontendMessage> messages = new ArrayList<>();
        while (reader.next() >= 0) {
            messages.add(MessageCodec.decodeFrontend(reader.type(), reader.body()));
        }
        return messages;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /** A peer whose every read delivers at most {@code chunk} bytes, as TCP segmentation may. */
    private static class Chunked extends InputStream {
        private final byte[] data;
        private final int chunk;
        private int pos;

        Chunked(byte[] data, int chunk) {
            this.data = data;
            this.chunk = chunk;
        }

        @Override
        public int read() {
            return pos < data.length ? data[pos++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (pos >= data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, chunk), data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** A peer whose every read delivers a single byte: the worst case of TCP segmentation. */
    private static final class OneByteAtATime extends Chunked {
        OneByteAtATime(byte[] bytes) {
            super(bytes, 1);
        }
    }

    /** Delivers a header, then fails any further read: proves a check happens before the body is read. */
    private static final class HeaderThenNothing extends InputStream {
        private final byte[] header;
        private int pos;

        HeaderThenNothing(byte[] header) {
            this.header = header;
        }

        @Override
        public int read() {
            if (pos < header.length) {
                return header[pos++] & 0xFF;
            }
            throw new AssertionError("read past the header: the body would have been read");
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos == header.length) {
                throw new AssertionError("read past the header: the body would have been read");
            }
            int n = Math.min(len, header.length - pos);
            System.arraycopy(header, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
