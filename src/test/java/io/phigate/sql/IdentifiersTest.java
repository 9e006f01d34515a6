package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdentifiersTest {
    @Test
    void aNameIsCutToItsFirst63BytesAtACharacterBoundary() {
        assertThat(Identifiers.cut("x".repeat(63))).isEqualTo("x".repeat(63));
        assertThat(Identifiers.cut("x".repeat(70))).isEqualTo("x".repeat(63));
        // 40 two-byte characters are 80 bytes: 31 whole ones fit (62 bytes), half of the 32nd does not count.
        assertThat(Identifiers.cut("é".repeat(40))).isEqualTo("é".repeat(31));
        assertThat(Identifiers.cut("x" + "é".repeat(40))).isEqualTo("x" + "é".repeat(31));
    }

    @Test
    void patternPartsAreLeftWhole() {
        String longName = "t".repeat(70);
        assertThat(Identifiers.cutEach("*." + longName)).isEqualTo("*." + "t".repeat(63));
        assertThat(Identifiers.cutEach("public." + longName + "*")).isEqualTo("public." + longName + "*");
    }
}
