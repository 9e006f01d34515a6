package io.phigate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.phigate.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A drain stops the document-store listener as well as PostgreSQL's, counts a connected document-store client
 * as a session to wait for, and ends it when the grace is over.
 */
class DrainStopsBothListenersTest {
    private static final Duration GRACE = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    @Test
    void bothListenersStopAcceptingAndAConnectedDocumentClientIsWaitedForThenEnded() throws Exception {
        GatewayHarness.keys(dir);
        MongoServer store = new MongoServer(new MemoryBackend());
        int storePort = store.bind().getPort();
        Path config = Files.writeString(dir.resolve("phigate.yaml"), """
                listen:
                  postgres: 127.0.0.1:0
                  mongo: 127.0.0.1:0
                upstreams:
                  clinical:
                    address: 127.0.0.1:1
                    credentials:
                      user: phigate
                      password_env: CLINICAL_DB_PASSWORD
                documents:
                  upstreams:
                    records:
                      address: 127.0.0.1:%d
                identity:
                  issuers:
                    - issuer: %s
                      audience: phigate
                      jwks_file: keys/jwks.json
                audit:
                  store: sqlite:audit.db
                """.formatted(storePort, GatewayHarness.ISSUER));
        Gateway gateway = Gateway.start(ConfigLoader.loadToServe(config));
        try (Socket client = new Socket()) {
            client.connect(gateway.mongoAddress(), 2_000);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (gateway.openSessions() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10); // the accept loop hands the socket over on its own thread
            }
            assertThat(gateway.openSessions()).isEqualTo(1);

            long started = System.nanoTime();
            CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> gateway.drain(GRACE));
            // Probe only once the drain has closed the listeners: a probe accepted before would be a second
            // connected client in the drain's count.
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (gateway.accepting() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            awaitRefused(gateway.mongoAddress());
            awaitRefused(gateway.postgresAddress());
            assertThat(drain).as("still waiting for the document client").isNotDone();

            client.setSoTimeout(10_000);
            InputStream in = client.getInputStream();
            assertThat(in.read()).as("the connection is closed once the grace is over").isEqualTo(-1);
            drain.get(20, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(GRACE.toMillis() - 100);
        } finally {
            store.shutdownNow();
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("audit.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select outcome, detail from audit_event where kind = 'gateway_drain'"
                     + " order by seq")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("started");
            assertThat(rs.getString(2)).contains("\"sessions\":1").contains("\"grace_ms\":2000");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("finished");
            assertThat(rs.getString(2)).contains("\"sessions\":1");
        }
    }

    /** The listener is closed: a connection is refused (at once; a short wait covers the drain thread's start). */
    private static void awaitRefused(InetSocketAddress address) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(address, 500);
            } catch (IOException refused) {
                return;
            }
            Thread.sleep(10);
        }
        assertThatThrownBy(() -> new Socket().connect(address, 500)).as("connect to " + address)
                .isInstanceOf(IOException.class);
    }
}
