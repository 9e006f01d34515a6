package io.phigate.mongo.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.InputStream;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
    @Test
    void aDeclaredLengthAboveTheLimitIsRefusedBeforeAnyOfTheBodyIsRead() throws Exception {
        byte[] header = new byte[16];
        Le.putInt32(header, 0, 48_000_001);
        Le.putInt32(header, 4, 42);
        Le.putInt32(header, 12, WireMessage.OP_MSG);
        // A stream that would fail the test if the reader went on to read the body it declared.
        InputStream in = new java.io.SequenceInputStream(new ByteArrayInputStream(header), new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("read past the header of an oversized message");
            }
        });
        assertThatThrownBy(() -> new FrameReader(in, 48_000_000).next())
                .isInstanceOfSatisfying(WireException.class, e -> {
                    assertThat(e.error()).isEqualTo(MongoError.BSON_OBJECT_TOO_LARGE);
                    assertThat(e.requestId()).isEqualTo(42);
                    assertThat(e.fatal()).isTrue();
                    assertThat(e.getMessage()).contains("maxMessageSizeBytes (48000000)");
                });
    }

    @Test
    void aLengthShorterThanTheHeaderIsRefused() {
        byte[] header = new byte[16];
        Le.putInt32(header, 0, 3);
        assertThatThrownBy(() -> new FrameReader(new ByteArrayInputStream(header), 1024).next())
                .isInstanceOf(WireException.class).hasMessageContaining("shorter than the header");
    }

    @Test
    void aStreamEndingInsideAMessageIsAnEofNotAMessage() {
        byte[] whole = WireCodec.reply(1, 2, BsonDocument.parse("{ok: 1}"));
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 1);
        assertThatThrownBy(() -> new FrameReader(new ByteArrayInputStream(cut), 1024).next())
                .isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> new FrameReader(new ByteArrayInputStream(new byte[5]), 1024).next())
                .isInstanceOf(EOFException.class);
    }

    @Test
    void messagesArrivingAByteAtATimeAreFramedWhole() throws Exception {
        byte[] whole = WireCodec.reply(1, 2, BsonDocument.parse("{ok: 1, note: 'split'}"));
        ByteArrayInputStream source = new ByteArrayInputStream(whole);
        InputStream trickle = new InputStream() {
            @Override
            public int read() {
                return source.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return source.read(b, off, Math.min(len, 1));
            }
        };
        Frame f = new FrameReader(trickle, 1024).next();
        assertThat(f.bytes()).isEqualTo(whole);
    }
}
