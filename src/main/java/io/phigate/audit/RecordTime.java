package io.phigate.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * A record's time as {@link AuditRow#TIME} writes it, without running the formatter for every record: the text up
 * to the second is kept for the last second seen (sessions in the same second share it) and only the microseconds
 * are written per record. A test holds the output to {@link AuditRow#TIME}'s for instants of every kind.
 */
final class RecordTime {
    /** The text of one whole second, up to and including its decimal point, in ASCII (never modified). */
    private record Second(long epochSecond, byte[] ascii) {
        Second(Instant time) {
            this(time.getEpochSecond(), SECOND.format(time).getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static final java.time.format.DateTimeFormatter SECOND =
            java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.").withZone(java.time.ZoneOffset.UTC);

    /** Any thread may replace it; a stale read only costs one formatting. */
    private static volatile Second last = new Second(Instant.EPOCH);

    private RecordTime() {
    }

    static String format(Instant time) {
        Second s = last;
        if (s.epochSecond() != time.getEpochSecond()) {
            s = new Second(time);
            last = s;
        }
        byte[] second = s.ascii();
        byte[] out = java.util.Arrays.copyOf(second, second.length + 7);
        int micros = time.getNano() / 1_000; // truncated, as the formatter's fraction is
        for (int i = second.length + 5; i >= second.length; i--, micros /= 10) {
            out[i] = (byte) ('0' + micros % 10);
        }
        out[out.length - 1] = 'Z';
        return new String(out, StandardCharsets.US_ASCII);
    }
}
