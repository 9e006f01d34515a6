package io.phigate.mask;

import static io.phigate.mask.Wire.binary;
import static io.phigate.mask.Wire.str;
import static io.phigate.mask.Wire.text;
import static io.phigate.mask.Wire.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.OperatorSpec.Kind;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** year and date_shift over date, timestamp, timestamptz and ISO dates in text columns. */
class DateOperatorsTest {
    static final MaskingKeys KEYS = MaskingKeys.derive(utf8("a master secret of at least 32 bytes!"));
    static final MaskOperator YEAR = Operators.create(OperatorSpec.of(Kind.YEAR), PhiType.DOB, KEYS);
    static final MaskOperator SHIFT = Operators.create(OperatorSpec.of(Kind.DATE_SHIFT), PhiType.DOB, KEYS);
    static final RowContext PATIENT = new RowContext(utf8("patient-42"));

    @Test
    void yearInTextFormats() {
        assertThat(str(YEAR.apply(utf8("1984-03-05"), text(Wire.DATE), RowContext.NONE))).isEqualTo("1984-01-01");
        assertThat(str(YEAR.apply(utf8("1984-03-05 10:11:12"), text(Wire.TIMESTAMP), RowContext.NONE)))
                .isEqualTo("1984-01-01 00:00:00");
        assertThat(str(YEAR.apply(utf8("1984-03-05 10:11:12.123456"), text(Wire.TIMESTAMP), RowContext.NONE)))
                .isEqualTo("1984-01-01 00:00:00");
        assertThat(str(YEAR.apply(utf8("1984-03-05 10:11:12.123+01"), text(Wire.TIMESTAMPTZ), RowContext.NONE)))
                .isEqualTo("1984-01-01 00:00:00+01");
        assertThat(str(YEAR.apply(utf8("1984-03-05 10:11:12-05:30"), text(Wire.TIMESTAMPTZ), RowContext.NONE)))
                .isEqualTo("1984-01-01 00:00:00-05:30");
    }

    @Test
    void yearInBinaryFormats() {
        assertThat(Wire.readDate(YEAR.apply(Wire.date(LocalDate.of(1984, 3, 5)), binary(Wire.DATE), RowContext.NONE)))
                .isEqualTo(LocalDate.of(1984, 1, 1));
        assertThat(Wire.readDate(YEAR.apply(Wire.date(LocalDate.of(1899, 12, 31)), binary(Wire.DATE), RowContext.NONE)))
                .isEqualTo(LocalDate.of(1899, 1, 1));
        for (int oid : new int[] {Wire.TIMESTAMP, Wire.TIMESTAMPTZ}) {
            byte[] ts = Wire.timestamp(LocalDateTime.of(2031, 12, 31, 23, 59, 59, 999_999_000));
            assertThat(Wire.readTimestamp(YEAR.apply(ts, binary(oid), RowContext.NONE)))
                    .isEqualTo(LocalDateTime.of(2031, 1, 1, 0, 0));
            byte[] old = Wire.timestamp(LocalDateTime.of(1950, 6, 1, 0, 0, 1));
            assertThat(Wire.readTimestamp(YEAR.apply(old, binary(oid), RowContext.NONE)))
                    .isEqualTo(LocalDateTime.of(1950, 1, 1, 0, 0));
        }
    }

    @Test
    void yearOfAnIsoDateInATextColumnIsJustTheYear() {
        assertThat(str(YEAR.apply(utf8("1984-03-05"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("1984");
        assertThat(str(YEAR.apply(utf8("1984-03-05T10:11:12Z"), binary(Wire.VARCHAR), RowContext.NONE))).isEqualTo("1984");
        assertThat(str(YEAR.apply(utf8("03/05/1984"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[DOB]");
        assertThat(str(YEAR.apply(utf8("1984-03-05 John Smith"), text(Wire.TEXT), RowContext.NONE))).isEqualTo("[DOB]");
    }

    @Test
    void unreadableDatesAreNulled() {
        for (String v : new String[] {"infinity", "-infinity", "0044-03-15 BC", "1984-02-30", "05.03.1984", "12345-01-01"}) {
            assertThat(YEAR.apply(utf8(v), text(Wire.DATE), RowContext.NONE)).as(v).isNull();
            assertThat(SHIFT.apply(utf8(v), text(Wire.DATE), RowContext.NONE)).as(v).isNull();
        }
        assertThat(YEAR.apply(Wire.int4(Integer.MAX_VALUE), binary(Wire.DATE), RowContext.NONE)).isNull();
        assertThat(SHIFT.apply(Wire.int8(Long.MIN_VALUE), binary(Wire.TIMESTAMPTZ), RowContext.NONE)).isNull();
        assertThat(YEAR.apply(utf8("1984-03-05 10:11:12 BC"), text(Wire.TIMESTAMP), RowContext.NONE)).isNull();
        assertThat(YEAR.apply(new byte[3], binary(Wire.DATE), RowContext.NONE)).isNull();
    }

    @Test
    void shiftIsPerPatientConsistentSoIntervalsSurvive() {
        LocalDate admit = LocalDate.of(2024, 2, 27), discharge = LocalDate.of(2024, 3, 2);
        LocalDate a = Wire.readDate(SHIFT.apply(Wire.date(admit), binary(Wire.DATE), PATIENT));
        LocalDate d = LocalDate.parse(str(SHIFT.apply(utf8(discharge.toString()), text(Wire.DATE), PATIENT)));
        assertThat(ChronoUnit.DAYS.between(a, d)).isEqualTo(ChronoUnit.DAYS.between(admit, discharge));
        assertThat(a).isNotEqualTo(admit);
        LocalDateTime t = Wire.readTimestamp(SHIFT.apply(
                Wire.timestamp(admit.atTime(10, 11, 12)), binary(Wire.TIMESTAMP), PATIENT));
        assertThat(t).isEqualTo(a.atTime(10, 11, 12));
        assertThat(str(SHIFT.apply(utf8(admit + " 10:11:12.5+01"), text(Wire.TIMESTAMPTZ), PATIENT)))
                .isEqualTo(a + " 10:11:12.5+01");
        assertThat(str(SHIFT.apply(utf8(admit + "T10:11"), text(Wire.TEXT), PATIENT))).isEqualTo(a + "T10:11");
    }

    @Test
    void shiftsAreNonzeroWithinTheMaximumAndVaryBetweenPatients() {
        MaskOperator shift3 = Operators.create(new OperatorSpec(Kind.DATE_SHIFT, 0, 3), PhiType.DATE, KEYS);
        LocalDate day = LocalDate.of(2020, 1, 1);
        Set<Long> seen = new HashSet<>();
        for (int p = 0; p < 500; p++) {
            RowContext patient = new RowContext(utf8("p" + p));
            long shift = ChronoUnit.DAYS.between(day, Wire.readDate(shift3.apply(Wire.date(day), binary(Wire.DATE), patient)));
            assertThat(shift).isBetween(-3L, 3L).isNotZero();
            seen.add(shift);
        }
        assertThat(seen).containsExactlyInAnyOrder(-3L, -2L, -1L, 1L, 2L, 3L);
    }

    @Test
    void withoutAPatientKeyTheShiftIsKeyedOnTheDayAndFormatsAgree() {
        for (LocalDate day = LocalDate.of(1999, 12, 25); day.isBefore(LocalDate.of(2000, 1, 10)); day = day.plusDays(1)) {
            LocalDate viaBinary = Wire.readDate(SHIFT.apply(Wire.date(day), binary(Wire.DATE), RowContext.NONE));
            String viaText = str(SHIFT.apply(utf8(day.toString()), text(Wire.DATE), RowContext.NONE));
            assertThat(viaText).isEqualTo(viaBinary.toString());
            assertThat(viaBinary).isNotEqualTo(day);
            assertThat(Math.abs(ChronoUnit.DAYS.between(day, viaBinary))).isBetween(1L, 365L);
            LocalDateTime ts = Wire.readTimestamp(SHIFT.apply(
                    Wire.timestamp(day.atTime(23, 0)), binary(Wire.TIMESTAMP), RowContext.NONE));
            assertThat(ts).isEqualTo(viaBinary.atTime(23, 0));
        }
    }

    @Test
    void shiftHandlesLeapDaysAndDatesBefore2000() {
        LocalDate leap = LocalDate.of(1904, 2, 29);
        LocalDate out = Wire.readDate(SHIFT.apply(Wire.date(leap), binary(Wire.DATE), PATIENT));
        String viaText = str(SHIFT.apply(utf8("1904-02-29"), text(Wire.DATE), PATIENT));
        assertThat(viaText).isEqualTo(out.toString());
        LocalDate other = Wire.readDate(SHIFT.apply(Wire.date(LocalDate.of(2024, 2, 27)), binary(Wire.DATE), PATIENT));
        assertThat(ChronoUnit.DAYS.between(leap, out)).isEqualTo(ChronoUnit.DAYS.between(LocalDate.of(2024, 2, 27), other));
    }

    @Test
    void dateShiftNeedsAPositiveMaximumAndKeys() {
        assertThatThrownBy(() -> Operators.create(new OperatorSpec(Kind.DATE_SHIFT, 0, 0), PhiType.DATE, KEYS))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Operators.create(OperatorSpec.of(Kind.DATE_SHIFT), PhiType.DATE, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
