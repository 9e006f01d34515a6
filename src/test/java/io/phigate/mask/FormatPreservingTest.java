package io.phigate.mask;

import static io.phigate.mask.Wire.binary;
import static io.phigate.mask.Wire.str;
import static io.phigate.mask.Wire.text;
import static io.phigate.mask.Wire.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.OperatorSpec.Kind;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.bouncycastle.crypto.fpe.FPEFF1Engine;
import org.bouncycastle.crypto.params.FPEParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class FormatPreservingTest {
    static final MaskingKeys KEYS = MaskingKeys.derive(utf8("a master secret of at least 32 bytes!"));
    static final MaskOperator FPE = Operators.create(OperatorSpec.of(Kind.FPE), PhiType.SSN, KEYS);
    static final String ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

    /** NIST SP 800-38G FF1 samples (csrc.nist.gov, FF1samples.pdf): 1-3 AES-128, 7-9 AES-256. */
    @ParameterizedTest(name = "sample {0}")
    @CsvSource({
        "1, 2B7E151628AED2A6ABF7158809CF4F3C, 10, '', 0123456789, 2433477484",
        "2, 2B7E151628AED2A6ABF7158809CF4F3C, 10, 39383736353433323130, 0123456789, 6124200773",
        "3, 2B7E151628AED2A6ABF7158809CF4F3C, 36, 3737373770717273373737, 0123456789abcdefghi, a9tv40mll9kdu509eum",
        "7, 2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94, 10, '', 0123456789, 6657667009",
        "8, 2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94, 10, 39383736353433323130, 0123456789, 1001623463",
        "9, 2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94, 36, 3737373770717273373737, 0123456789abcdefghi, xs8a0azh2avyalyzuwd",
    })
    void bouncyCastleFf1MatchesTheNistSamples(int sample, String key, int radix, String tweak, String plain, String cipher) {
        FPEFF1Engine engine = new FPEFF1Engine();
        engine.init(true, new FPEParameters(new KeyParameter(HexFormat.of().parseHex(key)), radix,
                HexFormat.of().parseHex(tweak)));
        byte[] in = symbols(plain);
        byte[] out = new byte[in.length];
        engine.processBlock(in, 0, in.length, out, 0);
        assertThat(spelled(out)).isEqualTo(cipher);
    }

    @Test
    void textKeepsTheShapeAndDecryptsWithTheKey() {
        String masked = str(FPE.apply(utf8("123-45-6789"), text(Wire.TEXT), RowContext.NONE));
        assertThat(masked).matches("\\d{3}-\\d{2}-\\d{4}").isNotEqualTo("123-45-6789");
        assertThat(str(FPE.apply(utf8("123-45-6789"), binary(Wire.VARCHAR), RowContext.NONE))).isEqualTo(masked);
        FPEFF1Engine decrypt = new FPEFF1Engine();
        decrypt.init(false, new FPEParameters(new KeyParameter(KEYS.ff1Key()), 10,
                "ssn/digits".getBytes(StandardCharsets.US_ASCII)));
        byte[] c = symbols(masked.replace("-", ""));
        byte[] p = new byte[c.length];
        decrypt.processBlock(c, 0, c.length, p, 0);
        assertThat(spelled(p)).isEqualTo("123456789");
    }

    @Test
    void tooFewDigitsAreRedacted() {
        assertThat(str(FPE.apply(utf8("12-345"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[SSN]");
        assertThat(str(FPE.apply(utf8("John Smith"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[SSN]");
        assertThat(FPE.apply(Wire.int4(12345), binary(Wire.INT4), RowContext.NONE)).isNull();
    }

    @Test
    void lettersAreEncryptedPerCaseWhenThereAreEnough() {
        String masked = str(FPE.apply(utf8("MRN-ABCDEF-123456-xy"), text(Wire.TEXT), RowContext.NONE));
        // nine upper-case letters, MRN included, are one radix-26 string; two lower-case ones are too few
        assertThat(masked).matches("[A-Z]{3}-[A-Z]{6}-\\d{6}-xy");
        assertThat(masked.substring(0, 10)).isNotEqualTo("MRN-ABCDEF");
    }

    @Test
    void integersKeepTheirDigitCountSignAndRange() {
        for (long v : new long[] {123456, 999999, 100000, -4567890, 2147483647, 1999999999}) {
            long masked = Wire.readInteger(FPE.apply(Wire.int4((int) v), binary(Wire.INT4), RowContext.NONE));
            assertThat(masked).as("%d", v).isNotEqualTo(v);
            assertThat(Long.toString(Math.abs(masked))).hasSameSizeAs(Long.toString(Math.abs(v)));
            assertThat(Long.signum(masked)).isEqualTo(Long.signum(v));
            assertThat(str(FPE.apply(utf8(Long.toString(v)), text(Wire.INT4), RowContext.NONE)))
                    .isEqualTo(Long.toString(masked));
        }
        long big = Wire.readInteger(FPE.apply(Wire.int8(Long.MAX_VALUE), binary(Wire.INT8), RowContext.NONE));
        assertThat(Long.toString(big)).hasSize(19);
    }

    @Test
    void integerCycleWalkingIsReversible() {
        long v = 2_000_000_000L;
        long masked = Wire.readInteger(FPE.apply(Wire.int4((int) v), binary(Wire.INT4), RowContext.NONE));
        FPEFF1Engine decrypt = new FPEFF1Engine();
        decrypt.init(false, new FPEParameters(new KeyParameter(KEYS.ff1Key()), 10,
                "ssn/digits".getBytes(StandardCharsets.US_ASCII)));
        byte[] c = symbols(Long.toString(masked));
        long plain;
        do {
            byte[] p = new byte[c.length];
            decrypt.processBlock(c, 0, c.length, p, 0);
            c = p;
            plain = Long.parseLong(spelled(c));
        } while (c[0] == 0 || plain > Integer.MAX_VALUE);
        assertThat(plain).isEqualTo(v);
    }

    private static byte[] symbols(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            out[i] = (byte) ALPHABET.indexOf(s.charAt(i));
        }
        return out;
    }

    private static String spelled(byte[] symbols) {
        StringBuilder b = new StringBuilder();
        for (byte x : symbols) {
            b.append(ALPHABET.charAt(x));
        }
        return b.toString();
    }
}
