package io.phigate.fuzz;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * libFuzzer's cheapest mutations, without coverage feedback: flip, overwrite with an interesting value, insert,
 * delete, duplicate a slice, splice two seeds. Enough to push every length field and terminator of a seed past
 * its edge in the suite's few seconds; Jazzer does the guided search in {@code bench/fuzz.sh}.
 */
final class Mutator {
    private static final int[] INTERESTING = {0, 1, 0x7F, 0x80, 0xFF, -1, Integer.MAX_VALUE, Integer.MIN_VALUE,
            0x7FFF, 0x8000, 0xFFFF, 4, 5, 8};

    private Mutator() {
    }

    static byte[] mutate(List<byte[]> seeds, Random random) {
        byte[] b = seeds.get(random.nextInt(seeds.size())).clone();
        int rounds = 1 + random.nextInt(4);
        for (int i = 0; i < rounds; i++) {
            b = once(b, seeds, random);
        }
        return b.length > FuzzTarget.MAX_INPUT ? Arrays.copyOf(b, FuzzTarget.MAX_INPUT) : b;
    }

    private static byte[] once(byte[] b, List<byte[]> seeds, Random random) {
        if (b.length == 0) {
            return new byte[]{(byte) random.nextInt()};
        }
        int at = random.nextInt(b.length);
        switch (random.nextInt(7)) {
            case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> b[at] = (byte) random.nextInt();
            case 2 -> {
                // An interesting 32-bit value at a random offset: hits length words.
                int v = INTERESTING[random.nextInt(INTERESTING.length)];
                for (int k = 0; k < 4 && at + k < b.length; k++) {
                    b[at + k] = (byte) (v >>> (24 - 8 * k));
                }
            }
            case 3 -> {
                int n = 1 + random.nextInt(8);
                byte[] out = new byte[b.length + n];
                System.arraycopy(b, 0, out, 0, at);
                for (int k = 0; k < n; k++) {
                    out[at + k] = (byte) random.nextInt();
                }
                System.arraycopy(b, at, out, at + n, b.length - at);
                return out;
            }
            case 4 -> {
                int n = Math.min(b.length - at, 1 + random.nextInt(16));
                byte[] out = new byte[b.length - n];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + n, out, at, b.length - at - n);
                return out;
            }
            case 5 -> {
                int n = Math.min(b.length - at, 1 + random.nextInt(64));
                byte[] out = new byte[b.length + n];
                System.arraycopy(b, 0, out, 0, at + n);
                System.arraycopy(b, at, out, at + n, b.length - at);
                return out;
            }
            default -> {
                byte[] other = seeds.get(random.nextInt(seeds.size()));
                int cut = random.nextInt(other.length + 1);
                byte[] out = Arrays.copyOf(b, at + other.length - cut);
                System.arraycopy(other, cut, out, at, other.length - cut);
                return out;
            }
        }
        return b;
    }
}
