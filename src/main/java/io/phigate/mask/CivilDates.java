package io.phigate.mask;

import static io.phigate.mask.WireValues.unreadable;

/**
 * Proleptic Gregorian day arithmetic on plain longs (days since 1970-01-01) and the ISO text forms PostgreSQL
 * prints with {@code DateStyle = ISO}: no java.time objects on the per-value path. The day algorithms are
 * Howard Hinnant's {@code days_from_civil} / {@code civil_from_days}.
 */
final class CivilDates {
    /** Text dates are only written for years 1 to 9999: four digits, no BC suffix. */
    static final long FIRST_DAY = daysFromCivil(1, 1, 1), LAST_DAY = daysFromCivil(9999, 12, 31);

    private CivilDates() {
    }

    static long daysFromCivil(long y, int m, int d) {
        y -= m <= 2 ? 1 : 0;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    /** The date of a day, packed as {@code year * 10000 + month * 100 + day}; only for years 1 to 9999. */
    static long civil(long epochDay) {
        long z = epochDay + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long y = yoe + era * 400;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        long d = doy - (153 * mp + 2) / 5 + 1;
        long m = mp < 10 ? mp + 3 : mp - 9;
        return (m <= 2 ? y + 1 : y) * 10_000 + m * 100 + d;
    }

    static long yearOf(long epochDay) {
        long z = epochDay + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        return yoe + era * 400 + (mp < 10 ? 0 : 1);
    }

    /** {@code YYYY-MM-DD} at the start of {@code v}, a real calendar date, as days since 1970. */
    static long parseIsoDate(byte[] v) {
        if (v.length < 10 || v[4] != '-' || v[7] != '-') {
            throw unreadable();
        }
        int y = digits(v, 0, 4), m = digits(v, 5, 2), d = digits(v, 8, 2);
        if (y < 1 || m < 1 || m > 12 || d < 1 || d > monthLength(y, m)) {
            throw unreadable();
        }
        return daysFromCivil(y, m, d);
    }

    /** Writes the day's {@code YYYY-MM-DD} at {@code out[0..10)}; days outside years 1..9999 are unreadable. */
    static void writeIsoDate(long epochDay, byte[] out) {
        if (epochDay < FIRST_DAY || epochDay > LAST_DAY) {
            throw unreadable();
        }
        long c = civil(epochDay);
        writeDigits(out, 0, 4, c / 10_000);
        out[4] = '-';
        writeDigits(out, 5, 2, c / 100 % 100);
        out[7] = '-';
        writeDigits(out, 8, 2, c % 100);
    }

    /**
     * Where the time of a {@code timestamp} text ends: {@code YYYY-MM-DD HH:MM:SS} then an optional fraction
     * of 1 to 6 digits.
     */
    static int timeEnd(byte[] v) {
        if (v.length < 19 || v[10] != ' ' || v[13] != ':' || v[16] != ':'
                || digits(v, 11, 2) > 23 || digits(v, 14, 2) > 59 || digits(v, 17, 2) > 60) {
            throw unreadable();
        }
        int i = 19;
        if (i < v.length && v[i] == '.') {
            int start = ++i;
            while (i < v.length && isDigit(v[i])) {
                i++;
            }
            if (i == start || i - start > 6) {
                throw unreadable();
            }
        }
        return i;
    }

    /** Checks that {@code v[from..]} is a PostgreSQL UTC offset: {@code +HH}, {@code +HH:MM} or {@code +HH:MM:SS}. */
    static void checkOffset(byte[] v, int from) {
        int n = v.length - from;
        if ((n != 3 && n != 6 && n != 9) || (v[from] != '+' && v[from] != '-')) {
            throw unreadable();
        }
        for (int i = from + 3; i < v.length; i += 3) {
            if (v[i] != ':') {
                throw unreadable();
            }
            digits(v, i + 1, 2);
        }
        digits(v, from + 1, 2);
    }

    /**
     * For an ISO date in a text column: what may follow the date. Only characters a time or offset can hold
     * (digits, {@code :.+-TZ} and blanks), so whatever is kept after a rewritten date cannot carry a name.
     */
    static void checkTextSuffix(byte[] v, int from, int to) {
        if (to - from > 32) {
            throw unreadable();
        }
        for (int i = from; i < to; i++) {
            byte c = v[i];
            if (!isDigit(c) && c != ':' && c != '.' && c != '+' && c != '-' && c != 'T' && c != 'Z' && c != ' ') {
                throw unreadable();
            }
        }
    }

    private static int monthLength(int y, int m) {
        return switch (m) {
            case 2 -> (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static int digits(byte[] v, int from, int n) {
        int x = 0;
        for (int i = from; i < from + n; i++) {
            if (!isDigit(v[i])) {
                throw unreadable();
            }
            x = x * 10 + (v[i] - '0');
        }
        return x;
    }

    static void writeDigits(byte[] out, int from, int n, long x) {
        for (int i = from + n - 1; i >= from; i--) {
            out[i] = (byte) ('0' + x % 10);
            x /= 10;
        }
    }
}
