package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.pg.message.FrontendMessage.Bind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The open-batch rule's reading of names and values after code that may have changed client_encoding. */
class EncodingAfterHiddenCodeTest {
    private static final byte[] ACCENTED = "é".getBytes(StandardCharsets.UTF_8);
    private static final byte[] INT_200 = {0, 0, 0, (byte) 200};

    private static Bind bind(short[] formats, byte[]... values) {
        return new Bind("", "s", formats, values, new short[0]);
    }

    private static ResultShape.Prepared declared(int... types) {
        return new ResultShape.Prepared(null, types);
    }

    @Test
    void namesBeyondAsciiAreRefusedOnlyWhileCodeMayHaveRun() {
        assertThat(EncodingAfterHiddenCode.names(true, "", "S_1")).isNull();
        assertThat(EncodingAfterHiddenCode.names(false, "é")).isNull();
        assertThat(EncodingAfterHiddenCode.names(true, "S_1", "é").sqlState()).isEqualTo("0A000");
        // A malformed name was decoded to U+FFFD by the gateway: beyond ASCII too.
        assertThat(EncodingAfterHiddenCode.names(true, "\uFFFD")).isNotNull();
    }

    @Test
    void aTextValueBeyondAsciiIsMisreadableWhateverItsDeclaredType() {
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(new short[0], ACCENTED), declared(23))).isTrue();
        assertThat(EncodingAfterHiddenCode.misreadable(false, bind(new short[0], ACCENTED), declared(25))).isFalse();
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(new short[0], "x".getBytes(StandardCharsets.UTF_8),
                null), declared(25, 25))).isFalse();
    }

    @Test
    void aBinaryValueIsMisreadableUnlessItsDeclaredTypeNeverReadsText() {
        short[] binary = {1};
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(binary, INT_200), declared(23))).isFalse();
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(binary, ACCENTED), declared(17))).isFalse();
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(binary, ACCENTED), declared(25))).isTrue();
        // Undeclared (0, or no Parse types kept): the server infers the type, which may be text.
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(binary, INT_200), declared(0))).isTrue();
        assertThat(EncodingAfterHiddenCode.misreadable(true, bind(binary, INT_200), null)).isTrue();
    }

    @Test
    void onlyATextValueThatIsNotUtf8IsRefused() {
        byte[][] latin1 = {{(byte) 0xE9}};
        assertThat(EncodingAfterHiddenCode.malformed(true, latin1, i -> (short) 0).sqlState()).isEqualTo("22021");
        assertThat(EncodingAfterHiddenCode.malformed(false, latin1, i -> (short) 0)).isNull();
        assertThat(EncodingAfterHiddenCode.malformed(true, latin1, i -> (short) 1)).isNull();
        assertThat(EncodingAfterHiddenCode.malformed(true, new byte[][]{ACCENTED}, i -> (short) 0)).isNull();
    }

    @Test
    void aFunctionCallIsRefusedOnlyForATextArgumentBeyondAscii() {
        assertThat(EncodingAfterHiddenCode.functionArguments(true, new byte[][]{ACCENTED}, i -> (short) 0))
                .isNotNull();
        assertThat(EncodingAfterHiddenCode.functionArguments(true, new byte[][]{INT_200}, i -> (short) 1)).isNull();
        assertThat(EncodingAfterHiddenCode.functionArguments(false, new byte[][]{ACCENTED}, i -> (short) 0)).isNull();
    }
}
