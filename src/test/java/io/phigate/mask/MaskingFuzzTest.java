package io.phigate.mask;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.detect.DetectorSettings;
import io.phigate.mask.detect.Detectors;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Any value, of any column type, in either format, through any operator: a masked value or NULL, never an
 * exception (nor, for a token, the input itself); and the detectors never let a seeded SSN through,
 * whatever text surrounds it.
 */
class MaskingFuzzTest extends FuzzTarget {
    private static final MaskingKeys KEYS = MaskingKeys.derive(new byte[32]);
    private static final int[] TYPES = {25, 1043, 1042, 19, 21, 23, 20, 1700, 700, 701, 1082, 1114, 1184, 2950, 114,
            3802, 17, 16, 0, 1009};
    private static final Detectors DETECTORS = Detectors.create(DetectorSettings.defaults());
    private static final String SEEDED_SSN = "219-09-9999";

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) {
        if (input.length < 3) {
            return;
        }
        OperatorSpec.Kind kind = OperatorSpec.Kind.values()[(input[0] & 0xff) % OperatorSpec.Kind.values().length];
        PhiType type = PhiType.values()[(input[1] & 0xff) % PhiType.values().length];
        ValueType valueType = new ValueType(TYPES[(input[2] & 0x7f) % TYPES.length], -1, (input[2] & 0x80) != 0);
        byte[] value = Arrays.copyOfRange(input, 3, input.length);
        MaskOperator op = Operators.create(OperatorSpec.of(kind), type, KEYS);
        byte[] out = op.apply(value.clone(), valueType, new RowContext(value.length > 4 ? value : null));
        // Other operators may legitimately give back what they got (a year-only date of 1 January, a three-digit
        // ZIP, an age under 90); a keyed token never does.
        if ((kind == OperatorSpec.Kind.TOKEN || kind == OperatorSpec.Kind.NULL) && out != null && out.length > 0
                && Arrays.equals(out, value)) {
            throw new AssertionError(kind + " returned its input unchanged for type " + valueType.oid());
        }
        String text = new String(value, StandardCharsets.UTF_8);
        String scrubbed = DETECTORS.scrub(text + " ssn " + SEEDED_SSN + " ");
        if (scrubbed.contains(SEEDED_SSN)) {
            throw new AssertionError("a seeded SSN survived the detectors");
        }
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of();
    }
}
