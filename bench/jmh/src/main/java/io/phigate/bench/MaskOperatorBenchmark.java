package io.phigate.bench;

import io.phigate.mask.MaskOperator;
import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.MaskingKeys;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import java.nio.ByteBuffer;
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
 * Values per second through one masking operator, over 1,024 distinct values, in each transfer format. Each
 * operator gets the column it is typically configured on:
 * <ul>
 *   <li>{@code redact}, {@code partial}, {@code token}, {@code fpe}: an SSN in a varchar column (text) or an
 *       8-byte account number in an int8 column (binary);</li>
 *   <li>{@code year}, {@code date_shift}: a timestamptz ({@code 1984-03-05 10:11:12.123+01} or int64 µs), with a
 *       patient key for {@code date_shift};</li>
 *   <li>{@code zip3}: {@code 02134-1234} in a varchar, or an int4 ZIP; {@code age90}: an int4 age, text or binary.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MaskOperatorBenchmark {
    static final int VALUES = 1024;

    @Param({"redact", "partial", "token", "fpe", "year", "date_shift", "zip3", "age90"})
    public String operator;

    @Param({"text", "binary"})
    public String format;

    private MaskOperator op;
    private ValueType type;
    private byte[][] values;
    private final RowContext patient = new RowContext("patient-42".getBytes(StandardCharsets.UTF_8));

    @Setup
    public void setUp() {
        OperatorSpec.Kind kind = OperatorSpec.Kind.valueOf(operator.toUpperCase(java.util.Locale.ROOT));
        op = Operators.create(OperatorSpec.of(kind), PhiType.SSN, MaskingKeys.derive(new byte[32]));
        boolean binary = format.equals("binary");
        values = new byte[VALUES][];
        for (int i = 0; i < VALUES; i++) {
            switch (kind) {
                case YEAR, DATE_SHIFT -> {
                    type = new ValueType(1184, -1, binary);
                    long micros = -500_000_000_000_000L + i * 86_400_000_000L * 7 + 36_672_123_000L;
                    values[i] = binary ? ByteBuffer.allocate(8).putLong(micros).array()
                            : ascii(String.format("19%02d-%02d-%02d 10:11:12.123+01", 40 + i % 60, 1 + i % 12, 1 + i % 28));
                }
                case ZIP3 -> {
                    type = new ValueType(binary ? 23 : 1043, -1, binary);
                    values[i] = binary ? ByteBuffer.allocate(4).putInt(10_000 + i * 37).array()
                            : ascii(String.format("%05d-1234", 10_000 + i * 37));
                }
                case AGE90 -> {
                    type = new ValueType(23, -1, binary);
                    values[i] = binary ? ByteBuffer.allocate(4).putInt(i % 110).array() : ascii(Integer.toString(i % 110));
                }
                default -> {
                    type = new ValueType(binary ? 20 : 1043, -1, binary);
                    values[i] = binary ? ByteBuffer.allocate(8).putLong(4_000_000_000_000_000L + i * 7919L).array()
                            : ascii(String.format("%03d-%02d-%04d", 100 + i % 800, 10 + i % 90, 1000 + i));
                }
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(VALUES)
    public void apply(Blackhole bh) {
        for (byte[] v : values) {
            bh.consume(op.apply(v, type, patient));
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
