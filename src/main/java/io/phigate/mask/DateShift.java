package io.phigate.mask;

import javax.crypto.Mac;

/**
 * {@code date_shift}: moves a date by a keyed, nonzero number of days in [-max, +max]. With the row's patient
 * key every date of one patient moves by the same offset, so intervals between a patient's events survive.
 * Without it the offset is keyed on the day itself: the same date always maps to the same shifted date (both
 * formats agree), but intervals between different dates do not survive.
 */
final class DateShift extends DateOperator {
    private final KeyedHash hash;
    private final int maxDays;

    DateShift(OperatorSpec spec, PhiType type, MaskingKeys keys) {
        super(spec, type);
        if (spec.maxShiftDays() < 1) {
            throw new IllegalArgumentException("date_shift needs maxShiftDays >= 1");
        }
        this.maxDays = spec.maxShiftDays();
        this.hash = new KeyedHash(keys.shiftKey());
    }

    @Override
    long newDay(long epochDay, RowContext context) {
        return epochDay + shiftDays(epochDay, context);
    }

    long shiftDays(long epochDay, RowContext context) {
        Mac mac = hash.mac();
        byte[] subject = context == null ? null : context.subjectKey();
        if (subject != null) {
            mac.update((byte) 's');
            mac.update(subject);
        } else {
            mac.update((byte) 'd');
            KeyedHash.updateLong(mac, epochDay);
        }
        byte[] digest = mac.doFinal();
        long magnitude = 1 + Math.floorMod(KeyedHash.firstLong(digest), (long) maxDays);
        return (digest[8] & 1) == 0 ? magnitude : -magnitude;
    }

    @Override
    boolean keepsTime() {
        return true;
    }

    @Override
    byte[] textColumn(byte[] value, int end, long newDay) {
        byte[] out = value.clone();
        CivilDates.writeIsoDate(newDay, out);
        return out;
    }
}
