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
}
