// The audit store's ingest, measured by thread: producers append statement records durably (journal on, as the
// gateway runs), the ingester fills the SQLite store behind them, and at the end the probe waits until the store
// holds every record. Prints the rate the journal acknowledged, the rate the store sustained (records over the run
// plus its catch-up) and the CPU each audit thread spent per record, which a loaded machine inflates far less than
// it moves rates. Runs against any build's jar, so two builds compare in one sitting (decision 0060):
//   java -cp target/phigate.jar bench/IngestProbe.java [prepared|adhoc] [producers] [seconds] [backlog|platform] [dir]
// prepared: every record carries the same statement text (pgbench -S -M prepared); adhoc: every text differs, as
// the simple protocol sends literals. backlog: a second connection holds SQLite's write lock while the producers
// run, so the journal takes everything and the ingester then fills the store alone, in full batches of 8,192:
// its CPU and rate without producers competing for the cores. With backlog, [seconds] is a record count instead
// (thousands), so that every build ingests the same backlog in batches of the same size. platform: the producers are
// platform threads, as the gateway's sessions are (decision 0056), so waking each one costs the writer a futex wake
// rather than a virtual thread's resubmission. The journal's groups (commits) are counted, so the writer's CPU can be
// read per group as well as per record (decision 0072).
import io.phigate.audit.AuditConfig;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditStore;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

public class IngestProbe {
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "prepared";
        int producers = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        boolean backlog = args.length > 3 && args[3].equals("backlog");
        boolean platform = args.length > 3 && args[3].equals("platform");
        long groups;
        Path dir = Files.createTempDirectory(args.length > 4 ? Path.of(args[4]) : Path.of(System.getProperty("java.io.tmpdir")),
                "ingest-probe");
        Path file = dir.resolve("audit.db");
        var threads = ManagementFactory.getThreadMXBean();
        long cpu0 = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        var ids = new AtomicLong();
        long start;
        long acked;
        long done;
        Map<String, Long> cpu = new TreeMap<>();
        Map<String, Long> allocated = new TreeMap<>(); // bytes, per audit thread: unlike CPU, load does not move it
        var allocation = (com.sun.management.ThreadMXBean) threads;
        try (var store = new AuditStore(new AuditConfig("sqlite:" + file, file, 65536, Duration.ofSeconds(10),
                Duration.ofSeconds(2)))) {
            java.sql.Connection lock = null;
            if (backlog) {
                lock = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
                lock.createStatement().execute("BEGIN IMMEDIATE");
            }
            start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            try (var pool = platform ? Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory())
                    : Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> all = new ArrayList<>();
                for (int p = 0; p < producers; p++) {
                    String session = "s-" + p;
                    all.add(pool.submit(() -> {
                        while (backlog || System.nanoTime() < end) {
                            long id = ids.incrementAndGet();
                            if (backlog && id > seconds * 1000L) {
                                ids.decrementAndGet();
                                break;
                            }
                            String text = mode.equals("adhoc")
                                    ? "SELECT abalance FROM pgbench_accounts WHERE aid = " + id + ";"
                                    : "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
                            store.appendDurably(List.of(new AuditEvent.StatementRequested(Instant.now(), session, id,
                                    "127.0.0.1:50000", "bench", "https://bench.invalid", "bench-agent",
                                    mode.equals("adhoc") ? AuditEvent.Protocol.SIMPLE : AuditEvent.Protocol.EXTENDED,
                                    text, mode.equals("adhoc") ? null : List.of(Long.toString(id % 100_000)), "", "")));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : all) {
                    f.get();
                }
            }
            acked = System.nanoTime();
            if (lock != null) {
                for (Thread t : Thread.getAllStackTraces().keySet()) {
                    if (t.getName().startsWith("phigate-audit")) {
                        cpu.merge(t.getName(), -threads.getThreadCpuTime(t.threadId()), Long::sum);
                        allocated.merge(t.getName(), -allocation.getThreadAllocatedBytes(t.threadId()), Long::sum);
                    }
                }
                lock.createStatement().execute("ROLLBACK");
                lock.close();
                start = acked = System.nanoTime(); // the store's rate and CPU from here: the ingester alone
            }
            if (!store.awaitStored(Duration.ofMinutes(5))) {
                throw new IllegalStateException("store did not catch up within 5 minutes");
            }
            done = System.nanoTime();
            groups = store.stats().commits();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("phigate-audit")) {
                    cpu.merge(t.getName(), threads.getThreadCpuTime(t.threadId()), Long::sum);
                    allocated.merge(t.getName(), allocation.getThreadAllocatedBytes(t.threadId()), Long::sum);
                }
            }
        }
        long cpu1 = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        long n = ids.get();
        System.out.printf("%s", backlog ? "backlog (ingester alone after the lock): " : "");
        System.out.printf("mode=%s producers=%d records=%,d journal=%,.0f/s store sustained=%,.0f/s catch-up=%.2fs%n",
                mode, producers, n, n / ((acked - start) / 1e9), n / ((done - start) / 1e9), (done - acked) / 1e9);
        for (var e : cpu.entrySet()) {
            System.out.printf("  %-22s %6.2f us/record %7.0f bytes allocated/record%n", e.getKey(),
                    e.getValue() / 1e3 / n, allocated.getOrDefault(e.getKey(), 0L) / (double) n);
        }
        System.out.printf("  %-22s %6.2f us/record%n", "process", (cpu1 - cpu0) / 1e3 / n);
        System.out.printf("  journal groups %,d (%.1f records/group), writer %.1f us/group%n", groups,
                (double) n / Math.max(1, groups), cpu.getOrDefault("phigate-audit-writer", 0L) / 1e3 / Math.max(1, groups));
        System.out.printf("  store file %,d bytes (%.0f bytes/record)%n", Files.size(file), (double) Files.size(file) / n);
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file); var q = c.createStatement();
             var rs = q.executeQuery("SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'audit_text')")) {
            if (rs.next() && rs.getInt(1) == 1) {
                try (var texts = q.executeQuery("SELECT count(*) FROM audit_text")) {
                    texts.next();
                    System.out.printf("  texts stored %,d%n", texts.getLong(1)); // prepared: 1 unless forgotten
                }
            }
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
