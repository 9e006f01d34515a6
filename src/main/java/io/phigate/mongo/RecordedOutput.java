package io.phigate.mongo;

import io.phigate.audit.ResponseRecorder;
import java.io.IOException;
import java.io.OutputStream;

/** The client's stream, with every byte written to it also given to the command's recorder: what the agent saw. */
final class RecordedOutput extends OutputStream {
    private final OutputStream client;
    private final ResponseRecorder recorder;

    RecordedOutput(OutputStream client, ResponseRecorder recorder) {
        this.client = client;
        this.recorder = recorder;
    }

    @Override
    public void write(int b) throws IOException {
        client.write(b);
        recorder.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        client.write(b, off, len);
        recorder.write(b, off, len);
    }
}
