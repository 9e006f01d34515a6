package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.MongoTimeoutException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.phigate.clients.ClientTools;
import io.phigate.config.ClientTlsConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.mongo.frontend.ClientTls;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.net.TlsContexts;
import io.phigate.pg.TlsTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS both ways on the document-store side: drivers asking for {@code tls=true} reach the front door under the
 * PostgreSQL listener's certificate, cleartext is refused where TLS is required, and the upstream is reached over
 * TLS verified against its CA (a relay terminates TLS in front of mongo-java-server, which speaks none).
 */
class DocumentStoreTlsTest {
    @TempDir
    Path dir;

    /** The front door requiring TLS from every client, loopback included, with the certificate {@code pem}. */
    private static UnaryOperator<MongoFrontDoor.Settings> requireTls(Path[] pem) {
        return s -> {
            try {
                return new MongoFrontDoor.Settings(s.upstreamName(), s.upstream(), s.maxMessageBytes(),
                        s.maxConnections(), s.unauthenticatedIdle(), s.responseCap(), s.identity(),
                        new ClientTls(new ClientTlsConfig(ClientTlsConfig.Mode.REQUIRE, pem[0], pem[1], false),
                                TlsContexts.server(pem[0], pem[1])), s.upstreamTls());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static MongoClient connect(MongoHarness gateway, boolean tls, Path ca) throws Exception {
        MongoClientSettings.Builder b = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + gateway.port()
                        + "/?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000&tls=" + tls))
                .credential(MongoCredential.createPlainCredential("triage-agent", "$external",
                        gateway.token().toCharArray()));
        if (tls) {
            b.applyToSslSettings(s -> {
                try {
                    s.enabled(true).context(TlsContexts.verifyingClient(ca));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        return MongoClients.create(b.build());
    }

    @Test
    void theJavaDriverWithTlsTrueRunsItsSessionOverTlsAndTheRecordSaysSo() throws Exception {
        Path[] pem = TlsTest.selfSigned(Files.createDirectories(dir.resolve("front")));
        try (MongoHarness gateway = new MongoHarness(dir, null, DocumentPolicy.NONE, requireTls(pem));
             MongoClient client = connect(gateway, true, pem[0])) {
            MongoCollection<Document> patients = client.getDatabase("clinic").getCollection("patients");
            patients.insertOne(new Document("mrn", "A1"));
            assertThat(patients.find().first()).containsEntry("mrn", "A1");
            assertThat(gateway.audit("kind = 'session_started'")).singleElement()
                    .satisfies(r -> assertThat((String) r.get("detail")).contains("TLSv1.3"));
            assertThat(gateway.sink.violations).isEmpty();
        }
    }

    @Test
    void aCleartextClientWhereTlsIsRequiredIsToldWhyClosedAndRecorded() throws Exception {
        Path[] pem = TlsTest.selfSigned(Files.createDirectories(dir.resolve("front")));
        try (MongoHarness gateway = new MongoHarness(dir, null, DocumentPolicy.NONE, requireTls(pem));
             MongoClient client = connect(gateway, false, null)) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("patients").find().first())
                    .isInstanceOf(MongoTimeoutException.class)
                    .hasMessageContaining("phigate requires TLS for connections from 127.0.0.1");
            assertThat(gateway.relay.commands).isEmpty();
            assertThat(gateway.audit("kind = 'connection_refused'")).isNotEmpty()
                    .allSatisfy(r -> assertThat((String) r.get("detail")).contains("requires TLS"));
            assertThat(gateway.audit("kind = 'session_started'")).isEmpty();
        }
    }

    @Test
    void theNodeDriverWithTlsTrueAndItsCaFileRunsItsSession() throws Exception {
        Path modules = Path.of(System.getenv().getOrDefault("PHIGATE_NODE_MODULES",
                "target/node-clients/node_modules")).toAbsolutePath();
        assumeTrue(Files.isDirectory(modules.resolve("mongodb")), "the mongodb driver is not installed in " + modules);
        Path[] pem = TlsTest.selfSigned(Files.createDirectories(dir.resolve("front")));
        Path script = Files.writeString(dir.resolve("tls.js"), """
                const { MongoClient } = require('mongodb');
                (async () => {
                  const client = new MongoClient('mongodb://127.0.0.1:' + process.env.PORT + '/?directConnection=true'
                    + '&tls=true&tlsCAFile=' + encodeURIComponent(process.env.CA), { auth: { username: 'triage-agent',
                    password: process.env.TOKEN }, authMechanism: 'PLAIN', authSource: '$external',
                    serverSelectionTimeoutMS: 5000 });
                  await client.connect();
                  await client.db('clinic').collection('notes').insertOne({ _id: 1, text: 'over tls' });
                  console.log(JSON.stringify(await client.db('clinic').collection('notes').findOne({ _id: 1 })));
                  await client.close();
                })().catch(e => { console.error(e.message); process.exit(1); });
                """);
        try (MongoHarness gateway = new MongoHarness(dir, null, DocumentPolicy.NONE, requireTls(pem))) {
            ClientTools.Result r = ClientTools.run(Map.of("NODE_PATH", modules.toString(), "PORT",
                    String.valueOf(gateway.port()), "TOKEN", gateway.token(), "CA", pem[0].toString()), dir,
                    ClientTools.find("node").toString(), script.toString());
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("\"text\":\"over tls\"");
            assertThat(gateway.audit("kind = 'session_started'")).singleElement()
                    .satisfies(row -> assertThat((String) row.get("detail")).contains("TLSv1.3"));
        }
    }

    /** The upstream behind a TLS relay whose certificate is {@code served}, verified full against {@code ca}. */
    private MongoHarness behindTls(Path[] served, Path ca, TlsRelay[] relay) throws Exception {
        return new MongoHarness(dir, null, DocumentPolicy.NONE, s -> {
            try {
                relay[0] = new TlsRelay(served[0], served[1], s.upstream());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return new MongoFrontDoor.Settings(s.upstreamName(), relay[0].address(), s.maxMessageBytes(),
                    s.maxConnections(), s.unauthenticatedIdle(), s.responseCap(), s.identity(), s.tls(),
                    new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, ca));
        });
    }

    @Test
    void theUpstreamIsReachedOverTlsVerifiedAgainstItsCa() throws Exception {
        Path[] upstream = TlsTest.selfSigned(Files.createDirectories(dir.resolve("upstream")));
        TlsRelay[] relay = new TlsRelay[1];
        try (MongoHarness gateway = behindTls(upstream, upstream[0], relay);
             MongoClient client = connect(gateway, false, null)) {
            MongoCollection<Document> notes = client.getDatabase("clinic").getCollection("notes");
            notes.insertOne(new Document("_id", 1).append("text", "through tls"));
            assertThat(notes.find().first()).containsEntry("text", "through tls");
            assertThat(relay[0].handshakes.get()).isGreaterThanOrEqualTo(2); // the hello probe and the session
            assertThat(gateway.relay.commands).contains("insert", "find");
        } finally {
            if (relay[0] != null) {
                relay[0].close();
            }
        }
    }

    @Test
    void anUpstreamWhoseCertificateAnotherCaSignedIsRefusedWithTheReasonAndRecorded() throws Exception {
        Path[] upstream = TlsTest.selfSigned(Files.createDirectories(dir.resolve("upstream")));
        Path[] other = TlsTest.selfSigned(Files.createDirectories(dir.resolve("other")));
        TlsRelay[] relay = new TlsRelay[1];
        try (MongoHarness gateway = behindTls(upstream, other[0], relay);
             MongoClient client = connect(gateway, false, null)) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("notes").find().first())
                    .isInstanceOf(MongoTimeoutException.class)
                    .hasMessageContaining("TLS to the upstream failed (verify-full)");
            assertThat(relay[0].handshakes.get()).isZero();
            assertThat(gateway.relay.commands).isEmpty();
            assertThat(gateway.auditEventually("kind = 'connection_refused'", 1)).isNotEmpty()
                    .allSatisfy(r -> assertThat((String) r.get("detail")).contains("TLS to the upstream failed"));
        } finally {
            if (relay[0] != null) {
                relay[0].close();
            }
        }
    }
}
