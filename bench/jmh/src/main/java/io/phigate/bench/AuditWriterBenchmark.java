package io.phigate.bench;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditStore;
import io.phigate.audit.AuditConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Durable audit records per second: each operation is one {@link AuditStore#appendDurably} of one
 * {@code StatementRequested} record, returning only once the record is fsync'd, exactly as a session waits before
 * forwarding a statement. 1, 8 and 64 producer threads share one store, so the group commit is what is measured.
 * The file lives in {@code java.io.tmpdir} (set it to put the store on another disk); its fsync cost dominates.
 *
 * <p>JMH's producers are platform threads, and each one parks and is woken through the kernel for every group.
 * The gateway's producers are sessions on virtual threads, which park without a system call, so
 * {@code virtualProducers64} runs 64 virtual threads from one JMH thread, each appending {@link #PER_PRODUCER}
 * records in turn: the same 64-way concurrency against the same store, as the gateway produces it. With one JMH
 * thread, each iteration ends by waiting for the store and printing the rate it sustained and the CPU per record
 * (the whole process and each audit thread), which a loaded machine moves far less than it moves rates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AuditWriterBenchmark {
    private Path dir;
    private AuditStore store;
    private final AtomicLong statementIds = new AtomicLong();

    @Setup(Level.Trial)
    public void open() throws IOException, AuditUnavailableException {
        dir = Files.createTempDirectory("phigate-jmh-audit");
        Path file = dir.resolve("audit.db");
        store = new AuditStore(new AuditConfig("sqlite:" + file, file, 65536, Duration.ofSeconds(5),
                Duration.ofSeconds(2)));
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private long iterationStart;
    private long iterationFirstId;
    private long iterationCpu;
    private Map<String, Long> auditThreadsCpu;

    @Setup(Level.Iteration)
    public void startIteration() {
        iterationStart = System.nanoTime();
        iterationFirstId = statementIds.get();
        iterationCpu = processCpuNanos();
        auditThreadsCpu = auditThreadsCpuNanos();
    }

    /** The whole JVM's CPU (every thread, GC and JIT included): what a record costs the machine. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU of the store's own threads by name (journal writer, ingester, WAL checkpointer, spare maker). */
    private static Map<String, Long> auditThreadsCpuNanos() {
        var threads = ManagementFactory.getThreadMXBean();
        Map<String, Long> cpu = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("phigate-audit")) {
                cpu.merge(t.getName(), threads.getThreadCpuTime(t.threadId()), Long::sum);
            }
        }
        return cpu;
    }

    /**
     * Durable means in the journal; the SQLite store takes the records behind it. A rate the store cannot follow
     * ends, once the journal holds {@code journal_max_bytes}, in refused statements, so after every iteration this
     * waits for the store to catch up (outside JMH's timing) and prints the rate the store sustained: the
     * iteration's records over the iteration's time plus the catch-up. Only with one JMH thread: JMH's other
     * worker threads spin while a teardown runs, and 63 spinning threads would starve the store of the CPU.
     */
    @TearDown(Level.Iteration)
    public void catchUp(BenchmarkParams params) {
        if (params.getThreads() != 1) {
            return;
        }
        long appended = statementIds.get() - iterationFirstId;
        long acked = System.nanoTime();
        boolean caughtUp = store.awaitStored(Duration.ofMinutes(5));
        long done = System.nanoTime();
        System.out.printf("%n  store: %,d records, caught up %.2f s after the iteration%s; sustained %,.0f records/s%n",
                appended, (done - acked) / 1e9, caughtUp ? "" : " (NOT within 5 min)",
                appended / ((done - iterationStart) / 1e9));
        // CPU per record is what a loaded, shared machine moves least; rates swing with the neighbours' load.
        StringBuilder perThread = new StringBuilder();
        auditThreadsCpuNanos().forEach((name, nanos) -> perThread.append(String.format(" %s %.2f", name,
                (nanos - auditThreadsCpu.getOrDefault(name, 0L)) / 1e3 / appended)));
        System.out.printf("  CPU us/record: process %.2f;%s%n",
                (processCpuNanos() - iterationCpu) / 1e3 / appended, perThread);
    }

    private void appendOne() throws AuditUnavailableException {
        long id = statementIds.incrementAndGet();
        store.appendDurably(List.of(new AuditEvent.StatementRequested(Instant.now(), "s-" + Thread.currentThread().threadId(),
                id, "127.0.0.1:50000", "bench", "https://bench.phigate.invalid", "bench-agent",
                AuditEvent.Protocol.EXTENDED, "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
                List.of(Long.toString(id % 1_000_000)), "", "")));
    }

    @Benchmark
    @Threads(1)
    public void producers01() throws AuditUnavailableException {
        appendOne();
    }

    @Benchmark
    @Threads(8)
    public void producers08() throws AuditUnavailableException {
        appendOne();
    }

    @Benchmark
    @Threads(64)
    public void producers64() throws AuditUnavailableException {
        appendOne();
    }

    static final int VIRTUAL_PRODUCERS = 64;
    static final int PER_PRODUCER = 64;

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(VIRTUAL_PRODUCERS * PER_PRODUCER)
    public void virtualProducers64() throws Exception {
        try (ExecutorService producers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>(VIRTUAL_PRODUCERS);
            for (int p = 0; p < VIRTUAL_PRODUCERS; p++) {
                done.add(producers.submit(() -> {
                    for (int i = 0; i < PER_PRODUCER; i++) {
                        appendOne();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(); // an append that failed fails the benchmark instead of counting
            }
        }
    }
}
