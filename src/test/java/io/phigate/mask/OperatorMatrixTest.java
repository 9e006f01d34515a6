package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.OperatorSpec.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every operator over every type in both formats: the output is a valid value of the described type, never the input. */
class OperatorMatrixTest {
    static final MaskingKeys KEYS = MaskingKeys.derive(new byte[32]);

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            if (kind == Kind.NONE) {
                continue;
            }
            int[] oids = Arrays.copyOf(Wire.SUPPORTED, Wire.SUPPORTED.length + 1);
            oids[oids.length - 1] = Wire.INET;
            for (int oid : oids) {
                cases.add(Arguments.of(kind, oid, false));
                cases.add(Arguments.of(kind, oid, true));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} on type {1}, binary={2}")
    @MethodSource("cases")
    void outputIsAValidValueOfTheDescribedTypeAndNeverTheInput(Kind kind, int oid, boolean binary) {
        MaskOperator op = Operators.create(OperatorSpec.of(kind), PhiType.SSN, KEYS);
        byte[] in = Wire.sample(oid, binary);
        byte[] out = op.apply(in.clone(), new ValueType(oid, -1, binary), RowContext.NONE);
        int described = op.describedType(oid);
        if (out != null) {
            Wire.assertValid(out, described, binary);
            assertThat(out).as("masked output").isNotEqualTo(in);
        }
        if (oid == Wire.INET) {
            assertThat(out == null || described == Wire.TEXT).as("unknown type fails closed").isTrue();
        } else {
            assertThat(described).as("known types keep their declared type").isEqualTo(oid);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void specNamesTheOperator(Kind kind) {
        assertThat(Operators.create(OperatorSpec.of(kind), PhiType.DOB, KEYS).spec()).isEqualTo(OperatorSpec.of(kind));
    }

    static Stream<Kind> kinds() {
        return Stream.of(Kind.values());
    }
}
