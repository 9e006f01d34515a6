package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.phigate.config.DocumentsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.mongo.masking.DocumentPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway logs in to the document store with its own static credentials (SCRAM-SHA-256, decision 0052), checked
 * by a store that derives the keys itself ({@link ScramStoreRelay}) and refuses every command before a login.
 */
class DocumentStoreLoginTest {
    private static final String USER = "phigate-gateway";
    private static final String PASSWORD = "correct horse battery staple";

    @TempDir
    Path dir;

    /** The gateway in front of a SCRAM-checking store, configured with {@code configured} as its password. */
    private MongoHarness gateway(String configured, ScramStoreRelay.Mode mode, ScramStoreRelay[] store)
            throws Exception {
        Path secret = Files.writeString(dir.resolve("store-password"), configured + "\n");
        return new MongoHarness(dir, null, DocumentPolicy.NONE, s -> {
            try {
                store[0] = new ScramStoreRelay(s.upstream().resolve(), USER, PASSWORD, mode);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return new MongoFrontDoor.Settings(s.upstreamName(), new HostPort("127.0.0.1", store[0].port()),
                    s.maxMessageBytes(), s.maxConnections(), s.unauthenticatedIdle(), s.responseCap(), s.identity(),
                    s.tls(), s.upstreamTls(), s.threads(),
                    new DocumentsConfig.Credentials(USER, new SecretRef(null, secret), "admin"));
        });
    }

    private static MongoClient connect(MongoHarness gateway) throws Exception {
        return MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.port()
                        + "/?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000"))
                .credential(MongoCredential.createPlainCredential("triage-agent", "$external",
                        gateway.token().toCharArray()))
                .build());
    }

    private void findsWhatItInsertedWithOneLoginPerUpstreamConnection(ScramStoreRelay.Mode mode) throws Exception {
        ScramStoreRelay[] store = new ScramStoreRelay[1];
        try (MongoHarness gateway = gateway(PASSWORD, mode, store); MongoClient client = connect(gateway)) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("mrn", "A1"));
            assertThat(patients.find().first()).containsEntry("mrn", "A1");
            assertThat(store[0].sessions()).isNotEmpty().allSatisfy(c -> {
                assertThat(c.logins()).containsExactly(USER + "@admin");
                assertThat(c.commands()).isNotEmpty();
            });
            assertThat(store[0].sessions()).flatMap(ScramStoreRelay.Conversation::commands)
                    .contains("insert", "find");
            assertThat(gateway.sink.violations).isEmpty();
        } finally {
            if (store[0] != null) {
                store[0].close();
            }
        }
    }

    @Test
    void withTheRightPasswordTheDriversCommandsRunOnALoggedInConnection() throws Exception {
        findsWhatItInsertedWithOneLoginPerUpstreamConnection(ScramStoreRelay.Mode.HONEST);
    }

    @Test
    void aStoreThatIgnoresSkipEmptyExchangeGetsItsEmptyMessageAndTheSessionRuns() throws Exception {
        findsWhatItInsertedWithOneLoginPerUpstreamConnection(ScramStoreRelay.Mode.IGNORES_SKIP_EMPTY_EXCHANGE);
    }

    /** The client's error and the audit store's refusal both name the failed login; the password is in neither. */
    private void refused(String configured, ScramStoreRelay.Mode mode, String why) throws Exception {
        ScramStoreRelay[] store = new ScramStoreRelay[1];
        try (MongoHarness gateway = gateway(configured, mode, store); MongoClient client = connect(gateway)) {
            Throwable t = catchThrowable(() -> client.getDatabase("clinic").getCollection("patients").find().first());
            assertThat(t).isNotNull();
            StringBuilder chain = new StringBuilder();
            for (Throwable c = t; c != null; c = c.getCause()) {
                chain.append(c.getMessage()).append('\n');
            }
            assertThat(chain.toString()).contains("upstream documents refused the gateway's login")
                    .contains(why).doesNotContain(configured);
            assertThat(store[0].sessions()).allSatisfy(c -> assertThat(c.commands()).isEmpty());
            assertThat(gateway.relay.commands).as("only the gateway's hellos reach the store").containsOnly("isMaster");
            assertThat(gateway.auditEventually("kind = 'connection_refused'", 1)).isNotEmpty()
                    .allSatisfy(r -> assertThat((String) r.get("detail")).contains("refused the gateway's login")
                            .contains(why).doesNotContain(configured));
            assertThat(gateway.audit("kind = 'session_started'")).isEmpty();
        } finally {
            if (store[0] != null) {
                store[0].close();
            }
        }
    }

    @Test
    void aWrongPasswordRefusesTheSessionNamingTheUpstreamLoginAndIsRecorded() throws Exception {
        refused("tr0ub4dor&3", ScramStoreRelay.Mode.HONEST, "failed at saslContinue: refused: Authentication failed.");
    }

    @Test
    void aStoreWhoseSignatureDoesNotProveThePasswordIsRefused() throws Exception {
        refused(PASSWORD, ScramStoreRelay.Mode.FORGES_SIGNATURE,
                "failed at the server's signature: SCRAM server signature does not match");
    }
}
