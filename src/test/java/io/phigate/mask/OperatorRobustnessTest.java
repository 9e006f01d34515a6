package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.OperatorSpec.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Arbitrary values never make an operator throw or pass them through; shared operators agree across threads. */
class OperatorRobustnessTest {
    static final MaskingKeys KEYS = MaskingKeys.derive(new byte[32]);
    private static final String CHARS = "0123456789-:. +/TZabcxyzABCXYZé中\"{}[]";

    @Test
    void arbitraryValuesComeOutValidOrNullNeverAsTheyWere() {
        Random random = new Random(4);
        int[] oids = Arrays.copyOf(Wire.SUPPORTED, Wire.SUPPORTED.length + 1);
        oids[oids.length - 1] = Wire.INET;
        for (Kind kind : Kind.values()) {
            if (kind == Kind.NONE) {
                continue;
            }
            MaskOperator op = Operators.create(OperatorSpec.of(kind), PhiType.MRN, KEYS);
            for (int oid : oids) {
                for (boolean binary : new boolean[] {false, true}) {
                    for (int i = 0; i < 300; i++) {
                        byte[] in = arbitrary(random, oid, binary);
                        byte[] out = op.apply(in.clone(), new ValueType(oid, -1, binary), RowContext.NONE);
                        if (out == null) {
                            continue;
                        }
                        String what = kind + " on " + oid + (binary ? " binary " : " text ") + Arrays.toString(in);
                        try {
                            Wire.assertValid(out, op.describedType(oid), binary);
                        } catch (AssertionError e) {
                            throw new AssertionError(what + ": " + e.getMessage(), e);
                        }
                        boolean nothingToHide = kind == Kind.PARTIAL
                                && new String(in, StandardCharsets.UTF_8).matches("[ \\-().:/_+,]*");
                        if (kind != Kind.AGE90 && !nothingToHide) { // ages under 90 are what age90 keeps
                            assertThat(out).as(what).isNotEqualTo(in);
                        }
                    }
                }
            }
        }
    }

    /** Text the server could send for a text-like column, or any bytes for the rest. */
    private static byte[] arbitrary(Random random, int oid, boolean binary) {
        boolean textual = !binary || oid == Wire.TEXT || oid == Wire.VARCHAR || oid == Wire.BPCHAR || oid == Wire.NAME
                || oid == Wire.JSON;
        if (textual) {
            StringBuilder b = new StringBuilder();
            int n = random.nextInt(24);
            for (int i = 0; i < n; i++) {
                b.append(CHARS.charAt(random.nextInt(CHARS.length())));
            }
            String s = b.toString();
            if (oid == Wire.JSON || oid == Wire.JSONB) {
                s = random.nextBoolean() ? "\"" + s.replace("\"", "").replace("\\", "") + "\"" : "null";
            }
            return s.getBytes(StandardCharsets.UTF_8);
        }
        byte[] v = new byte[random.nextInt(3) == 0 ? random.nextInt(20) : Wire.sample(oid, true).length];
        random.nextBytes(v);
        return v;
    }

    @Test
    void sharedOperatorsGiveTheSameResultsOnManyThreads() throws Exception {
        List<MaskOperator> ops = List.of(
                Operators.create(OperatorSpec.of(Kind.TOKEN), PhiType.SSN, KEYS),
                Operators.create(OperatorSpec.of(Kind.FPE), PhiType.SSN, KEYS),
                Operators.create(OperatorSpec.of(Kind.DATE_SHIFT), PhiType.DOB, KEYS));
        ValueType text = Wire.text(Wire.TEXT);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            values.add(String.format("%04d-%02d-%02d %09d", 1950 + i % 60, 1 + i % 12, 1 + i % 28, i * 7919)
                    .substring(0, 10).getBytes(StandardCharsets.US_ASCII));
            values.add(String.format("%03d-%02d-%04d", 100 + i, 10 + i % 90, 1000 + i).getBytes(StandardCharsets.US_ASCII));
        }
        List<byte[]> expected = new ArrayList<>();
        for (MaskOperator op : ops) {
            for (byte[] v : values) {
                expected.add(op.apply(v, text, RowContext.NONE));
            }
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<List<byte[]>>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    List<byte[]> got = new ArrayList<>();
                    for (MaskOperator op : ops) {
                        for (byte[] v : values) {
                            got.add(op.apply(v, text, RowContext.NONE));
                        }
                    }
                    return got;
                }));
            }
            for (Future<List<byte[]>> f : results) {
                List<byte[]> got = f.get();
                for (int i = 0; i < expected.size(); i++) {
                    assertThat(got.get(i)).isEqualTo(expected.get(i));
                }
            }
        }
    }
}
