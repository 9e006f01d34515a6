package io.phigate.bench;

import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * DataRow frames per second through the codec, read from a byte stream the way the response pump reads the
 * upstream socket ({@link FrameReader} with a 64 KiB buffer). Two paths:
 * <ul>
 *   <li>{@code decodeReencode}: frame body to a {@code DataRow} record and back to a frame, what rewriting a row
 *       for masking will cost before any masking work;</li>
 *   <li>{@code forwardRaw}: the frame copied through unparsed ({@link FrameReader#transferTo}), what an unmasked
 *       row costs today.</li>
 * </ul>
 * Rows look like bench/bulk.sh's: an integer, an md5 and 150 bytes of text ({@code wide}), or {@code narrow}:
 * pgbench -S's single integer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CodecBenchmark {
    static final int FRAMES = 1024;

    @Param({"wide", "narrow"})
    public String row;

    private byte[] stream;
    private final OutputStream sink = OutputStream.nullOutputStream();

    @Setup
    public void setUp() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 1; i <= FRAMES; i++) {
            byte[][] values = row.equals("wide")
                    ? new byte[][] {bytes(Integer.toString(i)), bytes(md5ish(i)), bytes("x".repeat(150))}
                    : new byte[][] {bytes(Integer.toString(i * 7919))};
            out.writeBytes(MessageCodec.encode(new BackendMessage.DataRow(values)));
        }
        stream = out.toByteArray();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public void decodeReencode(Blackhole bh) throws IOException {
        FrameReader reader = new FrameReader(new ByteArrayInputStream(stream), 65536, 1 << 26, 1 << 26);
        int type;
        while ((type = reader.next()) != -1) {
            BackendMessage message = MessageCodec.decodeBackend((byte) type, reader.body());
            bh.consume(MessageCodec.encode(message));
        }
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public void forwardRaw() throws IOException {
        FrameReader reader = new FrameReader(new ByteArrayInputStream(stream), 65536, 1 << 26, 1 << 26);
        while (reader.next() != -1) {
            reader.transferTo(sink);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String md5ish(int i) {
        return String.format("%032x", (long) i * 0x9E3779B97F4A7C15L & Long.MAX_VALUE);
    }
}
