// One durable write per group, three ways, CPU per write (decision 0072): pwrite + fdatasync (the journal today),
// one pwrite on an O_DSYNC descriptor, and O_DSYNC | O_DIRECT rewriting the group's 4 KiB blocks. 1,100-byte
// groups appended to a zero-filled 8 MiB file, as a journal segment that began as a spare.
//   java bench/prototypes/0072-SyncProbe.java [dir] [writes per round]
import java.nio.file.*; import java.lang.management.*; import java.nio.*; import java.nio.channels.*;
public class SyncProbe { public static void main(String[] a) throws Exception {
  Path dir = Path.of(a.length > 0 ? a[0] : "/tmp");
  var t = ManagementFactory.getThreadMXBean(); int n = Integer.parseInt(a.length > 1 ? a[1] : "2000"); int len = 1100;
  for (int round = 0; round < 6; round++) for (String mode : (round % 2 == 0 ? new String[]{"fdatasync", "dsync", "direct"} : new String[]{"direct", "dsync", "fdatasync"})) {
    Path p = dir.resolve("sync-" + mode + ".x"); Files.deleteIfExists(p);
    try (FileChannel z = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ByteBuffer zero = ByteBuffer.allocate(1 << 20); for (int i = 0; i < 8; i++) { zero.clear(); z.write(zero); } z.force(true);
    }
    FileChannel ch = switch (mode) {
      case "fdatasync" -> FileChannel.open(p, StandardOpenOption.WRITE);
      case "dsync" -> FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.DSYNC);
      default -> FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.DSYNC, com.sun.nio.file.ExtendedOpenOption.DIRECT);
    };
    ByteBuffer heap = ByteBuffer.allocate(len); for (int i = 0; i < len; i++) heap.put((byte) (i | 1)); 
    ByteBuffer aligned = ByteBuffer.allocateDirect(1 << 16).alignedSlice(4096);
    long pos = 0; long c0 = t.getCurrentThreadCpuTime(); long w0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      if (mode.equals("direct")) {
        long start = pos & ~4095L; long end = (pos + len + 4095) & ~4095L;
        aligned.clear(); aligned.limit((int) (end - start)); aligned.position((int) (pos - start)); heap.clear(); aligned.put(heap); aligned.position(0);
        ch.write(aligned, start);
      } else { heap.clear(); ch.write(heap, pos); if (mode.equals("fdatasync")) ch.force(false); }
      pos += len; if (pos > 7 << 20) pos = 0;
    }
    long c1 = t.getCurrentThreadCpuTime(); long w1 = System.nanoTime();
    System.out.printf("%-10s cpu %.1f us/op wall %.1f us/op%n", mode, (c1 - c0) / 1e3 / n, (w1 - w0) / 1e3 / n);
    ch.close(); Files.delete(p);
  }
}}
