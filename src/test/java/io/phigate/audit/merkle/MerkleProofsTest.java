package io.phigate.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.phigate.audit.merkle.MerkleException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class MerkleProofsTest {

    private static final int MAX = 64;
    private static final List<byte[]> LEAVES = leaves(MAX);
    private static final byte[][] ROOTS = roots(LEAVES);

    @Test
    void everyInclusionProofUpTo64LeavesVerifies() {
        for (int size = 1; size <= MAX; size++) {
            for (int index = 0; index < size; index++) {
                InclusionProof p = MerkleTree.inclusionProof(LEAVES, index, size);
                assertThat(p.path()).hasSize(InclusionProof.expectedLength(index, size));
                byte[] leaf = LEAVES.get(index);
                byte[] root = ROOTS[size];
                assertThatCode(() -> p.verify(leaf, root)).as("%d of %d", index, size).doesNotThrowAnyException();
            }
        }
    }

    @Test
    void everyConsistencyProofUpTo64LeavesVerifies() {
        for (int newSize = 1; newSize <= MAX; newSize++) {
            for (int oldSize = 1; oldSize <= newSize; oldSize++) {
                ConsistencyProof p = MerkleTree.consistencyProof(LEAVES, oldSize, newSize);
                byte[] oldRoot = ROOTS[oldSize];
                byte[] newRoot = ROOTS[newSize];
                assertThatCode(() -> p.verify(oldRoot, newRoot))
                        .as("%d to %d", oldSize, newSize).doesNotThrowAnyException();
            }
        }
    }

    @Test
    void everyTamperedInclusionProofFails() {
        for (int size = 1; size <= MAX; size++) {
            for (int index = 0; index < size; index++) {
                InclusionProof p = MerkleTree.inclusionProof(LEAVES, index, size);
                byte[] leaf = LEAVES.get(index);
                byte[] root = ROOTS[size];
                List<byte[]> path = p.path();
                String at = index + " of " + size;
                for (int i = 0; i < path.size(); i++) {
                    for (int bit : new int[] {0, 7 * 8 + 3, 255}) {
                        InclusionProof flipped = new InclusionProof(index, size, flip(path, i, bit));
                        fails(() -> flipped.verify(leaf, root), Reason.ROOT_MISMATCH, at);
                    }
                }
                fails(() -> p.verify(flip(leaf, 5), root), Reason.ROOT_MISMATCH, at);
                fails(() -> p.verify(leaf, flip(root, 200)), Reason.ROOT_MISMATCH, at);
                if (size > 1) {
                    InclusionProof otherIndex = new InclusionProof((index + 1) % size, size, path);
                    // A different index may need a different path length, or the same length and another root.
                    fails(() -> otherIndex.verify(leaf, root), null, at);
                    byte[] neighbour = LEAVES.get((index + 1) % size);
                    fails(() -> p.verify(neighbour, root), Reason.ROOT_MISMATCH, at);
                    InclusionProof truncated = new InclusionProof(index, size, path.subList(0, path.size() - 1));
                    fails(() -> truncated.verify(leaf, root), Reason.WRONG_PATH_LENGTH, at);
                }
                InclusionProof extra = new InclusionProof(index, size, plus(path, root));
                fails(() -> extra.verify(leaf, root), Reason.WRONG_PATH_LENGTH, at);
                InclusionProof outside = new InclusionProof(size, size, path); // index = size
                fails(() -> outside.verify(leaf, root), Reason.INDEX_OUT_OF_RANGE, at);
            }
        }
    }

    @Test
    void everyTamperedConsistencyProofFails() {
        for (int newSize = 2; newSize <= MAX; newSize++) {
            for (int oldSize = 1; oldSize < newSize; oldSize++) {
                ConsistencyProof p = MerkleTree.consistencyProof(LEAVES, oldSize, newSize);
                byte[] oldRoot = ROOTS[oldSize];
                byte[] newRoot = ROOTS[newSize];
                List<byte[]> path = p.path();
                String at = oldSize + " to " + newSize;
                for (int i = 0; i < path.size(); i++) {
                    for (int bit : new int[] {0, 100, 255}) {
                        ConsistencyProof flipped = new ConsistencyProof(oldSize, newSize, flip(path, i, bit));
                        fails(() -> flipped.verify(oldRoot, newRoot), Reason.ROOT_MISMATCH, at);
                    }
                }
                fails(() -> p.verify(flip(oldRoot, 9), newRoot), Reason.ROOT_MISMATCH, at);
                fails(() -> p.verify(oldRoot, flip(newRoot, 9)), Reason.ROOT_MISMATCH, at);
                fails(() -> p.verify(newRoot, oldRoot), Reason.ROOT_MISMATCH, at);
                ConsistencyProof truncated = new ConsistencyProof(oldSize, newSize, path.subList(0, path.size() - 1));
                fails(() -> truncated.verify(oldRoot, newRoot), Reason.WRONG_PATH_LENGTH, at);
                ConsistencyProof extra = new ConsistencyProof(oldSize, newSize, plus(path, newRoot));
                fails(() -> extra.verify(oldRoot, newRoot), Reason.WRONG_PATH_LENGTH, at);
                ConsistencyProof backwards = new ConsistencyProof(newSize, oldSize, path);
                fails(() -> backwards.verify(newRoot, oldRoot), Reason.SIZE_OUT_OF_RANGE, at);
                // A log that rewrote history: same sizes, but a different old leaf.
                List<byte[]> rewritten = new ArrayList<>(LEAVES.subList(0, newSize));
                rewritten.set(oldSize - 1, MerkleHash.leafHash("forged".getBytes(StandardCharsets.UTF_8)));
                ConsistencyProof forged = MerkleTree.consistencyProof(rewritten, oldSize, newSize);
                byte[] forgedRoot = MerkleTree.rootOf(rewritten);
                fails(() -> forged.verify(oldRoot, forgedRoot), Reason.ROOT_MISMATCH, at);
            }
        }
    }

    @Test
    void compactRangeRootEqualsRootOfEveryPrefixOf1000RandomLeaves() {
        Random random = new Random(9162);
        List<byte[]> leaves = new ArrayList<>();
        CompactRange range = new CompactRange();
        assertThat(range.root()).isEqualTo(MerkleHash.emptyRoot());
        for (int i = 0; i < 1000; i++) {
            byte[] entry = new byte[random.nextInt(200)];
            random.nextBytes(entry);
            byte[] leaf = MerkleHash.leafHash(entry);
            leaves.add(leaf);
            range.append(leaf);
            assertThat(range.size()).isEqualTo(i + 1);
            assertThat(range.root()).as("size %d", i + 1).isEqualTo(MerkleTree.rootOf(leaves));
        }
    }

    @Test
    void compactRangeIsNotChangedByTheCallersArrays() {
        CompactRange range = new CompactRange();
        byte[] leaf = LEAVES.getFirst().clone();
        range.append(leaf);
        leaf[0] ^= 1;
        byte[] root = range.root();
        root[1] ^= 1;
        assertThat(range.root()).isEqualTo(LEAVES.getFirst());
    }

    @Test
    void malformedInputIsRefusedWithAReasonNotAGenericException() {
        byte[] leaf = LEAVES.get(2);
        byte[] root = ROOTS[8];
        InclusionProof good = MerkleTree.inclusionProof(LEAVES, 2, 8);
        List<byte[]> path = good.path();

        fails(() -> good.verify(null, root), Reason.MALFORMED_HASH, "null leaf");
        fails(() -> good.verify(leaf, null), Reason.MALFORMED_HASH, "null root");
        fails(() -> good.verify(Arrays.copyOf(leaf, 31), root), Reason.MALFORMED_HASH, "short leaf");
        fails(() -> good.verify(leaf, Arrays.copyOf(root, 33)), Reason.MALFORMED_HASH, "long root");
        fails(() -> new InclusionProof(2, 8, null), Reason.MALFORMED_HASH, "null path");
        fails(() -> new InclusionProof(2, 8, Arrays.asList(path.get(0), null, path.get(2))), Reason.MALFORMED_HASH, "null element");
        List<byte[]> shortElement = new ArrayList<>(path);
        shortElement.set(1, new byte[0]);
        fails(() -> new InclusionProof(2, 8, shortElement).verify(leaf, root), Reason.MALFORMED_HASH, "empty element");
        fails(() -> new InclusionProof(-1, 8, path).verify(leaf, root), Reason.INDEX_OUT_OF_RANGE, "negative index");
        fails(() -> new InclusionProof(8, 8, path).verify(leaf, root), Reason.INDEX_OUT_OF_RANGE, "index = size");
        fails(() -> new InclusionProof(0, -3, path).verify(leaf, root), Reason.SIZE_OUT_OF_RANGE, "negative size");
        fails(() -> new InclusionProof(0, 0, List.of()).verify(leaf, MerkleHash.emptyRoot()),
                Reason.INDEX_OUT_OF_RANGE, "empty tree");
        fails(() -> new InclusionProof(Long.MAX_VALUE - 1, Long.MAX_VALUE, path).verify(leaf, root),
                Reason.WRONG_PATH_LENGTH, "huge tree");

        fails(() -> new ConsistencyProof(0, 8, List.of()).verify(MerkleHash.emptyRoot(), root),
                Reason.SIZE_OUT_OF_RANGE, "old size zero");
        fails(() -> new ConsistencyProof(5, 4, List.of()).verify(ROOTS[5], ROOTS[4]),
                Reason.SIZE_OUT_OF_RANGE, "sizes out of order");
        fails(() -> new ConsistencyProof(-5, 4, List.of()).verify(ROOTS[5], ROOTS[4]),
                Reason.SIZE_OUT_OF_RANGE, "negative size");
        fails(() -> new ConsistencyProof(3, 3, List.of(root)).verify(ROOTS[3], ROOTS[3]),
                Reason.WRONG_PATH_LENGTH, "equal sizes with a path");
        fails(() -> new ConsistencyProof(3, 3, List.of()).verify(ROOTS[3], ROOTS[4]),
                Reason.ROOT_MISMATCH, "equal sizes, different roots");
        assertThatCode(() -> new ConsistencyProof(3, 3, List.of()).verify(ROOTS[3], ROOTS[3].clone()))
                .doesNotThrowAnyException();
        fails(() -> new ConsistencyProof(3, 8, null), Reason.MALFORMED_HASH, "null path");
        fails(() -> new ConsistencyProof(3, 8, List.of()).verify(null, root), Reason.MALFORMED_HASH, "null old root");
        fails(() -> new ConsistencyProof(3, 8, List.of()).verify(ROOTS[3], new byte[20]),
                Reason.MALFORMED_HASH, "short new root");
    }

    @Test
    void generationRefusesImpossibleRequestsWithAReason() {
        fails(() -> MerkleTree.inclusionProof(LEAVES, 8, 8), Reason.INDEX_OUT_OF_RANGE, "index = size");
        fails(() -> MerkleTree.inclusionProof(LEAVES, -1, 8), Reason.INDEX_OUT_OF_RANGE, "negative index");
        fails(() -> MerkleTree.inclusionProof(LEAVES, 0, MAX + 1), Reason.SIZE_OUT_OF_RANGE, "more than given");
        fails(() -> MerkleTree.inclusionProof(null, 0, 1), Reason.MALFORMED_HASH, "null list");
        fails(() -> MerkleTree.consistencyProof(LEAVES, 0, 8), Reason.SIZE_OUT_OF_RANGE, "old size zero");
        fails(() -> MerkleTree.consistencyProof(LEAVES, 9, 8), Reason.SIZE_OUT_OF_RANGE, "out of order");
        fails(() -> MerkleTree.consistencyProof(LEAVES, 1, MAX + 1), Reason.SIZE_OUT_OF_RANGE, "more than given");
        List<byte[]> withNull = new ArrayList<>(LEAVES.subList(0, 4));
        withNull.set(2, null);
        fails(() -> MerkleTree.rootOf(withNull), Reason.MALFORMED_HASH, "null leaf");
        fails(() -> MerkleTree.rootOf(List.of(new byte[31])), Reason.MALFORMED_HASH, "short leaf");
        fails(() -> MerkleTree.rootOf(null), Reason.MALFORMED_HASH, "null list");
        fails(() -> new CompactRange().append(new byte[33]), Reason.MALFORMED_HASH, "long leaf");
        fails(() -> new CompactRange().append(null), Reason.MALFORMED_HASH, "null leaf");
        fails(() -> MerkleHash.nodeHash(new byte[32], new byte[1]), Reason.MALFORMED_HASH, "short child");
        fails(() -> MerkleHash.leafHash(null), Reason.MALFORMED_HASH, "null entry");
    }

    @Test
    void proofsAreImmutableAndEqualByContent() {
        List<byte[]> path = new ArrayList<>(MerkleTree.inclusionProof(LEAVES, 3, 13).path());
        InclusionProof a = new InclusionProof(3, 13, path);
        InclusionProof b = new InclusionProof(3, 13, path.stream().map(byte[]::clone).toList());
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(new InclusionProof(4, 13, path));
        assertThat(a).isNotEqualTo(new InclusionProof(3, 13, flip(path, 0, 0)));

        path.getFirst()[0] ^= 1;           // caller edits its own array after construction
        path.add(new byte[32]);            // and its own list
        a.path().getFirst()[0] ^= 1;       // and the copy it was handed
        assertThat(a).isEqualTo(b);
        assertThat(a.toString()).contains("index=3", "treeSize=13");

        ConsistencyProof c = MerkleTree.consistencyProof(LEAVES, 5, 13);
        ConsistencyProof d = new ConsistencyProof(5, 13, c.path());
        assertThat(c).isEqualTo(d).hasSameHashCodeAs(d);
        assertThat(c).isNotEqualTo(new ConsistencyProof(6, 13, c.path()));
    }

    @Test
    void nodeHashIsSha256OfOneThenBothChildren() {
        // Tree of two leaves from the reference vectors: root 2 is node(leaf(""), leaf(0x00)).
        byte[] left = MerkleHash.leafHash(new byte[0]);
        byte[] right = MerkleHash.leafHash(new byte[] {0});
        assertThat(java.util.HexFormat.of().formatHex(MerkleHash.nodeHash(left, right)))
                .isEqualTo("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
    }

    private static void fails(ThrowingCallable call, Reason reason, String at) {
        MerkleException e = catchThrowableOfType(MerkleException.class, call);
        assertThat(e).as(at).isNotNull();
        if (reason != null) {
            assertThat(e.reason()).as(at + ": " + e.getMessage()).isEqualTo(reason);
        }
    }

    private static List<byte[]> flip(List<byte[]> path, int element, int bit) {
        List<byte[]> out = new ArrayList<>(path);
        out.set(element, flip(path.get(element), bit));
        return out;
    }

    private static byte[] flip(byte[] hash, int bit) {
        byte[] out = hash.clone();
        out[bit / 8] ^= (byte) (1 << (bit % 8));
        return out;
    }

    private static List<byte[]> plus(List<byte[]> path, byte[] extra) {
        List<byte[]> out = new ArrayList<>(path);
        out.add(extra);
        return out;
    }

    private static List<byte[]> leaves(int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(MerkleHash.leafHash(("record " + i).getBytes(StandardCharsets.UTF_8)));
        }
        return List.copyOf(out);
    }

    private static byte[][] roots(List<byte[]> leaves) {
        byte[][] roots = new byte[leaves.size() + 1][];
        for (int i = 0; i <= leaves.size(); i++) {
            roots[i] = MerkleTree.rootOf(leaves.subList(0, i));
        }
        return roots;
    }
}
