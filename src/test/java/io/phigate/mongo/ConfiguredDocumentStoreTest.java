package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.phigate.Gateway;
import io.phigate.config.ConfigLoader;
import io.phigate.identity.KeyTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole gateway started from a config file with a {@code documents} section: the official Java sync driver
 * reaches mongo-java-server through the {@code listen.mongo} listener, verified by the gateway's own identity
 * configuration and recorded in its own audit store.
 */
class ConfiguredDocumentStoreTest {
    private static final String ISSUER = "https://issuer.test";
    private static final String AGENT = "system:serviceaccount:clinical:triage-agent";

    @TempDir
    Path dir;
    MongoServer store;
    Gateway gateway;
    Path key;
    int storePort;

    @BeforeEach
    void start() throws Exception {
        key = KeyTool.generate(dir.resolve("keys"));
        store = new MongoServer(new MemoryBackend());
        storePort = store.bind().getPort();
        // The PostgreSQL upstream is never contacted: no PostgreSQL client connects in this test.
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
                """.formatted(storePort, ISSUER));
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
    void theJavaDriverReachesTheConfiguredStoreAndItsCommandsAreRecorded() throws Exception {
        String token = KeyTool.mint(key, ISSUER, AGENT, List.of("phigate"), Duration.ofMinutes(10), Map.of());
        List<Document> found = new ArrayList<>();
        try (MongoClient client = connect(token)) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("name", "Ada").append("mrn", "A-1"));
            patients.find(Filters.eq("name", "Ada")).into(found);
        }

        assertThat(found).singleElement().satisfies(d -> assertThat(d.getString("mrn")).isEqualTo("A-1"));
        List<String> requested = auditColumn("statement", "kind = 'statement_requested' and upstream = 'records'"
                + " and protocol = 'op_msg'");
        assertThat(requested).anySatisfy(s -> assertThat(s).startsWith("{\"insert\": \"patients\""))
                .anySatisfy(s -> assertThat(s).startsWith("{\"find\": \"patients\""));
        assertThat(auditColumn("parameters", "kind = 'statement_requested' and statement like '{\"insert\"%'"))
                .singleElement().asString().contains("Ada", "A-1");
        assertThat(auditColumn("subject", "kind = 'session_started' and upstream = 'records'")).containsExactly(AGENT);
        assertThat(completedTagsOnceThereAre(2)).contains("insert", "find");
    }

    @Test
    void theConfiguredCatalogMasksItsFieldsAndTheSessionIsListed() throws Exception {
        gateway.close();
        Path config = Files.writeString(dir.resolve("masked.yaml"), Files.readString(dir.resolve("phigate.yaml"))
                .replace("      address: 127.0.0.1:" + storePort + "\n", "      address: 127.0.0.1:" + storePort + "\n"
                        + "      collections:\n        clinic.patients:\n          mrn: mrn\n"
                        + "          name.given: name\n"));
        gateway = Gateway.start(ConfigLoader.loadToServe(config));
        String token = KeyTool.mint(key, ISSUER, AGENT, List.of("phigate"), Duration.ofMinutes(10), Map.of());
        Document found;
        try (MongoClient client = connect(token)) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("mrn", "A-1").append("name", new Document("given", "Ada"))
                    .append("ward", "cardio"));
            found = patients.find(Filters.eq("ward", "cardio")).first();
            assertThat(gateway.sessions().list()).anySatisfy(s -> assertThat(s.upstream()).isEqualTo("records"));
        }

        assertThat(found.get("name", Document.class).getString("given")).isEqualTo("[NAME]");
        assertThat(found.getString("mrn")).isNotEqualTo("A-1");
        assertThat(found.getString("ward")).isEqualTo("cardio");
    }

    @Test
    void closingTheGatewayEndsTheDocumentStoreSessions() throws Exception {
        String token = KeyTool.mint(key, ISSUER, AGENT, List.of("phigate"), Duration.ofMinutes(10), Map.of());
        try (MongoClient client = connect(token)) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("name", "Ada"));
            gateway.close();
            gateway = null;

            // The connection is closed, not answered: a session must not outlive the gateway that records it.
            assertThatThrownBy(() -> patients.insertOne(new Document("name", "Bo"))).isInstanceOf(MongoException.class)
                    .isNotInstanceOf(MongoCommandException.class);
        }
        try (MongoClient direct = MongoClients.create("mongodb://127.0.0.1:" + storePort)) {
            assertThat(direct.getDatabase("clinic").getCollection("patients").countDocuments()).isEqualTo(1);
        }
    }

    @Test
    void theConfiguredLoginIsHowTheGatewayReachesTheStore() throws Exception {
        gateway.close();
        Path secret = Files.writeString(dir.resolve("records.password"), "s3cret\n");
        try (ScramStoreRelay relay = new ScramStoreRelay(new java.net.InetSocketAddress("127.0.0.1", storePort),
                "gateway", "s3cret", ScramStoreRelay.Mode.HONEST)) {
            Path config = Files.writeString(dir.resolve("login.yaml"), Files.readString(dir.resolve("phigate.yaml"))
                    .replace("      address: 127.0.0.1:" + storePort + "\n", "      address: 127.0.0.1:"
                            + relay.port() + "\n      credentials:\n        user: gateway\n"
                            + "        password_file: " + secret + "\n        source: clinic\n"));
            gateway = Gateway.start(ConfigLoader.loadToServe(config));
            String token = KeyTool.mint(key, ISSUER, AGENT, List.of("phigate"), Duration.ofMinutes(10), Map.of());
            try (MongoClient client = connect(token)) {
                MongoCollection<Document> notes = client.getDatabase("clinic").getCollection("notes");
                notes.insertOne(new Document("text", "logged in"));
                assertThat(notes.find().first()).containsEntry("text", "logged in");
            }
            assertThat(relay.sessions()).isNotEmpty()
                    .allSatisfy(c -> assertThat(c.logins()).containsExactly("gateway@clinic"));
        }
    }

    @Test
    void withoutADocumentsSectionThereIsNoMongoListener() throws Exception {
        gateway.close();
        Path config = Files.writeString(dir.resolve("plain.yaml"), Files.readString(dir.resolve("phigate.yaml"))
                .replace("  mongo: 127.0.0.1:0\n", "")
                .replaceAll("documents:\n  upstreams:\n    records:\n      address: [^\n]*\n", ""));
        gateway = Gateway.start(ConfigLoader.loadToServe(config));

        assertThat(gateway.mongoAddress()).isNull();
        assertThat(gateway.postgresAddress()).isNotNull();
    }

    @Test
    void tlsBothWaysComesFromTheConfigFileAndVerifyFullNeedsItsCa() throws Exception {
        gateway.close();
        Path[] front = io.phigate.pg.TlsTest.selfSigned(Files.createDirectories(dir.resolve("front")));
        Path[] served = io.phigate.pg.TlsTest.selfSigned(Files.createDirectories(dir.resolve("upstream")));
        try (TlsRelay relay = new TlsRelay(served[0], served[1], new io.phigate.config.HostPort("127.0.0.1",
                storePort))) {
            String yaml = Files.readString(dir.resolve("phigate.yaml"))
                    .replace("      address: 127.0.0.1:" + storePort + "\n", "      address: 127.0.0.1:"
                            + relay.address().port() + "\n      tls:\n        mode: verify-full\n")
                    + "tls:\n  cert_file: " + front[0] + "\n  key_file: " + front[1]
                    + "\n  allow_loopback_cleartext: false\n";
            Path withoutCa = Files.writeString(dir.resolve("no-ca.yaml"), yaml);
            assertThatThrownBy(() -> ConfigLoader.loadToServe(withoutCa))
                    .hasMessageContaining("documents.upstreams.records.tls.ca_file");
            Path config = Files.writeString(dir.resolve("tls.yaml"), yaml.replace("mode: verify-full\n",
                    "mode: verify-full\n        ca_file: " + served[0] + "\n"));
            gateway = Gateway.start(ConfigLoader.loadToServe(config));
            String token = KeyTool.mint(key, ISSUER, AGENT, List.of("phigate"), Duration.ofMinutes(10), Map.of());
            try (MongoClient client = MongoClients.create(MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString("mongodb://localhost:"
                            + gateway.mongoAddress().getPort() + "/?tls=true&serverSelectionTimeoutMS=3000"))
                    .applyToSslSettings(t -> t.context(trusting(front[0])))
                    .credential(MongoCredential.createPlainCredential("triage-agent", "$external",
                            token.toCharArray()))
                    .build())) {
                MongoCollection<Document> notes = client.getDatabase("clinic").getCollection("notes");
                notes.insertOne(new Document("text", "both ways"));
                assertThat(notes.find().first()).containsEntry("text", "both ways");
            }
            assertThat(relay.handshakes.get()).isPositive();
        }
    }

    private static javax.net.ssl.SSLContext trusting(Path ca) {
        try {
            return io.phigate.net.TlsContexts.verifyingClient(ca);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private MongoClient connect(String token) {
        return MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.mongoAddress().getPort()
                        + "/?serverSelectionTimeoutMS=2000&connectTimeoutMS=2000"))
                .credential(MongoCredential.createPlainCredential("triage-agent", "$external", token.toCharArray()))
                .applyToSocketSettings(s -> s.readTimeout(30, TimeUnit.SECONDS))
                .build());
    }

    /** One column of the audit rows matching {@code where}, in order, once every acknowledged record is stored. */
    private List<String> auditColumn(String column, String where) throws Exception {
        assertThat(gateway.awaitAuditStored()).isTrue();
        List<String> values = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("audit.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select " + column + " from audit_event where " + where + " order by seq")) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }

    /** Completions are recorded after the reply is written, so they may trail the client: polls up to 10 s. */
    private List<String> completedTagsOnceThereAre(int atLeast) throws Exception {
        String where = "kind = 'statement_completed' and outcome = 'ok'";
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> tags = auditColumn("command_tag", where);
        while (tags.size() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(50);
            tags = auditColumn("command_tag", where);
        }
        return tags;
    }
}
