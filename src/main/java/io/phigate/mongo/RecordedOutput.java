package io.phigate.mongo;

import io.phigate.audit.ResponseRecorder;
import io.phigate.mongo.masking.DocumentBudget;
import io.phigate.mongo.masking.ReplyMasker;
import io.phigate.mongo.masking.ReplyPlan;
import java.io.IOException;
import java.io.OutputStream;

/** The client's stream, with every byte written to it also given to the command's recorder: what the agent saw. */
final class RecordedOutput extends OutputStream {
    private final OutputStream client;
    private final ResponseRecorder recorder;

    /**
     * Writes one reply to the client, masked by {@code plan} (raw when it masks nothing) and its batches cut by
     * {@code budget} (a role's row limit; null for none), and flushes; the recorder gets exactly the bytes the
     * client does.
     */
    static void deliver(byte[] reply, ReplyPlan plan, DocumentBudget budget, OutputStream client,
                        ResponseRecorder recorder) throws IOException, ReplyMasker.Unmaskable {
        if (budget != null || plan.listed() != null) {
            if (budget != null) {
                ReplyMasker.write(reply, plan, budget, new RecordedOutput(client, recorder));
            } else {
                ReplyMasker.write(reply, plan, new RecordedOutput(client, recorder));
            }
        } else if (plan.passes()) {
            client.write(reply);
            recorder.write(reply, 0, reply.length);
        } else {
            ReplyMasker.write(reply, plan, new RecordedOutput(client, recorder));
        }
        client.flush();
    }

    private RecordedOutput(OutputStream client, ResponseRecorder recorder) {
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
