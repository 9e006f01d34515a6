package io.phigate.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GrowingOutputStreamTest {

    /** Counts the writes that reach the underlying stream and their sizes. */
    private static final class Recording extends ByteArrayOutputStream {
        final List<Integer> writes = new ArrayList<>();
        int flushes;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes.add(len);
            super.write(b, off, len);
        }

        @Override
        public synchronized void write(int b) {
            writes.add(1);
            super.write(b);
        }

        @Override
        public void flush() {
            flushes++;
        }
    }

    @Test
    void everyByteArrivesInOrderWhateverTheWriteSizes() throws IOException {
        var random = new Random(7);
        var sink = new Recording();
        var expected = new ByteArrayOutputStream();
        try (var out = new GrowingOutputStream(sink, 16, 256)) {
            for (int i = 0; i < 2_000; i++) {
                byte[] chunk = new byte[random.nextInt(i % 50 == 0 ? 600 : 40)];
                random.nextBytes(chunk);
                if (chunk.length == 1) {
                    out.write(chunk[0]);
                } else {
                    out.write(chunk, 0, chunk.length);
                }
                expected.write(chunk);
                if (i % 97 == 0) {
                    out.flush();
                }
            }
        }
        assertThat(sink.toByteArray()).isEqualTo(expected.toByteArray());
        assertThat(sink.writes.size()).as("2,000 writes reach the socket as far fewer").isLessThan(700);
    }

    @Test
    void smallWritesAreHeldUntilFlushAndTheBufferGrowsOnlyToItsCap() throws IOException {
        var sink = new Recording();
        var out = new GrowingOutputStream(sink, 4, 64);
        for (int i = 0; i < 60; i++) {
            out.write(new byte[]{(byte) i}, 0, 1);
        }
        assertThat(sink.writes).as("60 bytes fit the grown buffer: nothing written yet").isEmpty();
        out.write(new byte[10], 0, 10);
        assertThat(sink.writes).as("the cap reached: the 60 buffered bytes go out in one write").containsExactly(60);
        out.flush();
        assertThat(sink.writes).containsExactly(60, 10);
        assertThat(sink.flushes).isEqualTo(1);
        out.write(new byte[100], 0, 100);
        assertThat(sink.writes).as("a write past the cap goes straight through").containsExactly(60, 10, 100);
        assertThat(sink.size()).isEqualTo(170);
    }

    @Test
    void badBoundsAreRefused() {
        assertThatThrownBy(() -> new GrowingOutputStream(new ByteArrayOutputStream(), 0, 8))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GrowingOutputStream(new ByteArrayOutputStream(), 16, 8))
                .isInstanceOf(IllegalArgumentException.class);
        var out = new GrowingOutputStream(new ByteArrayOutputStream(), 4, 8);
        assertThatThrownBy(() -> out.write(new byte[4], 2, 3)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
