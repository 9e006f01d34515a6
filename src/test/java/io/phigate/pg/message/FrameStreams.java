package io.phigate.pg.message;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Function;

/** What the two codec fuzz targets share: frame a byte stream, decode each frame, check the round trip. */
final class FrameStreams {
    static final int FRAME_LIMIT = 16 * 1024;

    interface Decoder<M> {
        M decode(byte type, byte[] body) throws ProtocolException;
    }

    private FrameStreams() {
    }

    /**
     * Decodes every frame of {@code input} (a small read buffer, so frames straddle reads) and checks that each
     * decoded message re-encodes to a frame that decodes and re-encodes to the same bytes.
     */
    static <M> void decodeAll(byte[] input, Decoder<M> decoder, Function<M, byte[]> encoder) throws IOException {
        FrameReader reader = new FrameReader(new ByteArrayInputStream(input), 64, FRAME_LIMIT, FRAME_LIMIT);
        for (int type = reader.next(); type >= 0; type = reader.next()) {
            byte[] frame = encoder.apply(decoder.decode((byte) type, reader.body()));
            M again = decoder.decode(frame[0], Arrays.copyOfRange(frame, 5, frame.length));
            if (!Arrays.equals(frame, encoder.apply(again))) {
                throw new AssertionError("message type " + (char) type + " does not survive a round trip");
            }
        }
    }
}
