package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.config.LimitsConfig;
import io.phigate.identity.KeyTool;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and broken input: every case gets the documented error, is audited, and the gateway keeps serving.
 * The gateway here caps frames at 1 MiB and startup at 1.5 s so the limits are reachable quickly.
 */
class BadInputTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.start(dir, c -> GatewayHarness.withLimits(c,
                new LimitsConfig(50, 1024 * 1024, Duration.ofMillis(1500))));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @AfterEach
    void gatewayStillServes() throws Exception {
        try (Connection c = gw.connect(); ResultSet rs = c.createStatement().executeQuery("select count(*) from patients")) {
            rs.next();
            assertThat(rs.getInt(1)).isPositive();
        }
    }

    @Test
    void garbageFramesInASessionGetProtocolViolationAndClose() throws Exception {
        Random random = new Random(42);
        for (byte type : new byte[]{'B', 'P', 'F', 'D', 'Z', 0x00, (byte) 0xFF}) {
            try (RawClient c = new RawClient(gw.port())) {
                c.login(gw.token());
                byte[] body = new byte[1 + random.nextInt(200)];
                random.nextBytes(body);
                c.send(RawClient.frame((char) type, body));
                List<BackendMessage> got = c.readUntilReadyOrError();
                assertThat(got).last().isInstanceOf(ErrorResponse.class);
                assertThat(((ErrorResponse) got.getLast()).sqlState()).isEqualTo("08P01");
                assertThat(c.closedByServer()).isTrue();
            }
        }
        assertThat(gw.auditEventually("kind = 'session_ended' and detail like '%protocol violation%'", 7)).hasSizeGreaterThanOrEqualTo(7);
    }

    @Test
    void garbageInsteadOfAStartupPacketIsRefused() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.send(new byte[]{0, 0, 0, 16, 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1'});
            BackendMessage m = c.read();
            assertThat(m).isInstanceOf(ErrorResponse.class);
            assertThat(((ErrorResponse) m).sqlState()).isEqualTo("08P01");
        }
        assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '08P01' and detail like '%unsupported frontend protocol%'"))
                .isNotEmpty();
    }

    @Test
    void oversizeFrameIsRefusedBeforeItsBodyIsRead() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token());
            // Declares 2 MiB but sends only the header: the gateway must answer without waiting for the body.
            c.send(new byte[]{'Q', 0, 0x20, 0, 4});
            BackendMessage m = c.read();
            assertThat(m).isInstanceOf(ErrorResponse.class);
            assertThat(((ErrorResponse) m).sqlState()).isEqualTo("08P01");
            assertThat(((ErrorResponse) m).message()).contains("limits.max_frame_bytes");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void anOversizePasswordMessageIsRefusedBeforeItIsRead() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.send(RawClient.startupPacket("clinical"));
            assertThat(c.read()).isInstanceOf(BackendMessage.AuthenticationCleartextPassword.class);
            // Declares 900 KiB (under max_frame_bytes) but a token may take 64 KiB; no body follows.
            c.send(new byte[]{'p', 0, 0x0E, 0x10, 0x04});
            BackendMessage m = c.read();
            assertThat(m).isInstanceOf(ErrorResponse.class);
            assertThat(((ErrorResponse) m).sqlState()).isEqualTo("08P01");
            assertThat(((ErrorResponse) m).message()).contains("password message");
        }
    }

    @Test
    void startupPacketSplitAcrossManyReadsIsAssembled() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.socket.setTcpNoDelay(true);
            for (byte b : RawClient.startupPacket("clinical")) {
                c.send(new byte[]{b});
                Thread.sleep(2);
            }
            assertThat(c.read()).isInstanceOf(BackendMessage.AuthenticationCleartextPassword.class);
            byte[] password = RawClient.passwordPacket(gw.token());
            for (int i = 0; i < password.length; i += 7) {
                c.send(java.util.Arrays.copyOfRange(password, i, Math.min(password.length, i + 7)));
            }
            List<BackendMessage> got = c.readUntilReadyOrError();
            assertThat(got).first().isInstanceOf(BackendMessage.AuthenticationOk.class);
            assertThat(got).last().isInstanceOf(BackendMessage.ReadyForQuery.class);
            assertThat(got).anyMatch(m -> m instanceof BackendMessage.BackendKeyData);
        }
    }

    @Test
    void wrongExpiredAndUntrustedTokensAreRefusedWith28P01AndAudited() throws Exception {
        assertRefused("not-a-jwt", "malformed token");
        assertRefused(gw.expiredToken(Duration.ofSeconds(60)), "expired");
        Path otherKeys = KeyTool.generate(dir.resolve("other-keys"));
        assertRefused(KeyTool.mint(otherKeys, "https://evil.example", "system:serviceaccount:x:intruder",
                List.of("phigate"), Duration.ofMinutes(5), Map.of()), "not trusted");
        // Same issuer, but signed by a key the issuer never published.
        assertRefused(KeyTool.mint(otherKeys, GatewayHarness.ISSUER, "system:serviceaccount:x:forger",
                List.of("phigate"), Duration.ofMinutes(5), Map.of()), "");

        List<Map<String, Object>> refused = gw.audit("kind = 'connection_refused' and sqlstate = '28P01'");
        assertThat(refused).hasSizeGreaterThanOrEqualTo(4);
        assertThat(refused).anyMatch(r -> "system:serviceaccount:x:intruder".equals(r.get("subject"))
                && "https://evil.example".equals(r.get("issuer")));
        // The token itself is never stored.
        assertThat(refused).noneMatch(r -> String.valueOf(r).contains("eyJ"));
    }

    private void assertRefused(String token, String reason) {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", token);
        assertThatThrownBy(() -> DriverManager.getConnection(gw.jdbcUrl(), p).close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> {
                    assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).contains("token rejected").contains(reason);
                });
    }

    @Test
    void aClientThatSendsNothingTimesOutAndIsClosedWithoutAWordAsPostgresDoes() throws Exception {
        long start = System.nanoTime();
        try (RawClient c = new RawClient(gw.port())) {
            c.send(new byte[]{0, 0}); // half a length word, then silence
            assertThat(c.socket.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(gw.audit("kind = 'connection_refused' and detail like '%startup_timeout%'")).isNotEmpty();
    }

    @Test
    void aTrickleOfBytesCannotOutlastTheStartupDeadline() throws Exception {
        long start = System.nanoTime();
        try (RawClient c = new RawClient(gw.port())) {
            byte[] packet = RawClient.startupPacket("clinical");
            BackendMessage m = null;
            for (int i = 0; i < packet.length && m == null; i++) {
                try {
                    c.send(new byte[]{packet[i]});
                } catch (java.io.IOException e) {
                    break;
                }
                Thread.sleep(300);
                if (c.socket.getInputStream().available() > 0) {
                    m = c.read();
                }
            }
            // Cut off before its startup packet is whole: closed without a word, as PostgreSQL's own timeout does.
            assertThat(m).isNull();
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void unknownDatabaseIsRefusedWith3D000() {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        assertThatThrownBy(() -> {
            p.setProperty("password", gw.token());
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gw.port() + "/billing?sslmode=disable", p).close();
        }).satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("3D000"));
    }
}
