package io.phigate.mask;

import static io.phigate.mask.Wire.binary;
import static io.phigate.mask.Wire.str;
import static io.phigate.mask.Wire.text;
import static io.phigate.mask.Wire.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.OperatorSpec.Kind;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TokenTest {
    static final MaskingKeys KEYS = MaskingKeys.derive(utf8("a master secret of at least 32 bytes!"));
    static final MaskOperator SSN_TOKEN = Operators.create(OperatorSpec.of(Kind.TOKEN), PhiType.SSN, KEYS);

    @Test
    void textTokenIsTheTypeAndSixteenBase32Characters() {
        String token = str(SSN_TOKEN.apply(utf8("123-45-6789"), text(Wire.TEXT), RowContext.NONE));
        assertThat(token).matches("ssn_[a-z2-7]{16}");
        assertThat(str(Operators.create(OperatorSpec.of(Kind.TOKEN), PhiType.FREE_TEXT, KEYS)
                .apply(utf8("x"), text(Wire.TEXT), RowContext.NONE))).matches("free_text_[a-z2-7]{16}");
    }

    @Test
    void equalValuesGiveEqualTokensAcrossOperatorInstancesFormatsAndTextTypes() {
        MaskOperator again = Operators.create(OperatorSpec.of(Kind.TOKEN), PhiType.SSN, MaskingKeys.derive(
                utf8("a master secret of at least 32 bytes!")));
        byte[] a = SSN_TOKEN.apply(utf8("123-45-6789"), text(Wire.TEXT), RowContext.NONE);
        assertThat(again.apply(utf8("123-45-6789"), binary(Wire.VARCHAR), RowContext.NONE)).isEqualTo(a);
        assertThat(again.apply(utf8("123-45-6789  "), text(Wire.BPCHAR), RowContext.NONE)).isEqualTo(a);
        assertThat(str(SSN_TOKEN.apply(utf8("\"123-45-6789\""), text(Wire.JSONB), RowContext.NONE)))
                .isEqualTo(str(SSN_TOKEN.apply(utf8("\"123-45-6789\""), text(Wire.JSON), RowContext.NONE)))
                .isEqualTo("\"" + str(SSN_TOKEN.apply(utf8("\"123-45-6789\""), text(Wire.TEXT), RowContext.NONE)) + "\"");
        byte[] jsonbBinary = SSN_TOKEN.apply(utf8("\u0001\"123-45-6789\""), binary(Wire.JSONB), RowContext.NONE);
        assertThat(str(Arrays.copyOfRange(jsonbBinary, 1, jsonbBinary.length)))
                .isEqualTo(str(SSN_TOKEN.apply(utf8("\"123-45-6789\""), text(Wire.JSON), RowContext.NONE)));
    }

    @Test
    void integerTokensAgreeBetweenTextAndBinaryAndStayInRange() {
        for (int oid : new int[] {Wire.INT2, Wire.INT4, Wire.INT8}) {
            for (long v : new long[] {0, 1, -1, 12345, 32767, -32768}) {
                long fromBinary = Wire.readInteger(SSN_TOKEN.apply(Wire.integer(oid, v), binary(oid), RowContext.NONE));
                long fromText = Long.parseLong(str(SSN_TOKEN.apply(utf8(Long.toString(v)), text(oid), RowContext.NONE)));
                assertThat(fromText).as("type %d value %d", oid, v).isEqualTo(fromBinary).isNotNegative();
            }
        }
    }

    @Test
    void uuidTokensAgreeBetweenTextAndBinary() {
        UUID u = UUID.fromString("5b2f6d2e-8c1a-4f00-9d1e-0123456789ab");
        UUID fromBinary = Wire.readUuid(SSN_TOKEN.apply(Wire.uuid(u), binary(Wire.UUID_OID), RowContext.NONE));
        String fromText = str(SSN_TOKEN.apply(utf8(u.toString()), text(Wire.UUID_OID), RowContext.NONE));
        assertThat(fromText).isEqualTo(fromBinary.toString());
        assertThat(fromBinary).isNotEqualTo(u);
        assertThat(fromBinary.version()).isEqualTo(8);
        assertThat(fromBinary.variant()).isEqualTo(2);
    }

    @Test
    void distinctValuesGiveDistinctTokens() {
        Set<String> tokens = new HashSet<>();
        Set<Long> ints = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            tokens.add(str(SSN_TOKEN.apply(utf8(String.format("%09d", i)), text(Wire.TEXT), RowContext.NONE)));
            ints.add(Wire.readInteger(SSN_TOKEN.apply(Wire.int8(i), binary(Wire.INT8), RowContext.NONE)));
        }
        assertThat(tokens).hasSize(20_000);
        assertThat(ints).hasSize(20_000);
    }

    @Test
    void tokensDependOnTheKeyAndTheType() {
        byte[] value = utf8("123-45-6789");
        byte[] a = SSN_TOKEN.apply(value, text(Wire.TEXT), RowContext.NONE);
        byte[] otherKey = Operators.create(OperatorSpec.of(Kind.TOKEN), PhiType.SSN, MaskingKeys.derive(new byte[32]))
                .apply(value, text(Wire.TEXT), RowContext.NONE);
        byte[] otherType = Operators.create(OperatorSpec.of(Kind.TOKEN), PhiType.MRN, KEYS)
                .apply(value, text(Wire.TEXT), RowContext.NONE);
        assertThat(otherKey).isNotEqualTo(a);
        assertThat(str(otherType).substring(4)).isNotEqualTo(str(a).substring(4));
    }

    @Test
    void unreadableValuesAreMaskedMore() {
        assertThat(str(SSN_TOKEN.apply(utf8("12a"), text(Wire.INT4), RowContext.NONE))).isNull();
        assertThat(SSN_TOKEN.apply(new byte[3], binary(Wire.INT4), RowContext.NONE)).isNull();
        assertThat(SSN_TOKEN.apply(utf8("not-a-uuid"), text(Wire.UUID_OID), RowContext.NONE)).isNull();
        assertThat(str(SSN_TOKEN.apply(new byte[] {2, '1'}, binary(Wire.JSONB), RowContext.NONE)))
                .isEqualTo("\u0001\"[SSN]\"");
        assertThat(SSN_TOKEN.apply(utf8("1984-03-05"), text(Wire.DATE), RowContext.NONE)).isNull();
    }
}
