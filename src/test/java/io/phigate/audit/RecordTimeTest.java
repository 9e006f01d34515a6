package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A record's time reads exactly as the formatter the store's queries compare it with writes it. */
class RecordTimeTest {
    @Test
    void writesWhatTheRecordFormatterWritesInTheSameSecondAndAcrossSeconds() {
        Random random = new Random(62);
        Instant now = Instant.now();
        for (int i = 0; i < 20_000; i++) {
            Instant t = switch (i % 4) {
                case 0 -> now.plusNanos(random.nextInt(2_000_000_000)); // mostly the same second, as sessions are
                case 1 -> Instant.ofEpochSecond(random.nextLong(-62_000_000_000L, 253_000_000_000L),
                        random.nextInt(1_000_000_000));
                case 2 -> Instant.ofEpochSecond(random.nextLong(-2_000_000_000L, 4_000_000_000L), 999_999_999);
                default -> Instant.ofEpochSecond(random.nextLong(-2_000_000_000L, 4_000_000_000L), random.nextInt(1_000));
            };
            assertThat(RecordTime.format(t)).as("%s", t).isEqualTo(AuditRow.TIME.format(t));
        }
        assertThat(RecordTime.format(Instant.EPOCH)).isEqualTo("1970-01-01T00:00:00.000000Z");
        assertThat(RecordTime.format(Instant.parse("1969-12-31T23:59:59.999999999Z")))
                .isEqualTo("1969-12-31T23:59:59.999999Z");
    }
}
