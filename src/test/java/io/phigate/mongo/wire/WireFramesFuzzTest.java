package io.phigate.mongo.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.command.CommandReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;

/**
 * A client's byte stream through the front door's framing, decoding and command reading: any bytes give messages and
 * commands or a {@link WireException}/EOF/{@link CommandException}, never another exception, and every OP_MSG
 * decoded survives a round trip through the encoder.
 */
class WireFramesFuzzTest extends FuzzTarget {
    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws IOException, CommandException {
        FrameReader reader = new FrameReader(new ByteArrayInputStream(input), MAX_INPUT);
        Frame frame;
        while ((frame = reader.next()) != null) {
            if (WireCodec.decode(frame) instanceof WireMessage.OpMsg msg) {
                byte[] again = WireCodec.encode(msg);
                WireMessage.OpMsg back = (WireMessage.OpMsg) WireCodec.decode(new Frame(MsgHeader.read(again, 0), again));
                if (!back.body().equals(msg.body()) || back.sequences().size() != msg.sequences().size()) {
                    throw new AssertionError("OP_MSG changed in a round trip through the encoder");
                }
                CommandReader.read(msg);
            }
        }
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(IOException.class, CommandException.class);
    }
}
