package io.phigate;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.phigate.config.ConfigLoader;
import io.phigate.identity.KeyTool;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.session.LiveSession;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The platform threads of {@code limits.platform_session_threads} go to authenticated sessions only (decision
 * 0061): connections that hold their handshake open, on either listener, take none, and the one slot here is
 * shared by both listeners and comes back exactly once whichever way its session ends (client close, kill).
 * Only platform threads are in {@link Thread#getAllStackTraces()}, so a session's named thread there says its kind.
 */
class PlatformThreadsGoToAuthenticatedSessionsTest {
    private static final int STALLED_PER_LISTENER = 4;

    @TempDir
    Path dir;
    MongoServer store;
    Gateway gateway;
    Path key;

    @BeforeEach
    void start() throws Exception {
        key = GatewayHarness.keys(dir);
        store = new MongoServer(new MemoryBackend());
        int storePort = store.bind().getPort();
        TestDatabase db = TestDatabase.get();
        Path config = Files.writeString(dir.resolve("phigate.yaml"), """
                listen:
                  postgres: 127.0.0.1:0
                  mongo: 127.0.0.1:0
                upstreams:
                  clinical:
                    address: 127.0.0.1:%d
                    credentials:
                      user: %s
                      password_file: %s
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
                limits:
                  startup_timeout: 60s
                  platform_session_threads: 1
                """.formatted(db.port(), db.user(), db.passwordFile(), storePort, GatewayHarness.ISSUER));
        gateway = Gateway.start(ConfigLoader.loadToServe(config));
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        store.shutdownNow();
    }

    @Test
    void connectionsStuckInTheirHandshakeTakeNoSlotAndTheOneSlotIsSharedAndReturnedOnce() throws Exception {
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < STALLED_PER_LISTENER; i++) {
                stalled.add(stalledInAuthentication());
                stalled.add(new Socket("127.0.0.1", gateway.mongoAddress().getPort()));
            }
            await("the document-store connections are accepted", () -> gateway.openSessions() == STALLED_PER_LISTENER);

            try (Connection agent = connectPostgres()) {
                assertThat(runsOnPlatformThread("pg-session-")).as("the agent's session loop").isTrue();
                assertThat(runsOnPlatformThread("pg-upstream-")).as("its response pump").isTrue();
                try (MongoClient documents = connectMongo()) {
                    insertOne(documents);
                    assertThat(runsOnPlatformThread("mongo-session-"))
                            .as("the one slot is the PostgreSQL session's: the listeners share it").isFalse();
                }
            }
            await("the closed PostgreSQL session gives its slot back", () -> !runsOnPlatformThread("pg-session-"));

            try (MongoClient documents = connectMongo()) {
                insertOne(documents);
                assertThat(runsOnPlatformThread("mongo-session-")).as("the slot came back to the document store")
                        .isTrue();
                try (Connection second = connectPostgres()) {
                    select1(second);
                    assertThat(runsOnPlatformThread("pg-session-")).as("given back once, not twice").isFalse();
                }
                LiveSession mongoSession = gateway.sessions().list().stream()
                        .filter(s -> s.upstream().equals("records")).findFirst().orElseThrow();
                mongoSession.terminate("57P01", "killed by test");
                await("the killed session gives its slot back", () -> !runsOnPlatformThread("mongo-session-"));
            }
            try (Connection third = connectPostgres(); Connection fourth = connectPostgres()) {
                select1(third);
                select1(fourth);
                assertThat(platformThreadsNamed("pg-session-")).as("after the kill: one slot, once").isEqualTo(1);
            }
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    /** A connection that sent its startup packet, was asked for its token, and never answers. */
    private Socket stalledInAuthentication() throws Exception {
        Socket s = new Socket("127.0.0.1", gateway.postgresAddress().getPort());
        s.setSoTimeout(10_000);
        s.getOutputStream().write(MessageCodec.encode(new FrontendMessage.StartupMessage(MessageCodec.PROTOCOL_3_0,
                Map.of("user", "triage-agent", "database", "clinical"))));
        s.getOutputStream().flush();
        assertThat(s.getInputStream().read()).as("asked for its password").isEqualTo('R');
        return s;
    }

    private Connection connectPostgres() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", token());
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gateway.postgresAddress().getPort()
                + "/clinical?sslmode=disable", p);
    }

    private MongoClient connectMongo() throws Exception {
        return MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.mongoAddress().getPort()
                        + "/?serverSelectionTimeoutMS=5000&connectTimeoutMS=5000"))
                .credential(MongoCredential.createPlainCredential("triage-agent", "$external",
                        token().toCharArray()))
                .applyToSocketSettings(s -> s.readTimeout(30, TimeUnit.SECONDS))
                .build());
    }

    private String token() throws Exception {
        return KeyTool.mint(key, GatewayHarness.ISSUER, GatewayHarness.AGENT, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(10), Map.of());
    }

    private static void insertOne(MongoClient client) {
        client.getDatabase("clinic").getCollection("notes").insertOne(new Document("text", "seen"));
    }

    private static void select1(Connection c) throws Exception {
        try (ResultSet rs = c.createStatement().executeQuery("select 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    private static boolean runsOnPlatformThread(String namePrefix) {
        return platformThreadsNamed(namePrefix) > 0;
    }

    private static long platformThreadsNamed(String namePrefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(namePrefix)).count();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
