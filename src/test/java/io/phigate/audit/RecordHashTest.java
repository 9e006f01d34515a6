package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

/** The chain's hash is the documented encoding, whatever lengths the values have (a change here breaks every chain). */
class RecordHashTest {

    @Test
    void theHashIsTheDocumentedEncodingForLengthsOfEveryNumberOfDigits() throws Exception {
        for (int length : new int[]{0, 1, 9, 10, 11, 99, 100, 101, 999, 1_000, 12_345, 100_000, 1_048_576}) {
            String[] values = new String[RecordHash.COLUMNS.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = i % 5 == 4 ? null : (i % 2 == 0 ? "x".repeat(length) : "é".repeat(length / 2 + i));
            }
            assertThat(RecordHash.of(values)).as("values of %d characters", length).isEqualTo(reference(values));
        }
    }

    /** The format written out plainly: {@code FORMAT\n}, then per column {@code name=-\n} or {@code name=LEN:VALUE\n}. */
    private static byte[] reference(String[] values) throws Exception {
        StringBuilder text = new StringBuilder(RecordHash.FORMAT).append('\n');
        for (int i = 0; i < values.length; i++) {
            text.append(RecordHash.COLUMNS[i]).append('=');
            if (values[i] == null) {
                text.append("-\n");
            } else {
                text.append(values[i].getBytes(StandardCharsets.UTF_8).length).append(':').append(values[i]).append('\n');
            }
        }
        return MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
