package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.phigate.credentials.CredentialExchange;
import io.phigate.identity.TokenVerifier;
import java.nio.file.Path;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection string's user name and mechanism follow the PostgreSQL side's identity rules (decision 0052): the
 * token's subject is the identity whatever the user name, an exchanged user name redeems its one-time credential
 * once, and SCRAM (the driver's default) is refused with mongod's error naming PLAIN.
 */
class DocumentStoreIdentityTest {
    @TempDir
    Path dir;
    MongoHarness gateway;

    @BeforeEach
    void start() throws Exception {
        gateway = new MongoHarness(dir);
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    private MongoClient connect(MongoCredential credential) {
        return MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.port()
                        + "/?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000"))
                .credential(credential).build());
    }

    @Test
    void theDriversDefaultScramIsRefusedWithMongodsErrorNamingPlainAndRecorded() throws Exception {
        try (MongoClient client = connect(MongoCredential.createCredential("triage-agent", "admin",
                gateway.token().toCharArray()))) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("patients").find().first())
                    .isInstanceOf(MongoSecurityException.class)
                    .rootCause().isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(334);
                        assertThat(e.getErrorCodeName()).isEqualTo("MechanismUnavailable");
                        assertThat(e.getErrorMessage()).contains("Received authentication for mechanism SCRAM-SHA-",
                                "which is unknown or not enabled", "phigate accepts PLAIN only");
                    });
        }
        assertThat(gateway.relay.commands).containsOnly("isMaster"); // the gateway's own probe, nothing of the client's
        assertThat(gateway.audit("kind = 'connection_refused'")).isNotEmpty()
                .allSatisfy(r -> assertThat((String) r.get("detail")).contains("SCRAM-SHA-"));
        assertThat(gateway.audit("kind = 'session_started'")).isEmpty();
    }

    @Test
    void aUserNameOtherThanTheTokensSubjectIsEvidenceNotIdentity() throws Exception {
        try (MongoClient client = connect(MongoCredential.createPlainCredential("chief-of-medicine", "$external",
                gateway.token().toCharArray()))) {
            MongoCollection<Document> notes = client.getDatabase("clinic").getCollection("notes");
            notes.insertOne(new Document("text", "hello"));
        }
        assertThat(gateway.audit("kind = 'session_started'")).singleElement().satisfies(r -> {
            assertThat(r.get("subject")).isEqualTo(MongoHarness.AGENT);
            assertThat((String) r.get("detail")).contains("\"startup_user\":\"chief-of-medicine\"");
        });
    }

    @Test
    void anExchangedUserNameRedeemsItsOneTimeCredentialOnceAsTheTokensIdentity() throws Exception {
        String token = gateway.token();
        CredentialExchange.Issued issued = gateway.exchange.issue(gateway.verifier.verify(token),
                TokenVerifier.keyId(token), null, "reviewing ward notes");
        MongoCredential once = MongoCredential.createPlainCredential(issued.username(), "$external",
                issued.password().toCharArray());
        try (MongoClient client = connect(once)) {
            client.getDatabase("clinic").getCollection("notes").insertOne(new Document("text", "once"));
        }
        assertThat(gateway.audit("kind = 'session_started'")).singleElement().satisfies(r -> {
            assertThat(r.get("subject")).isEqualTo(MongoHarness.AGENT);
            assertThat((String) r.get("detail")).contains(issued.username(), "reviewing ward notes");
        });

        try (MongoClient again = connect(once)) {
            assertThatThrownBy(() -> again.getDatabase("clinic").getCollection("notes").find().first())
                    .isInstanceOf(MongoSecurityException.class)
                    .rootCause().hasMessageContaining("one-time credential rejected: unknown or already used");
        }
        assertThat(gateway.audit("kind = 'connection_refused'")).singleElement()
                .satisfies(r -> assertThat((String) r.get("detail")).contains("already used"));
    }
}
