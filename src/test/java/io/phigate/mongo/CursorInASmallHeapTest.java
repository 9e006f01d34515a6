package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCursor;
import io.phigate.ChildGateway;
import io.phigate.identity.KeyTool;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A masked cursor several times the gateway's heap streams through it (issue 21: "a 1 GiB cursor in a 256 MiB
 * heap", here at a small scale so it runs in the suite; bench/mongo.sh measures the full one). The gateway
 * runs in its own JVM with {@code -Xmx48m} and exits on OutOfMemoryError, so a gateway that held the cursor, or a
 * batch more than a few times, fails the find.
 */
class CursorInASmallHeapTest {
    private static final int DOCUMENTS = 130_000;
    private static final int HEAP_MIB = 48;
    private static final int BATCH = 4_000;
    private static final String SSN = "123-45-6789";
    /** One ~1.2 KB patient document: a tagged ssn and given name, and an untagged note that makes up the bulk. */
    private static final RawBsonDocument PATIENT = WireCodec.raw(new BsonDocument("ssn", new BsonString(SSN))
            .append("name", new BsonDocument("given", new BsonString("Ada")))
            .append("note", new BsonString("vitals stable, plan unchanged; ".repeat(38))));

    @TempDir
    Path dir;

    @Test
    void aMaskedCursorThreeTimesTheHeapStreamsThroughAGatewayCappedAt48MiB() throws Exception {
        Path key = KeyTool.generate(dir.resolve("keys"));
        int port = ChildGateway.freePort();
        try (ServerSocket upstream = generatingUpstream()) {
            Path config = Files.writeString(dir.resolve("phigate.yaml"), """
                    listen:
                      postgres: 127.0.0.1:%d
                      mongo: 127.0.0.1:%d
                    upstreams:
                      unused:
                        address: 127.0.0.1:1
                        credentials:
                          user: unused
                          password_env: UNUSED_PASSWORD
                    documents:
                      upstreams:
                        records:
                          address: 127.0.0.1:%d
                          collections:
                            clinic.patients: { ssn: ssn, name.given: name }
                    identity:
                      issuers:
                        - issuer: https://issuer.test
                          audience: phigate
                          jwks_file: keys/jwks.json
                    audit:
                      store: sqlite:audit.db
                    """.formatted(ChildGateway.freePort(), port, upstream.getLocalPort()));
            try (ChildGateway gateway = ChildGateway.start(config, port, dir.resolve("gateway.log"),
                    List.of("-Xmx" + HEAP_MIB + "m"));
                 MongoClient client = MongoClients.create(MongoClientSettings.builder()
                         .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + port))
                         .credential(MongoCredential.createPlainCredential("agent", "$external", KeyTool.mint(key,
                                 "https://issuer.test", "agent", List.of("phigate"), Duration.ofMinutes(5), Map.of())
                                 .toCharArray()))
                         .build())) {
                long documents = 0;
                long bytes = 0;
                long clearSsns = 0;
                try (MongoCursor<RawBsonDocument> cursor = client.getDatabase("clinic")
                        .getCollection("patients", RawBsonDocument.class).find().batchSize(BATCH).iterator()) {
                    while (cursor.hasNext()) {
                        RawBsonDocument d = cursor.next();
                        documents++;
                        bytes += d.getByteBuffer().remaining();
                        if (d.getString("ssn").getValue().equals(SSN)) {
                            clearSsns++;
                        }
                    }
                }

                assertThat(documents).isEqualTo(DOCUMENTS);
                assertThat(bytes).isGreaterThan(3L * HEAP_MIB * 1024 * 1024);
                assertThat(clearSsns).isZero();
                assertThat(gateway.isAlive()).isTrue();
            }
        }
    }

    /**
     * A store that makes its documents up as it sends them, so the test's own heap holds one batch, not the cursor:
     * it answers the gateway's isMaster, a find and its getMores with {@code batchSize} copies of {@link #PATIENT}
     * until {@link #DOCUMENTS} are sent, and anything else with ok.
     */
    private static ServerSocket generatingUpstream() throws IOException {
        ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    private static void serve(Socket s) {
        try (s) {
            FrameReader in = new FrameReader(s.getInputStream(), 1 << 20);
            OutputStream out = s.getOutputStream();
            long sent = 0;
            Frame f;
            while ((f = in.next()) != null) {
                BsonDocument command = ((OpMsg) WireCodec.decode(f)).body();
                String name = command.getFirstKey();
                BsonDocument reply;
                if (name.equals("isMaster") || name.equals("hello")) {
                    reply = BsonDocument.parse("{ismaster: true, minWireVersion: 0, maxWireVersion: 8,"
                            + " maxBsonObjectSize: 16777216, maxMessageSizeBytes: 48000000, ok: 1}");
                } else if (name.equals("find") || name.equals("getMore")) {
                    int n = (int) Math.min(command.getInt32("batchSize").getValue(), DOCUMENTS - sent);
                    sent += n;
                    reply = new BsonDocument("cursor", new BsonDocument("id", new BsonInt64(sent < DOCUMENTS ? 7 : 0))
                            .append("ns", new BsonString("clinic.patients"))
                            .append(name.equals("find") ? "firstBatch" : "nextBatch",
                                    new BsonArray(Collections.nCopies(n, PATIENT))))
                            .append("ok", new org.bson.BsonInt32(1));
                } else {
                    reply = BsonDocument.parse("{ok: 1}");
                }
                out.write(WireCodec.encode(new OpMsg(new MsgHeader(0, 1, f.header().requestId(), WireMessage.OP_MSG),
                        0, WireCodec.raw(reply), List.of())));
                out.flush();
            }
        } catch (IOException e) {
            // the gateway closed
        }
    }
}
