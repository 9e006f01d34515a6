package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** What a recorder keeps inflates to exactly the first {@code cap} bytes delivered, whichever form it took. */
class ResponseRecorderTest {

    private static byte[] inflate(byte[] zlib) throws DataFormatException {
        Inflater inflater = new Inflater();
        inflater.setInput(zlib);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!inflater.finished()) {
            int n = inflater.inflate(buf);
            if (n == 0 && !inflater.finished() && (inflater.needsInput() || inflater.needsDictionary())) {
                throw new DataFormatException("truncated zlib stream");
            }
            out.write(buf, 0, n);
        }
        assertThat(inflater.getRemaining()).as("bytes after the zlib stream").isZero();
        inflater.end();
        return out.toByteArray();
    }

    private static byte[] response(int size, boolean compressible, long seed) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        for (int i = 0; i < size; i++) {
            b[i] = compressible ? (byte) ("DataRow patient 12345 "
                    .charAt(i % 22)) : (byte) r.nextInt();
        }
        return b;
    }

    @ParameterizedTest(name = "{0} bytes, cap {1}, compressible {2}")
    @CsvSource({
        "0, 1048576, true", "1, 1048576, true", "70, 1048576, false", "1023, 1048576, false", "1024, 1048576, false",
        "1025, 1048576, false", "1025, 1048576, true", "5000, 1048576, true", "300000, 1048576, false",
        "2000, 1000, true", "2000, 1024, false", "2000, 1500, true", "900, 100, false", "100000, 65536, true"})
    void keepsExactlyTheFirstCapBytesAndHashesThemAll(int size, int cap, boolean compressible) throws Exception {
        for (long seed = 1; seed <= 5; seed++) {
            byte[] all = response(size, compressible, seed);
            ResponseRecorder recorder = new ResponseRecorder(cap);
            Random chunks = new Random(seed);
            int off = 0;
            while (off < size) {
                if (chunks.nextInt(8) == 0) {
                    recorder.write(all[off++]);
                    continue;
                }
                int n = Math.min(size - off, 1 + chunks.nextInt(seed % 2 == 0 ? 40 : 3000));
                recorder.write(all, off, n);
                off += n;
            }
            AuditEvent.RecordedResponse r = recorder.finish();
            assertThat(r.bytes()).isEqualTo(size);
            assertThat(r.sha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(all)));
            assertThat(r.truncated()).isEqualTo(size > cap);
            int kept = Math.min(size, cap);
            assertThat(inflate(r.deflated())).isEqualTo(Arrays.copyOf(all, kept));
            if (kept <= ResponseRecorder.INLINE_BYTES) {
                assertThat(r.deflated()).as("a small response is one stored block").hasSize(kept + 11);
            } else if (compressible) {
                assertThat(r.deflated().length).as("a large compressible response is deflated").isLessThan(kept / 4);
            }
        }
    }

    @Test
    void writesAfterFinishAreIgnored() throws Exception {
        ResponseRecorder recorder = new ResponseRecorder(4096);
        recorder.write(new byte[]{1, 2, 3}, 0, 3);
        AuditEvent.RecordedResponse r = recorder.finish();
        recorder.write(new byte[2000], 0, 2000);
        assertThat(r.bytes()).isEqualTo(3);
        assertThat(inflate(r.deflated())).containsExactly(1, 2, 3);
    }
}
