package io.phigate.pg.message;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.io.IOException;
import java.util.List;

/**
 * An upstream server's byte stream, through the framing and decoding the response pump uses: any bytes give messages or a {@link ProtocolException}/EOF, and every message decoded survives a round
 * trip through the encoder.
 */
class BackendFramesFuzzTest extends FuzzTarget {
    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws IOException {
        FrameStreams.decodeAll(input, MessageCodec::decodeBackend, MessageCodec::encode);
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(IOException.class);
    }
}
