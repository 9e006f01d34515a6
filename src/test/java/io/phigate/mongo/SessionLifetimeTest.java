package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionLifetimeTest {
    @TempDir
    Path dir;

    @Test
    void aSessionWhoseTokenExpiredIsRefusedItsNextCommandAndClosed() throws Exception {
        try (MongoHarness gateway = new MongoHarness(dir);
             RawMongoClient c = new RawMongoClient(gateway)) {
            c.authenticate(gateway.token(Duration.ofSeconds(1)));
            assertThat(c.reply(c.command("{ping: 1, $db: 'admin'}")).getNumber("ok").intValue()).isEqualTo(1);
            Thread.sleep(Duration.ofSeconds(1 + 5 + 1)); // the token's life, the verifier's clock skew, a margin
            BsonDocument refused = c.reply(c.command("{find: 'patients', $db: 'clinic'}"));
            assertThat(refused.getInt32("code").getValue()).isEqualTo(13);
            assertThat(refused.getString("errmsg").getValue()).contains("expired");
            assertThat(c.closedByGateway()).isTrue();
            assertThat(gateway.relay.commands).doesNotContain("find");
            assertThat(gateway.auditEventually("kind = 'session_ended'", 1)).singleElement()
                    .satisfies(r -> assertThat((String) r.get("detail")).contains("expired"));
        }
    }

    @Test
    void noSessionStartsWhenItsStartCannotBeRecorded() throws Exception {
        try (MongoHarness gateway = new MongoHarness(dir);
             RawMongoClient c = new RawMongoClient(gateway)) {
            gateway.sink.failing.set(true);
            BsonDocument start = BsonDocument.parse("{saslStart: 1, mechanism: 'PLAIN', $db: '$external'}")
                    .append("payload", new org.bson.BsonBinary(("\0agent\0" + gateway.token())
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            BsonDocument refused = c.reply(c.command(start));
            assertThat(refused.getString("codeName").getValue()).isEqualTo("InternalError");
            assertThat(refused.getString("errmsg").getValue()).contains("audit store");
            assertThat(c.closedByGateway()).isTrue();
        }
    }

    @Test
    void anUnreachableUpstreamFailsAuthenticationWithHostUnreachable() throws Exception {
        java.net.InetSocketAddress nowhere;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            nowhere = new java.net.InetSocketAddress("127.0.0.1", s.getLocalPort());
        }
        try (MongoHarness gateway = new MongoHarness(dir, nowhere);
             RawMongoClient c = new RawMongoClient(gateway)) {
            BsonDocument start = BsonDocument.parse("{saslStart: 1, mechanism: 'PLAIN', $db: '$external'}")
                    .append("payload", new org.bson.BsonBinary(("\0agent\0" + gateway.token())
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertThat(c.reply(c.command(start)).getString("codeName").getValue()).isEqualTo("HostUnreachable");
            assertThat(gateway.audit("kind = 'connection_refused'")).singleElement()
                    .satisfies(r -> assertThat(r.get("subject")).isEqualTo(MongoHarness.AGENT));
        }
    }

    @Test
    void anUpstreamThatNeverAnswersItsHelloFailsAuthenticationWithinTheConnectTimeout() throws Exception {
        try (var silent = new java.net.ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress());
             MongoHarness gateway = new MongoHarness(dir,
                     new java.net.InetSocketAddress("127.0.0.1", silent.getLocalPort()));
             RawMongoClient c = new RawMongoClient(gateway)) {
            c.socket.setSoTimeout(20_000);
            BsonDocument start = BsonDocument.parse("{saslStart: 1, mechanism: 'PLAIN', $db: '$external'}")
                    .append("payload", new org.bson.BsonBinary(("\0agent\0" + gateway.token())
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            long begin = System.nanoTime();
            assertThat(c.reply(c.command(start)).getString("codeName").getValue()).isEqualTo("HostUnreachable");
            assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(15));
        }
    }
}
