package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.audit.AuditVerifier;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each statement's record holds the SHA-256 of exactly what the client received, and those bytes up to a cap. */
class ResponseRecordingTest {
    @TempDir
    Path dir;

    /** Sends a simple query and returns every byte the gateway sent back, up to and including ReadyForQuery. */
    private static byte[] rawQuery(RawClient c, String sql) throws Exception {
        c.send(MessageCodec.encode(new FrontendMessage.Query(sql)));
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        while (true) {
            int type = c.in.next();
            byte[] body = c.in.body();
            received.write(type);
            int len = body.length + 4;
            received.write(new byte[]{(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
            received.write(body);
            if (type == 'Z') {
                return received.toByteArray();
            }
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static byte[] inflate(byte[] deflated) throws Exception {
        Inflater inflater = new Inflater();
        inflater.setInput(deflated);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (!inflater.finished()) {
            int n = inflater.inflate(buf);
            if (n == 0 && inflater.needsInput()) {
                break;
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private static Map<String, Object> completionOf(GatewayHarness gw, String statementLike) throws Exception {
        Map<String, Object> requested = gw.auditEventually("kind = 'statement_requested' and statement like '"
                + statementLike + "'", 1).getFirst();
        List<Map<String, Object>> done = gw.auditEventually("kind = 'statement_completed' and session_id = '"
                + requested.get("session_id") + "' and statement_id = " + requested.get("statement_id"), 1);
        return done.getFirst();
    }

    private static byte[] blob(GatewayHarness gw, Object seq) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + gw.auditFile());
             ResultSet rs = c.createStatement().executeQuery("select response from audit_event where seq = " + seq)) {
            rs.next();
            return rs.getBytes(1);
        }
    }

    @Test
    void theRecordHoldsExactlyWhatTheClientReceived() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            byte[] received;
            try (RawClient c = new RawClient(gw.port())) {
                c.login(gw.token());
                received = rawQuery(c, "select mrn, first_name, birth_date from patients order by id limit 7");
            }
            Map<String, Object> done = completionOf(gw, "select mrn, first_name, birth_date from patients%");
            assertThat(done.get("response_digest")).isEqualTo(sha256(received));
            assertThat(((Number) done.get("response_bytes")).longValue()).isEqualTo(received.length);
            assertThat(done.get("response_truncated")).isEqualTo(0);
            assertThat(inflate(blob(gw, done.get("seq")))).isEqualTo(received);
            assertThat(AuditVerifier.verifySqlite(gw.auditFile()).intact()).isTrue();
        }
    }

    @Test
    void extendedProtocolResponsesAreRecordedWithTheirExecute() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir); Connection c = gw.connect();
             PreparedStatement ps = c.prepareStatement("select mrn from patients where id = ?")) {
            ps.setInt(1, 3);
            String mrn;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                mrn = rs.getString(1);
            }
            Map<String, Object> done = completionOf(gw, "select mrn from patients where id = $1");
            byte[] recorded = inflate(blob(gw, done.get("seq")));
            assertThat(new String(recorded, java.nio.charset.StandardCharsets.UTF_8)).contains(mrn);
            assertThat(sha256(recorded)).isEqualTo(done.get("response_digest"));
            // ParseComplete and BindComplete go with the Execute they prepared; the batch's ReadyForQuery does not.
            assertThat(recorded[0]).isEqualTo((byte) '1');
            assertThat(recorded[recorded.length - 1 - 5]).isNotEqualTo((byte) 'Z');
        }
    }

    @Test
    void aResponseBeyondTheCapKeepsItsFullDigestAndIsMarkedTruncated() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new io.phigate.config.GatewayConfig(c.listen(),
                c.upstreams(), c.identity(), c.audit().withResponseCap(64 * 1024), c.limits(), c.tls(), c.policy(),
                c.baseDir()))) {
            byte[] received;
            try (RawClient c = new RawClient(gw.port())) {
                c.login(gw.token());
                received = rawQuery(c, "select g, repeat('x', 1000) from generate_series(1, 2000) g");
            }
            Map<String, Object> done = completionOf(gw, "select g, repeat(''x'', 1000)%");
            assertThat(done.get("response_truncated")).isEqualTo(1);
            assertThat(((Number) done.get("response_bytes")).longValue()).isEqualTo(received.length);
            assertThat(done.get("response_digest")).isEqualTo(sha256(received));
            byte[] kept = inflate(blob(gw, done.get("seq")));
            assertThat(kept).hasSize(64 * 1024);
            assertThat(kept).isEqualTo(java.util.Arrays.copyOf(received, 64 * 1024));
        }
    }

    @Test
    void recordingOffLeavesNoResponseInTheStore() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new io.phigate.config.GatewayConfig(c.listen(),
                c.upstreams(), c.identity(), c.audit().withResponseCap(0), c.limits(), c.tls(), c.policy(), c.baseDir()));
             Connection c = gw.connect(); Statement s = c.createStatement()) {
            s.executeQuery("select count(*) from patients").close();
            Map<String, Object> done = completionOf(gw, "select count(*) from patients");
            assertThat(done.get("response_digest")).isNull();
            assertThat(done.get("response")).isNull();
        }
    }

    @Test
    void anEditedRecordingIsCaughtByVerify() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            try (Connection c = gw.connect(); Statement s = c.createStatement()) {
                s.executeQuery("select ssn from patients where id = 1").close();
            }
            Map<String, Object> done = completionOf(gw, "select ssn from patients where id = 1");
            gw.close();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + gw.auditFile())) {
                c.createStatement().execute("update audit_event set response = x'00' where seq = " + done.get("seq"));
            }
            AuditVerifier.Report report = AuditVerifier.verifySqlite(gw.auditFile());
            assertThat(report.intact()).isFalse();
            assertThat(report.problems().getFirst().what()).contains("edited");
        }
    }
}
