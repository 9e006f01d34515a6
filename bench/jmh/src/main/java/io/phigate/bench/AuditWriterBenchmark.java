package io.phigate.bench;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditStore;
import io.phigate.config.AuditConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Durable audit records per second: each operation is one {@link AuditStore#appendDurably} of one
 * {@code StatementRequested} record, returning only once the record is fsync'd, exactly as a session waits before
 * forwarding a statement. 1, 8 and 64 producer threads share one store, so the group commit is what is measured.
 * The file lives in {@code java.io.tmpdir} (set it to put the store on another disk); its fsync cost dominates.
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
}
