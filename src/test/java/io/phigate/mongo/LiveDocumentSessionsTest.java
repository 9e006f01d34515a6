package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.phigate.session.LiveSession;
import java.nio.file.Path;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Document-store sessions in the session registry: listed while they last, and ended from outside. */
class LiveDocumentSessionsTest {
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

    private MongoClient connect() throws Exception {
        return gateway.driver("serverSelectionTimeoutMS=3000&connectTimeoutMS=3000");
    }

    @Test
    void anAuthenticatedSessionIsListedWithItsAgentAndLastCommand() throws Exception {
        try (MongoClient client = connect()) {
            client.getDatabase("clinic").getCollection("patients").insertOne(new Document("mrn", "A1"));
            // The reply reaches the driver before the session has recorded the command's end and gone idle.
            long idle = System.nanoTime() + 5_000_000_000L;
            while (gateway.sessions.list().stream().anyMatch(s -> s.busy()) && System.nanoTime() < idle) {
                Thread.sleep(10);
            }

            assertThat(gateway.sessions.list()).singleElement().satisfies(s -> {
                assertThat(s.identity().subject()).isEqualTo(MongoHarness.AGENT);
                assertThat(s.upstream()).isEqualTo("documents");
                assertThat(s.statements()).isEqualTo(1);
                assertThat(s.lastStatement()).startsWith("{\"insert\": \"patients\"");
                assertThat(s.busy()).isFalse();
            });
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (gateway.sessions.size() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(gateway.sessions.list()).isEmpty();
    }

    @Test
    void endingASessionFromOutsideClosesItsConnectionAndRecordsWhy() throws Exception {
        try (MongoClient client = connect()) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("mrn", "A1"));
            LiveSession session = gateway.sessions.list().getFirst();

            session.terminate("57P01", "ended by an administrator");

            assertThatThrownBy(() -> patients.insertOne(new Document("mrn", "B2"))).isInstanceOf(MongoException.class)
                    .isNotInstanceOf(MongoCommandException.class);
            assertThat(gateway.auditEventually("kind = 'session_ended' and session_id = '" + session.id() + "'", 1))
                    .singleElement().satisfies(r -> assertThat(r.toString()).contains(
                            "terminated: ended by an administrator"));
        }
    }
}
