package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Protocol details a pass-through session (no policy) shows exactly as PostgreSQL does. */
class PassThroughProtocolTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.start(dir);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void afterTheServersOwnFatalTheClientGetsThatErrorAndNothingMore() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.login(gw.token());
            c.send(MessageCodec.encode(new FrontendMessage.Query("SELECT pg_backend_pid()")));
            int pid = c.readUntilReadyOrError().stream().filter(m -> m instanceof BackendMessage.DataRow)
                    .map(m -> Integer.parseInt(new String(((BackendMessage.DataRow) m).values()[0]))).findFirst()
                    .orElseThrow();
            try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            List<BackendMessage> got = new ArrayList<>();
            for (BackendMessage m; (m = c.read()) != null; ) {
                got.add(m);
            }
            assertThat(got).hasSize(1);
            assertThat(((ErrorResponse) got.getFirst()).sqlState()).isEqualTo("57P01");
        }
        assertThat(gw.auditEventually("kind = 'session_ended' and detail like '%upstream connection lost%'", 1))
                .isNotEmpty();
    }

    @Test
    void aTruncatedStartupPacketIsClosedWithoutAWordAndAudited() throws Exception {
        byte[] packet = RawClient.startupPacket("clinical");
        try (RawClient c = new RawClient(gw.port())) {
            c.send(Arrays.copyOf(packet, packet.length / 2));
            c.socket.shutdownOutput();
            assertThat(silentClose(c)).isTrue();
        }
        assertThat(gw.auditEventually("kind = 'connection_refused' and detail like '%incomplete startup packet%'", 1))
                .isNotEmpty();
    }

    @Test
    void aStartupPacketLengthPostgresWouldNotReadIsClosedWithoutAWordAndAudited() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.send(new byte[]{0, 0, 0, 4, 0, 3, 0, 0});
            assertThat(silentClose(c)).isTrue();
        }
        assertThat(gw.auditEventually("kind = 'connection_refused' and detail like '%invalid length of startup packet%'",
                1)).isNotEmpty();
    }

    @Test
    void aCancelRequestOfTheWrongSizeIsDroppedWithoutAWord() throws Exception {
        try (RawClient c = new RawClient(gw.port())) {
            c.send(new byte[]{0, 0, 0, 10, 0x04, (byte) 0xD2, 0x16, 0x2E, 0, 0});
            assertThat(silentClose(c)).isTrue();
        }
    }

    @Test
    void aClientThatConnectsAndLeavesLeavesNoRecord() throws Exception {
        int before = gw.audit("kind = 'connection_refused'").size();
        try (RawClient c = new RawClient(gw.port())) {
            c.socket.shutdownOutput();
            assertThat(silentClose(c)).isTrue();
        }
        Thread.sleep(200);
        assertThat(gw.audit("kind = 'connection_refused'")).hasSize(before);
    }

    /** True when the gateway closed the connection without sending a single byte. */
    private static boolean silentClose(RawClient c) throws Exception {
        InputStream in = c.socket.getInputStream();
        try {
            return in.read() == -1;
        } catch (java.net.SocketException e) {
            return true; // reset: also nothing was sent
        }
    }
}
