package io.phigate.mask;

import static io.phigate.mask.WireValues.MICROS_PER_DAY;
import static io.phigate.mask.WireValues.PG_EPOCH_DAY;
import static io.phigate.mask.WireValues.unreadable;

import java.nio.charset.StandardCharsets;

/**
 * What {@code year} and {@code date_shift} share: reading a date or timestamp in either format as a day number,
 * and writing the new day back in the same format. Dates in text columns are handled when they are ISO
 * ({@code YYYY-MM-DD}, optionally followed by a time); anything else, and infinities, are masked more.
 */
abstract sealed class DateOperator extends ValueOperator permits YearOnly, DateShift {
    private static final byte[] MIDNIGHT = "0000-00-00 00:00:00".getBytes(StandardCharsets.US_ASCII);

    DateOperator(OperatorSpec spec, PhiType type) {
        super(spec, type);
    }

    /** The new day (days since 1970) for a value on {@code epochDay}. */
    abstract long newDay(long epochDay, RowContext context);

    /** Whether the time of day survives (a shift) or becomes midnight (a year). */
    abstract boolean keepsTime();

    /** The result for an ISO date in a text column, which has no type to keep valid. */
    abstract byte[] textColumn(byte[] value, int end, long newDay);

    @Override
    final byte[] mask(byte[] value, ValueType type, RowContext context) {
        return switch (WireValues.kind(type.oid())) {
            case DATE -> type.binary() ? binaryDate(value, context) : textDate(value, type.oid(), context);
            case TIMESTAMP -> type.binary() ? binaryTimestamp(value, context) : textDate(value, type.oid(), context);
            case TEXT -> {
                int end = WireValues.textEnd(value, type.oid());
                long day = CivilDates.parseIsoDate(value);
                CivilDates.checkTextSuffix(value, 10, end);
                yield textColumn(value, end, newDay(day, context));
            }
            default -> null;
        };
    }

    private byte[] binaryDate(byte[] value, RowContext context) {
        long pgDay = (int) WireValues.readBigEndian(value, 4);
        if (pgDay == Integer.MAX_VALUE || pgDay == Integer.MIN_VALUE) {
            throw unreadable(); // infinity
        }
        long day = newDay(pgDay + PG_EPOCH_DAY, context) - PG_EPOCH_DAY;
        if (day >= Integer.MAX_VALUE || day <= Integer.MIN_VALUE) {
            throw unreadable();
        }
        return WireValues.writeBigEndian(day, 4);
    }

    private byte[] binaryTimestamp(byte[] value, RowContext context) {
        long micros = WireValues.readBigEndian(value, 8);
        if (micros < WireValues.MIN_TIMESTAMP || micros >= WireValues.END_TIMESTAMP) {
            throw unreadable(); // infinity, or out of PostgreSQL's range
        }
        long pgDay = Math.floorDiv(micros, MICROS_PER_DAY);
        long day = newDay(pgDay + PG_EPOCH_DAY, context) - PG_EPOCH_DAY;
        long result = day * MICROS_PER_DAY + (keepsTime() ? Math.floorMod(micros, MICROS_PER_DAY) : 0);
        if (result < WireValues.MIN_TIMESTAMP || result >= WireValues.END_TIMESTAMP) {
            throw unreadable();
        }
        return WireValues.writeBigEndian(result, 8);
    }

    /** A date, timestamp or timestamptz in PostgreSQL's ISO text form. */
    private byte[] textDate(byte[] value, int oid, RowContext context) {
        long day = CivilDates.parseIsoDate(value);
        int offsetStart = value.length;
        if (oid == WireValues.DATE) {
            if (value.length != 10) {
                throw unreadable(); // BC, or a DateStyle other than ISO
            }
        } else {
            offsetStart = CivilDates.timeEnd(value);
            if (oid == WireValues.TIMESTAMPTZ) {
                CivilDates.checkOffset(value, offsetStart);
            } else if (offsetStart != value.length) {
                throw unreadable();
            }
        }
        long newDay = newDay(day, context);
        byte[] out;
        if (keepsTime() || oid == WireValues.DATE) {
            out = value.clone();
        } else {
            // midnight: the fraction goes, a timestamptz keeps its offset
            out = new byte[19 + value.length - offsetStart];
            System.arraycopy(MIDNIGHT, 0, out, 0, 19);
            System.arraycopy(value, offsetStart, out, 19, value.length - offsetStart);
        }
        CivilDates.writeIsoDate(newDay, out);
        return out;
    }
}
