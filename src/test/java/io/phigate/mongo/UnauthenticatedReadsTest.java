package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Before it authenticates, a client has the idle limit (here 600 ms) for each whole message, measured by a timer that
 * shuts the socket's input rather than by a socket timeout (which would make every later read of the session a poll
 * more, decision 0059): a silent client and one trickling a byte at a time are closed at it; a monitoring connection
 * saying hello within it stays; an authenticated session has no limit.
 */
class UnauthenticatedReadsTest {
    private static final Duration LIMIT = Duration.ofMillis(600);
    @TempDir
    Path dir;
    MongoHarness gateway;

    @BeforeEach
    void start() throws Exception {
        gateway = new MongoHarness(dir, null, io.phigate.mongo.masking.DocumentPolicy.NONE, s ->
                new MongoFrontDoor.Settings(s.upstreamName(), s.upstream(), s.maxMessageBytes(), s.maxConnections(),
                        LIMIT, s.responseCap(), s.identity(), s.tls(), s.upstreamTls(), s.threads(),
                        s.upstreamLogin()));
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    private static byte[] hello() {
        return io.phigate.mongo.wire.WireCodec.reply(1, 0, BsonDocument.parse("{hello: 1, client: {application:"
                + " {name: 'trickle'}}, $db: 'admin'}"));
    }

    @Test
    void aSilentClientIsClosedAtTheLimit() throws Exception {
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            long start = System.nanoTime();
            assertThat(c.closedByGateway()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(LIMIT.minusMillis(100),
                    Duration.ofSeconds(5));
        }
    }

    @Test
    void aClientTricklingItsFirstMessageIsClosedAtTheLimitNotKeptAliveByEachByte() throws Exception {
        byte[] hello = hello();
        assertThat(hello.length * 100L).as("the trickle outlasts the limit many times").isGreaterThan(5_000);
        try (RawMongoClient c = new RawMongoClient(gateway)) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = c.socket.getOutputStream();
                    for (byte b : hello) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(100);
                    }
                } catch (IOException | InterruptedException e) {
                    // the gateway closed the connection
                }
            });
            long start = System.nanoTime();
            assertThat(c.closedByGateway()).as("closed without an answer").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            writer.interrupt();
        }
    }

    @Test
    void aMonitorSayingHelloWithinTheLimitStaysAndAnAuthenticatedSessionHasNoLimit() throws Exception {
        try (RawMongoClient agent = new RawMongoClient(gateway)) {
            agent.authenticate(gateway.token());
            RawMongoClient monitor = new RawMongoClient(gateway); // its first hello is due within the limit too
            for (int i = 0; i < 5; i++) {
                Thread.sleep(LIMIT.toMillis() / 2);
                int id = monitor.send(hello());
                assertThat(monitor.reply(id).getBoolean("isWritablePrimary").getValue()).isTrue();
            }
            monitor.close();
            Thread.sleep(LIMIT.toMillis() * 2);
            assertThat(agent.reply(agent.command("{ping: 1, $db: 'admin'}")).getNumber("ok").intValue()).isEqualTo(1);
        }
    }
}
