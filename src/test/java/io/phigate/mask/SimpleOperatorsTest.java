package io.phigate.mask;

import static io.phigate.mask.Wire.binary;
import static io.phigate.mask.Wire.str;
import static io.phigate.mask.Wire.text;
import static io.phigate.mask.Wire.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.OperatorSpec.Kind;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** redact, null, none, partial, zip3, age90: the operators that need no key. */
class SimpleOperatorsTest {
    private static MaskOperator op(Kind kind, PhiType type) {
        return Operators.create(OperatorSpec.of(kind), type, null);
    }

    @Test
    void redactGivesTheTagForTextAndNullForOtherTypes() {
        MaskOperator redact = op(Kind.REDACT, PhiType.SSN);
        assertThat(str(redact.apply(utf8("123-45-6789"), text(Wire.VARCHAR), RowContext.NONE))).isEqualTo("[SSN]");
        assertThat(str(redact.apply(utf8("123-45-6789"), binary(Wire.TEXT), RowContext.NONE))).isEqualTo("[SSN]");
        assertThat(redact.apply(Wire.int4(7), binary(Wire.INT4), RowContext.NONE)).isNull();
        assertThat(redact.apply(utf8("1984-03-05"), text(Wire.DATE), RowContext.NONE)).isNull();
        assertThat(str(op(Kind.REDACT, PhiType.FREE_TEXT).apply(utf8("x"), text(Wire.TEXT), RowContext.NONE)))
                .isEqualTo("[FREE_TEXT]");
    }

    @Test
    void redactKeepsJsonValidAsAJsonString() {
        MaskOperator redact = op(Kind.REDACT, PhiType.NAME);
        assertThat(str(redact.apply(utf8("{\"a\":1}"), text(Wire.JSON), RowContext.NONE))).isEqualTo("\"[NAME]\"");
        byte[] jsonb = redact.apply(new byte[] {1, '{', '}'}, binary(Wire.JSONB), RowContext.NONE);
        assertThat(jsonb[0]).isEqualTo((byte) 1);
        assertThat(str(java.util.Arrays.copyOfRange(jsonb, 1, jsonb.length))).isEqualTo("\"[NAME]\"");
    }

    @Test
    void redactReDescribesUnknownTypesAsText() {
        MaskOperator redact = op(Kind.REDACT, PhiType.IP);
        assertThat(redact.describedType(Wire.INET)).isEqualTo(Wire.TEXT);
        assertThat(str(redact.apply(new byte[] {2, 32, 0, 4, 10, 1, 2, 3}, binary(Wire.INET), RowContext.NONE)))
                .isEqualTo("[IP]");
        assertThat(redact.describedType(Wire.DATE)).isEqualTo(Wire.DATE);
    }

    @Test
    void nullAndNone() {
        byte[] v = utf8("x");
        assertThat(op(Kind.NULL, PhiType.SSN).apply(v, text(Wire.TEXT), RowContext.NONE)).isNull();
        assertThat(op(Kind.NONE, PhiType.SSN).apply(v, text(Wire.TEXT), RowContext.NONE)).isSameAs(v);
    }

    @Test
    void partialKeepsTheLastFourAndTheSeparators() {
        MaskOperator partial = op(Kind.PARTIAL, PhiType.SSN);
        assertThat(str(partial.apply(utf8("123-45-6789"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("***-**-6789");
        assertThat(str(partial.apply(utf8("(555) 123-4567"), text(Wire.TEXT), RowContext.NONE)))
                .isEqualTo("(***) ***-4567");
        assertThat(str(partial.apply(utf8("123456789"), binary(Wire.VARCHAR), RowContext.NONE))).isEqualTo("*****6789");
    }

    @Test
    void partialMasksShortValuesWhole() {
        MaskOperator partial = op(Kind.PARTIAL, PhiType.SSN);
        assertThat(str(partial.apply(utf8("1234"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("****");
        assertThat(str(partial.apply(utf8("12"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("**");
        assertThat(partial.apply(utf8("1234"), text(Wire.INT4), RowContext.NONE)).isNull();
    }

    @Test
    void partialCountsCharactersNotBytes() {
        MaskOperator partial = Operators.create(new OperatorSpec(Kind.PARTIAL, 2, 0), PhiType.NAME, null);
        assertThat(str(partial.apply(utf8("Zoë Müller"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("*** ****er");
        assertThat(str(partial.apply(utf8("Jürgen Müé"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("****** *üé");
    }

    @Test
    void partialOnIntegersKeepsTheLastDigitsAsAnInteger() {
        MaskOperator partial = op(Kind.PARTIAL, PhiType.ACCOUNT);
        assertThat(Wire.readInteger(partial.apply(Wire.int8(9876543210L), binary(Wire.INT8), RowContext.NONE)))
                .isEqualTo(3210);
        assertThat(Wire.readInteger(partial.apply(Wire.int4(-123456), binary(Wire.INT4), RowContext.NONE)))
                .isEqualTo(3456);
        assertThat(str(partial.apply(utf8("123456"), text(Wire.INT2), RowContext.NONE))).isEqualTo("3456");
        assertThat(partial.apply(utf8("1e5"), text(Wire.INT4), RowContext.NONE)).isNull();
    }

    @Test
    void partialRejectsANegativeKeep() {
        assertThatThrownBy(() -> Operators.create(new OperatorSpec(Kind.PARTIAL, -1, 0), PhiType.SSN, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void zip3KeepsThreeDigitsAndZeroesTheRestrictedPrefixes() {
        MaskOperator zip = op(Kind.ZIP3, PhiType.ZIP);
        assertThat(str(zip.apply(utf8("12345"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("123");
        assertThat(str(zip.apply(utf8("12345-6789"), text(Wire.VARCHAR), RowContext.NONE))).isEqualTo("123");
        assertThat(str(zip.apply(utf8("02134"), text(Wire.BPCHAR), RowContext.NONE))).isEqualTo("021");
        for (String restricted : new String[] {"03601", "05901", "06301", "10201", "20301", "55601", "69201",
                "79001", "82101", "82301", "83001", "83101", "87801", "87901", "88401", "89001", "89301"}) {
            assertThat(str(zip.apply(utf8(restricted), text(Wire.TEXT), RowContext.NONE))).as(restricted).isEqualTo("000");
        }
        assertThat(str(zip.apply(utf8("03701"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("037");
    }

    @Test
    void zip3RedactsWhatIsNotAZip() {
        MaskOperator zip = op(Kind.ZIP3, PhiType.ZIP);
        assertThat(str(zip.apply(utf8("1 Main St, Springfield"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[ZIP]");
        assertThat(str(zip.apply(utf8("1234"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[ZIP]");
        assertThat(zip.apply(Wire.int4(123456), binary(Wire.INT4), RowContext.NONE)).isNull();
    }

    @Test
    void zip3OnIntegerZips() {
        MaskOperator zip = op(Kind.ZIP3, PhiType.ZIP);
        assertThat(Wire.readInteger(zip.apply(Wire.int4(2134), binary(Wire.INT4), RowContext.NONE))).isEqualTo(21);
        assertThat(Wire.readInteger(zip.apply(Wire.int4(89301), binary(Wire.INT4), RowContext.NONE))).isEqualTo(0);
        assertThat(str(zip.apply(utf8("12345"), text(Wire.INT8), RowContext.NONE))).isEqualTo("123");
    }

    @Test
    void age90CapsAgesAtNinety() {
        MaskOperator age = op(Kind.AGE90, PhiType.AGE);
        assertThat(Wire.readInteger(age.apply(Wire.int2(104), binary(Wire.INT2), RowContext.NONE))).isEqualTo(90);
        assertThat(Wire.readInteger(age.apply(Wire.int4(89), binary(Wire.INT4), RowContext.NONE))).isEqualTo(89);
        assertThat(str(age.apply(utf8("90"), text(Wire.INT4), RowContext.NONE))).isEqualTo("90");
        assertThat(str(age.apply(utf8("97"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("90+");
        assertThat(str(age.apply(utf8("42"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("42");
        assertThat(str(age.apply(utf8("ninety"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[AGE]");
        assertThat(str(age.apply(utf8("91.5"), text(Wire.NUMERIC), RowContext.NONE))).isEqualTo("90");
        assertThat(str(age.apply(utf8("89.5"), text(Wire.NUMERIC), RowContext.NONE))).isEqualTo("89.5");
        assertThat(age.apply(utf8("NaN"), text(Wire.NUMERIC), RowContext.NONE)).isNull();
        assertThat(Double.longBitsToDouble(Wire.readInteger(
                age.apply(Wire.int8(Double.doubleToLongBits(95.2)), binary(Wire.FLOAT8), RowContext.NONE))))
                .isEqualTo(90.0);
        assertThat(age.apply(utf8("1984-03-05"), text(Wire.DATE), RowContext.NONE)).isNull();
    }

    @Test
    void age90OnBinaryNumeric() {
        MaskOperator age = op(Kind.AGE90, PhiType.AGE);
        byte[] ninetyOne = {0, 1, 0, 0, 0, 0, 0, 0, 0, 91};
        byte[] out = age.apply(ninetyOne, binary(Wire.NUMERIC), RowContext.NONE);
        ByteBuffer b = ByteBuffer.wrap(out);
        assertThat(new short[] {b.getShort(), b.getShort(), b.getShort(), b.getShort(), b.getShort()})
                .containsExactly(1, 0, 0, 0, 90);
        byte[] fortyTwoAndAHalf = {0, 2, 0, 0, 0, 0, 0, 1, 0, 42, 0x13, (byte) 0x88};
        assertThat(age.apply(fortyTwoAndAHalf, binary(Wire.NUMERIC), RowContext.NONE)).isEqualTo(fortyTwoAndAHalf);
        byte[] nan = {0, 0, 0, 0, (byte) 0xc0, 0, 0, 0};
        assertThat(age.apply(nan, binary(Wire.NUMERIC), RowContext.NONE)).isNull();
    }
}
