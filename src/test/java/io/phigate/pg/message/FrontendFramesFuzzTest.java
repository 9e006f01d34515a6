package io.phigate.pg.message;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.io.IOException;
import java.util.List;

/**
 * A client's byte stream after startup, through the framing and decoding the session uses: any bytes give messages or a {@link ProtocolException}/EOF, and every message decoded survives a round
 * trip through the encoder.
 */
class FrontendFramesFuzzTest extends FuzzTarget {
    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws IOException {
        FrameStreams.decodeAll(input, MessageCodec::decodeFrontend, MessageCodec::encode);
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(IOException.class);
    }
}
