import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * What one durable journal append costs on this disk: N times write(bytes) + FileChannel.force(false)
 * (fdatasync), on a file that grows (as the audit journal's segments do) and on a preallocated one, interleaved.
 * Prints p50/p90/p99 in microseconds. Run: java bench/FsyncProbe.java [dir] [n] [bytes]
 */
public class FsyncProbe {
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 4096;
        Path grow = Files.createTempFile(dir, "fsync-grow", ".bin");
        Path pre = Files.createTempFile(dir, "fsync-pre", ".bin");
        try (FileChannel g = FileChannel.open(grow, StandardOpenOption.WRITE);
             FileChannel p = FileChannel.open(pre, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < (long) n * size; at += zeros.capacity()) {
                p.write(zeros.clear(), at);
            }
            p.force(true);
            byte[] block = new byte[size];
            Arrays.fill(block, (byte) 'x');
            long[] growing = new long[n];
            long[] prealloc = new long[n];
            for (int i = 0; i < n; i++) {
                growing[i] = timed(g, block, (long) i * size);
                prealloc[i] = timed(p, block, (long) i * size);
            }
            System.out.printf("fdatasync probe in %s, %d x %d B: growing file %s; preallocated %s (µs p50/p90/p99)%n",
                    dir, n, size, summary(growing), summary(prealloc));
        } finally {
            Files.deleteIfExists(grow);
            Files.deleteIfExists(pre);
        }
    }

    private static long timed(FileChannel ch, byte[] block, long at) throws IOException {
        long t0 = System.nanoTime();
        ch.write(ByteBuffer.wrap(block), at);
        ch.force(false);
        return (System.nanoTime() - t0) / 1000;
    }

    private static String summary(long[] micros) {
        long[] s = micros.clone();
        Arrays.sort(s);
        return s[s.length / 2] + "/" + s[s.length * 9 / 10] + "/" + s[s.length * 99 / 100];
    }
}
