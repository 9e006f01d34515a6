package io.phigate.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A range restored from its frontier grows exactly as the range that never lost its leaves. */
class CompactRangeRestoreTest {

    @Test
    void restoredFrontierThenTheRestGivesTheSameRootsAsAppendingAll() {
        Random random = new Random(9162);
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < 130; i++) {
            byte[] leaf = new byte[32];
            random.nextBytes(leaf);
            leaves.add(leaf);
        }
        for (int n = 0; n <= 100; n++) {
            CompactRange whole = new CompactRange();
            for (int i = 0; i < n; i++) {
                whole.append(leaves.get(i));
            }
            CompactRange restored = CompactRange.restore(n, whole.frontier());
            assertThat(restored.root()).as("root at %d", n).isEqualTo(whole.root());
            for (int i = n; i < leaves.size(); i++) {
                whole.append(leaves.get(i));
                restored.append(leaves.get(i));
                assertThat(restored.root()).as("cut at %d, size %d", n, i + 1).isEqualTo(whole.root());
            }
            assertThat(restored.frontier()).usingRecursiveComparison().isEqualTo(whole.frontier());
        }
    }

    @Test
    void anInclusionProofFromAFrontierAndTheLaterLeavesEqualsTheProofFromAllLeaves() {
        Random random = new Random(9162);
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] leaf = new byte[32];
            random.nextBytes(leaf);
            leaves.add(leaf);
        }
        for (int cut = 0; cut <= 33; cut++) {
            CompactRange prefix = new CompactRange();
            for (int i = 0; i < cut; i++) {
                prefix.append(leaves.get(i));
            }
            List<byte[]> after = leaves.subList(cut, leaves.size());
            for (int size = Math.max(cut, 1); size <= leaves.size(); size++) {
                byte[] root = MerkleTree.rootOf(leaves.subList(0, size));
                for (int index = cut; index < size; index++) {
                    InclusionProof pruned = MerkleTree.inclusionProof(cut, prefix.frontier(), after, index, size);
                    List<byte[]> full = MerkleTree.inclusionProof(leaves, index, size).path();
                    boolean same = full.size() == pruned.path().size();
                    for (int h = 0; same && h < full.size(); h++) {
                        same = java.util.Arrays.equals(full.get(h), pruned.path().get(h));
                    }
                    if (!same) {
                        throw new AssertionError("cut " + cut + ", size " + size + ", leaf " + index);
                    }
                    pruned.verify(leaves.get(index), root);
                }
            }
        }
        assertThatThrownBy(() -> MerkleTree.inclusionProof(8, new CompactRange().frontier(), leaves, 9, 20))
                .isInstanceOf(MerkleException.class);
        CompactRange eight = new CompactRange();
        leaves.subList(0, 8).forEach(eight::append);
        assertThatThrownBy(() -> MerkleTree.inclusionProof(8, eight.frontier(), leaves, 7, 20))
                .as("a pruned leaf").isInstanceOf(MerkleException.class);
    }

    @Test
    void aFrontierThatDoesNotFitTheSizeIsRefused() {
        assertThatThrownBy(() -> CompactRange.restore(3, List.of(new byte[32])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 subtree roots");
        assertThatThrownBy(() -> CompactRange.restore(1, List.of(new byte[31])))
                .isInstanceOf(MerkleException.class).hasMessageContaining("31 bytes");
    }

    @Test
    void theFrontierIsACopy() {
        CompactRange range = new CompactRange();
        range.append(new byte[32]);
        range.frontier().getFirst()[0] = 1;
        assertThat(range.frontier().getFirst()[0]).isZero();
    }
}
