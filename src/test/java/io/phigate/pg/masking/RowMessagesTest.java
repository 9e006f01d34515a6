package io.phigate.pg.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.MaskOperator;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.MaskPlan;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.ResultColumn;
import io.phigate.mask.Scrubber;
import io.phigate.pg.message.BackendMessage.RowDescription.Field;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DataRow and RowDescription side of masking: what the plan decides, applied to PostgreSQL's bytes. */
class RowMessagesTest {
    static final ValueType TEXT = new ValueType(25, -1, false);
    /** interval: a type the operators do not know, so a redacted value becomes text. */
    static final ValueType INTERVAL = new ValueType(1186, -1, false);

    /** Column 0 passed as is, column 1 redacted as an SSN. */
    static MaskPlan ssnInSecondColumn(ValueType second) {
        MaskOperator redact = Operators.create(OperatorSpec.REDACT, PhiType.SSN, null);
        return new MaskPlan(new MaskOperator[] {null, redact}, new boolean[2], new ValueType[] {TEXT, second}, -1,
                "ssn(ssn)=redact");
    }

    static byte[] dataRow(String... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(values.length >>> 8);
        out.write(values.length);
        for (String v : values) {
            byte[] b = v == null ? null : v.getBytes(StandardCharsets.UTF_8);
            int len = b == null ? -1 : b.length;
            out.write(len >>> 24);
            out.write(len >>> 16);
            out.write(len >>> 8);
            out.write(len);
            if (b != null) {
                out.writeBytes(b);
            }
        }
        return out.toByteArray();
    }

    @Test
    void aMaskedColumnIsRewrittenAndTheOthersKeepTheServersBytes() {
        byte[] masked = RowMessages.maskDataRow(ssnInSecondColumn(TEXT), dataRow("Ada", "123-45-6789"), Scrubber.NONE);
        assertThat(masked).isEqualTo(dataRow("Ada", "[SSN]"));
    }

    @Test
    void sqlNullStaysNull() {
        byte[] masked = RowMessages.maskDataRow(ssnInSecondColumn(TEXT), dataRow("Ada", null), Scrubber.NONE);
        assertThat(masked).isEqualTo(dataRow("Ada", null));
    }

    @Test
    void aRowWhoseColumnCountDiffersFromThePlanGoesAllNull() {
        byte[] masked = RowMessages.maskDataRow(ssnInSecondColumn(TEXT), dataRow("Ada", "123-45-6789", "x"),
                Scrubber.NONE);
        assertThat(masked).isEqualTo(dataRow(null, null, null));
        assertThat(RowMessages.maskDataRow(MaskPlan.NULL_ALL, dataRow("123-45-6789"), Scrubber.NONE))
                .isEqualTo(dataRow((String) null));
    }

    @Test
    void aColumnThatCannotKeepItsTypeIsRedescribedAsText() {
        List<Field> fields = List.of(new Field("name", 16400, (short) 1, 25, (short) -1, -1, (short) 0),
                new Field("waited", 16400, (short) 2, 1186, (short) 16, -1, (short) 0));
        List<Field> described = RowMessages.describedFields(ssnInSecondColumn(INTERVAL), fields);
        assertThat(described.get(0)).isSameAs(fields.get(0));
        assertThat(described.get(1).typeOid()).isEqualTo(25);
        assertThat(described.get(1).typeSize()).isEqualTo((short) -1);
        assertThat(RowMessages.describedFields(MaskPlan.PASS, fields)).isSameAs(fields);
    }

    @Test
    void resultFormatCodesFollowBindsRules() {
        List<Field> fields = List.of(new Field("a", 0, (short) 0, 23, (short) 4, -1, (short) 1),
                new Field("b", 0, (short) 0, 23, (short) 4, -1, (short) 0));
        assertThat(RowMessages.columns(fields, null)).extracting(c -> c.type().binary()).containsExactly(true, false);
        assertThat(RowMessages.columns(fields, new short[0])).extracting(c -> c.type().binary())
                .containsExactly(false, false);
        assertThat(RowMessages.columns(fields, new short[] {1})).extracting(c -> c.type().binary())
                .containsExactly(true, true);
        assertThat(RowMessages.columns(fields, new short[] {0, 1})).extracting(ResultColumn::type)
                .containsExactly(new ValueType(23, -1, false), new ValueType(23, -1, true));
    }
}
