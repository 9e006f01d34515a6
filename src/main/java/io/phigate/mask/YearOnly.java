package io.phigate.mask;

/**
 * {@code year}: January 1st, midnight, of the value's year. A date column stays a date; an ISO date in a text
 * column becomes just {@code YYYY}, because a text column can say exactly what is kept and a made-up
 * January 1st would read as a real birthday.
 */
final class YearOnly extends DateOperator {

    YearOnly(OperatorSpec spec, PhiType type) {
        super(spec, type);
    }

    @Override
    long newDay(long epochDay, RowContext context) {
        return CivilDates.daysFromCivil(CivilDates.yearOf(epochDay), 1, 1);
    }

    @Override
    boolean keepsTime() {
        return false;
    }

    @Override
    byte[] textColumn(byte[] value, int end, long newDay) {
        byte[] out = new byte[4];
        System.arraycopy(value, 0, out, 0, 4);
        return out;
    }
}
