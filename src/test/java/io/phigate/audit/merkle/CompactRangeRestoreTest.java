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
