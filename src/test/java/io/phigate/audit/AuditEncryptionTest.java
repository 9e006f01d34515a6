package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.mask.SecretRef;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parameters and recorded responses are sealed at rest; only a caller holding the key opens them. */
class AuditEncryptionTest {
    private static final String SSN = "078-05-1120";
    private static final String ROW = "Zebediah Quillfeather, 1931-04-02";

    @TempDir
    Path dir;
    Path file;
    Path k1;
    Path k2;

    @BeforeEach
    void keys() throws Exception {
        file = dir.resolve("audit.db");
        k1 = dir.resolve("k1.key");
        k2 = dir.resolve("k2.key");
        Files.writeString(k1, PayloadCipher.newKey() + "\n");
        Files.writeString(k2, PayloadCipher.newKey() + "\n");
    }

    private AuditConfig config(String current, Path key, Map<String, SecretRef> previous) {
        return new AuditConfig("sqlite:" + file, file, 1000, Duration.ofSeconds(5), Duration.ofSeconds(1))
                .withEncryption(new AuditConfig.Encryption(current, new SecretRef(null, key), previous));
    }

    private static byte[] deflate(String s) {
        Deflater d = new Deflater();
        d.setInput(s.getBytes(StandardCharsets.UTF_8));
        d.finish();
        byte[] buf = new byte[4096];
        int n = d.deflate(buf);
        return java.util.Arrays.copyOf(buf, n);
    }

    private static String inflate(byte[] b) throws Exception {
        Inflater i = new Inflater();
        i.setInput(b);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!i.finished()) {
            int n = i.inflate(buf);
            if (n == 0 && i.needsInput()) {
                break;
            }
            out.write(buf, 0, n);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private void write(AuditConfig config, String session) throws Exception {
        try (var store = new AuditStore(config)) {
            store.appendDurably(List.of(
                    new AuditEvent.StatementRequested(Instant.now(), session, 1, "10.0.0.1:1", "clinical", "iss", "agent",
                            Protocol.EXTENDED, "select * from patients where ssn = $1", List.of(SSN), "", ""),
                    new AuditEvent.StatementCompleted(Instant.now(), session, 1, Outcome.OK, null, "SELECT 1", 1, 10,
                            new AuditEvent.RecordedResponse(ROW.length(), "ab", deflate(ROW), false))));
        }
    }

    private byte[] responseOf(String session) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             ResultSet rs = c.createStatement().executeQuery("select response from audit_event where session_id = '"
                     + session + "' and kind = 'statement_completed'")) {
            rs.next();
            return rs.getBytes(1);
        }
    }

    @Test
    void parametersAndResponsesAreSealedAndTheLogStillVerifiesWithoutTheKey() throws Exception {
        write(config("k1", k1, Map.of()), "s1");
        byte[] everything = Files.readAllBytes(file);
        assertThat(new String(everything, StandardCharsets.ISO_8859_1)).doesNotContain(SSN);
        assertThat(AuditVerifier.verifySqlite(file).intact()).isTrue();

        AuditQueries.Statement clear = AuditQueries.sqlite(file).search(AuditQueries.Filter.ANY,
                new AuditQueries.Page(10, 0)).statements().getFirst();
        assertThat(clear.parameters()).containsExactly(AuditQueries.SEALED);

        PayloadCipher cipher = PayloadCipher.from(config("k1", k1, Map.of()).encryption());
        AuditQueries.Statement opened = AuditQueries.sqlite(file).withCipher(cipher).search(AuditQueries.Filter.ANY,
                new AuditQueries.Page(10, 0)).statements().getFirst();
        assertThat(opened.parameters()).containsExactly(SSN);
        assertThat(AuditQueries.sqlite(file).withCipher(cipher).session("s1").getFirst().parameters()).contains(SSN);
        assertThat(inflate(cipher.openBytes(responseOf("s1"), "response"))).isEqualTo(ROW);
    }

    @Test
    void afterRotationOldRecordsOpenWithThePreviousKeyAndNewOnesWithTheCurrent() throws Exception {
        write(config("k1", k1, Map.of()), "s1");
        AuditConfig rotated = config("k2", k2, Map.of("k1", new SecretRef(null, k1)));
        write(rotated, "s2");
        PayloadCipher both = PayloadCipher.from(rotated.encryption());
        assertThat(inflate(both.openBytes(responseOf("s1"), "response"))).isEqualTo(ROW);
        assertThat(inflate(both.openBytes(responseOf("s2"), "response"))).isEqualTo(ROW);
        PayloadCipher onlyNew = PayloadCipher.from(config("k2", k2, Map.of()).encryption());
        assertThatThrownBy(() -> onlyNew.openBytes(responseOf("s1"), "response")).hasMessageContaining("k1");
        assertThat(AuditVerifier.verifySqlite(file).intact()).isTrue();
    }

    @Test
    void aSealedValueMovedToAnotherColumnDoesNotOpen() throws Exception {
        PayloadCipher cipher = new PayloadCipher("k1", Map.of("k1", PayloadCipher.decodeKey(Files.readString(k1))));
        String sealed = cipher.sealText(SSN, "parameters");
        assertThat(cipher.openText(sealed, "parameters")).isEqualTo(SSN);
        assertThatThrownBy(() -> cipher.openText(sealed, "statement")).isInstanceOf(java.security.GeneralSecurityException.class);
    }

    @Test
    void anUnreadableKeyRefusesToStartTheStore() {
        assertThatThrownBy(() -> new AuditStore(config("k1", dir.resolve("missing.key"), Map.of())))
                .isInstanceOf(AuditUnavailableException.class).hasMessageContaining("encryption key");
    }
}
