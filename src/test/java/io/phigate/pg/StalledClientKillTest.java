package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.config.GatewayConfig;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.session.LiveSession;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that pipelines queries with large answers and never reads them fills its socket buffers; the response
 * pump then blocks writing to it. Ending that session (the admin kill, shutdown and token expiry all call
 * {@link LiveSession#terminate}) must not wait on that write: the session ends and its upstream connection and
 * slot are released within 2 s. Sessions here run on platform threads (the default for the first sessions);
 * {@link StalledClientKillOnVirtualThreadsTest} runs the same on virtual threads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StalledClientKillTest {
    private static final long BOUND_NANOS = 2_000_000_000L;

    @TempDir
    static Path dir;
    GatewayHarness gw;

    @BeforeAll
    void start() throws Exception {
        gw = GatewayHarness.start(dir, this::configure);
    }

    GatewayConfig configure(GatewayConfig c) {
        return c;
    }

    @AfterAll
    void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void aStalledClientPipeliningLargeResultsIsKilledWithinTwoSeconds() throws Exception {
        killStalled("select g, repeat('r', 2000) from generate_series(1, 5000) g");
    }

    /** The answer is an ErrorResponse of about 200 kB (the server quotes the bad value back). */
    @Test
    void aStalledClientPipeliningLargeErrorsIsKilledWithinTwoSeconds() throws Exception {
        killStalled("select repeat('e', 200000)::int");
    }

    boolean onPlatformThreads() {
        return true;
    }

    private void killStalled(String query) throws Exception {
        try (RawClient stalled = new RawClient(gw.port())) {
            stalled.login(gw.token());
            ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
            for (int i = 0; i < 400; i++) {
                pipeline.write(MessageCodec.encode(new FrontendMessage.Query(query)));
            }
            stalled.send(pipeline.toByteArray());
            int backend = awaitBlockedWritingToGateway(query);
            // Virtual threads are not in this map; the session's platform threads are.
            boolean platform = Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().startsWith("pg-upstream-"));
            if (!GatewayHarness.eventLoopAsked()) { // on an event loop the session has no threads of its own
                assertThat(platform).as("the session's reader runs on a platform thread").isEqualTo(onPlatformThreads());
            }
            LiveSession session = gw.gateway().sessions().list().getFirst();

            long start = System.nanoTime();
            Thread kill = Thread.ofVirtual().start(() -> session.terminate(ErrorCodes.ADMIN_SHUTDOWN, "killed by test"));
            while (gw.gateway().sessions().size() > 0 && System.nanoTime() - start < BOUND_NANOS) {
                Thread.sleep(10);
            }
            long ended = System.nanoTime() - start;
            while (backendAlive(backend) && System.nanoTime() - start < BOUND_NANOS) {
                Thread.sleep(10);
            }
            long released = System.nanoTime() - start;
            kill.join(5_000);

            System.out.printf("stalled client (%s): session ended after %d ms, upstream backend gone after %d ms%n",
                    query.substring(0, 20), ended / 1_000_000, released / 1_000_000);
            assertThat(gw.gateway().sessions().size()).as("sessions left 2 s after the kill").isZero();
            assertThat(backendAlive(backend)).as("the upstream backend 2 s after the kill").isFalse();
            assertThat(kill.isAlive()).as("the kill call itself returned").isFalse();
        }
        try (Connection c = gw.connect(); ResultSet rs = c.createStatement().executeQuery("select 1")) {
            assertThat(rs.next()).isTrue(); // the gateway itself is unharmed
        }
    }

    /** Waits until PostgreSQL is blocked sending the pipeline's answers: the gateway stopped reading them. */
    private static int awaitBlockedWritingToGateway(String query) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery("select pid, wait_event from pg_stat_activity where query = '"
                        + query.replace("'", "''") + "' and pid <> pg_backend_pid()")) {
                    if (rs.next() && "ClientWrite".equals(rs.getString(2))) {
                        int pid = rs.getInt(1);
                        Thread.sleep(200); // and stays blocked: the gateway's pump is stuck on the client
                        return pid;
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the server never blocked writing the stalled pipeline's answers");
    }

    private static boolean backendAlive(int pid) throws Exception {
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from pg_stat_activity where pid = " + pid)) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }
}
