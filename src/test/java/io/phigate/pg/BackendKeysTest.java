package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.cluster.Cluster;
import org.junit.jupiter.api.Test;

/** The keys a replica issues name it: its slot is in the high bits of every process id, which stays positive. */
class BackendKeysTest {
    @Test
    void everyProcessIdOfAReplicaCarriesItsSlotAndAnotherSlotIsElsewhere() {
        for (int slot : new int[]{1, 7, Cluster.MAX_SLOT}) {
            BackendKeys keys = new BackendKeys(slot);
            for (int i = 0; i < 1000; i++) {
                int pid = keys.issue().processId();
                assertThat(pid).isPositive();
                assertThat(pid >>> Cluster.SLOT_SHIFT).isEqualTo(slot);
                assertThat(keys.elsewhere(pid)).isFalse();
            }
            assertThat(keys.elsewhere((slot == 1 ? 2 : 1) << Cluster.SLOT_SHIFT | 5)).isTrue();
        }
    }

    @Test
    void aGatewayAloneTakesNoKeyForAnotherReplicas() {
        BackendKeys alone = new BackendKeys();
        assertThat(alone.elsewhere(3 << Cluster.SLOT_SHIFT | 5)).isFalse();
        assertThat(alone.issue().processId()).isPositive();
    }

    @Test
    void aSlotOutsideTheRangeIsRefused() {
        assertThatThrownBy(() -> new BackendKeys(Cluster.MAX_SLOT + 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
