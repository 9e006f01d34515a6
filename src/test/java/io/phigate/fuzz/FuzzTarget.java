package io.phigate.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What every fuzz target shares. A target is one small class: it extends this, implements {@link #exercise}
 * (which must return normally or throw one of {@link #expected()} for any input), and declares
 * <pre>{@code
 *     @FuzzTest(maxDuration = FUZZ_DURATION)
 *     void fuzz(byte[] input) throws Throwable { check(input); }
 * }</pre>
 * with its seed corpus in {@code src/test/resources/<package>/<Class>Inputs/fuzz/}.
 *
 * <p>Three ways it runs. In the ordinary suite Jazzer's {@code @FuzzTest} replays the committed seeds
 * (regression mode), and {@link #mutatedSeedsForAShortFixedTime()} spends {@link #SUITE_BUDGET} on cheap random
 * mutations of those seeds, so every target is exercised beyond its seeds in every build without Jazzer's
 * one-fuzz-test-per-JVM restriction. {@code bench/fuzz.sh} runs each target under Jazzer's coverage-guided
 * engine ({@code JAZZER_FUZZ=1}) for longer.
 *
 * <p>Beyond "no other exception", {@link #check} enforces the two other properties: no hang (each input has
 * {@link #timeBudget()} of wall time, {@link #PER_INPUT} by default) and no allocation driven by what an input declares rather than what it is
 * (bytes allocated while handling one input stay under {@link #allocationBudget}).
 */
public abstract class FuzzTarget {
    /** Fuzz inputs are capped: a real frame or config is bounded by the limits the code enforces anyway. */
    public static final int MAX_INPUT = 64 * 1024;
    /** How long bench/fuzz.sh fuzzes a target unless DURATION (JAZZER_MAX_DURATION) says otherwise. */
    public static final String FUZZ_DURATION = "5m";
    static final Duration SUITE_BUDGET = Duration.ofMillis(Long.getLong("phigate.fuzz.suiteMillis", 2_000));
    static final Duration PER_INPUT = Duration.ofSeconds(2);

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Handles one input the way the gateway would. */
    protected abstract void exercise(byte[] input) throws Exception;

    /** The exception types an input may legitimately cause: the documented error type of the boundary. */
    protected abstract List<Class<? extends Exception>> expected();

    /**
     * Wall time one input may take. {@link #PER_INPUT} unless the code under test has a documented time limit of
     * its own, which the target then checks instead.
     */
    protected Duration timeBudget() {
        return PER_INPUT;
    }

    /** The time budget of one particular input, for code whose limit scales with what the input holds. */
    protected Duration timeBudget(byte[] input) {
        return timeBudget();
    }

    /** Bytes one input may make the code allocate; above it, allocation is following a declared length. */
    protected long allocationBudget(int inputLength) {
        return 32L * 1024 * 1024 + 200L * inputLength;
    }

    /**
     * Runs one input and fails on an undocumented exception, a hang or an outsized allocation. A time or
     * allocation over budget is confirmed by a second run before it fails: the first inputs of a JVM also pay for
     * class loading and, under Jazzer, for instrumenting what they touch.
     */
    protected final void check(byte[] input) throws Throwable {
        if (input.length > MAX_INPUT) {
            return;
        }
        String problem = runOnce(input);
        if (problem != null && runOnce(input) != null) {
            throw new AssertionError(problem);
        }
    }

    private String runOnce(byte[] input) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        try {
            exercise(input);
        } catch (Exception e) {
            if (expected().stream().noneMatch(t -> t.isInstance(e))) {
                throw new AssertionError("undocumented " + e.getClass().getName() + " for input of "
                        + input.length + " bytes", e);
            }
        }
        long elapsed = System.nanoTime() - start;
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        if (elapsed > timeBudget(input).toNanos()) {
            return "input of " + input.length + " bytes took " + elapsed / 1_000_000 + " ms";
        }
        if (allocated > allocationBudget(input.length)) {
            return "input of " + input.length + " bytes allocated " + allocated + " bytes";
        }
        return null;
    }

    @Test
    void mutatedSeedsForAShortFixedTime() {
        List<byte[]> seeds = seeds();
        assertThat(seeds).as("seed corpus for " + getClass().getSimpleName()).isNotEmpty();
        Random random = new Random(getClass().getName().hashCode());
        int[] runs = new int[1];
        assertTimeoutPreemptively(SUITE_BUDGET.plus(timeBudget().multipliedBy(2)).plusSeconds(5), () -> {
            for (byte[] seed : seeds) {
                check(seed);
            }
            long end = System.nanoTime() + SUITE_BUDGET.toNanos();
            while (System.nanoTime() < end) {
                byte[] input = Mutator.mutate(seeds, random);
                try {
                    check(input);
                } catch (Throwable t) {
                    throw new AssertionError("failing input (hex): " + java.util.HexFormat.of().formatHex(input), t);
                }
                runs[0]++;
            }
        });
        assertThat(runs[0]).isPositive();
    }

    /** The committed seed corpus, read from the test classpath. */
    List<byte[]> seeds() {
        String dir = getClass().getSimpleName() + "Inputs/fuzz";
        URL url = getClass().getResource(dir);
        if (url == null) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            List<byte[]> out = new ArrayList<>();
            for (Path f : files.sorted().toList()) {
                out.add(Files.readAllBytes(f));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
