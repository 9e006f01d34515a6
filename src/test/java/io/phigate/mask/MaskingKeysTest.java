package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class MaskingKeysTest {
    @Test
    void derivesThreeDistinctDeterministicKeys() {
        byte[] master = new byte[32];
        master[0] = 7;
        MaskingKeys k = MaskingKeys.derive(master);
        assertThat(k.tokenKey()).hasSize(32).isNotEqualTo(k.ff1Key()).isNotEqualTo(k.shiftKey());
        assertThat(k.ff1Key()).isNotEqualTo(k.shiftKey()).isNotEqualTo(master);
        assertThat(MaskingKeys.derive(master.clone())).isEqualTo(k);
        master[31] = 1;
        assertThat(MaskingKeys.derive(master).tokenKey()).isNotEqualTo(k.tokenKey());
    }

    @Test
    void rejectsShortMasters() {
        assertThatThrownBy(() -> MaskingKeys.derive(new byte[31])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MaskingKeys.derive(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void toStringShowsNoKey() {
        MaskingKeys k = MaskingKeys.derive(new byte[32]);
        String s = k.toString();
        for (byte[] key : new byte[][] {k.tokenKey(), k.ff1Key(), k.shiftKey()}) {
            assertThat(s).doesNotContainIgnoringCase(HexFormat.of().formatHex(key).substring(0, 8));
        }
        assertThat(s).doesNotContain("[B@").isEqualTo("MaskingKeys[redacted]");
    }

    @Test
    void accessorsReturnCopies() {
        MaskingKeys k = MaskingKeys.derive(new byte[32]);
        k.tokenKey()[0] ^= 1;
        assertThat(k).isEqualTo(MaskingKeys.derive(new byte[32]));
    }
}
