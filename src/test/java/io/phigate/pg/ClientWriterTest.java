package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.ResponseRecorder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The client writer alone, over in-memory streams: order on the wire, the recording tee, and giving up. */
class ClientWriterTest {

    @Test
    void framesEnqueuedUnderTheOpsLockReachTheWireBeforeAnyLaterWrite() throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ClientWriter writer = new ClientWriter(wire);
        writer.enqueue(new byte[]{'L'}, null);
        writer.enqueue(java.util.List.of(new byte[]{'M'}));

        writer.writeFrame((byte) 'Z', new byte[]{'I'}, null);

        assertThat(wire.toByteArray()).containsExactly('L', 'M', 'Z', 0, 0, 0, 5, 'I');
    }

    @Test
    void anEnqueuedFrameIsRecordedWithTheStatementItWasQueuedFor() throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ClientWriter writer = new ClientWriter(wire);
        ResponseRecorder recorder = new ResponseRecorder(1024);
        byte[] error = ClientWriter.frame((byte) 'E', new byte[]{'x', 0});

        writer.enqueue(error, recorder);
        writer.drain(false);

        assertThat(wire.toByteArray()).isEqualTo(error);
        assertThat(recorder.finish().bytes()).isEqualTo(error.length);
    }

    @Test
    void tryWriteNowGivesUpWhileAWriteIsBlockedOnAClientThatStoppedReading() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        OutputStream stalled = new OutputStream() {
            @Override
            public void write(int b) {
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                blocked.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        };
        ClientWriter writer = new ClientWriter(stalled);
        Thread pump = Thread.ofVirtual().start(() -> {
            try {
                writer.writeFrame((byte) 'D', new byte[100], null);
            } catch (IOException ignored) {
                // released below
            }
        });
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();

        long start = System.nanoTime();
        boolean written = writer.tryWriteNow(new byte[]{'E'}, 100);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(written).isFalse();
        assertThat(millis).isLessThan(1_000);
        release.countDown();
        pump.join(5_000);
    }

    @Test
    void aFailedWriteMarksTheClientBroken() {
        ClientWriter writer = new ClientWriter(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("connection reset");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("connection reset");
            }
        });
        assertThat(writer.broken()).isFalse();
        try {
            writer.writeFrame((byte) 'C', new byte[]{0}, null);
        } catch (IOException expected) {
            // the point of the test
        }
        assertThat(writer.broken()).isTrue();
    }
}
