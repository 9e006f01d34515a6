package io.phigate.mongo.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mongo.backend.UpstreamFacts;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.wire.MongoError;
import java.nio.charset.StandardCharsets;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

class HelloReplyTest {
    private static final UpstreamFacts SERVER = new UpstreamFacts(0, 21, 16 * 1024 * 1024, 48_000_000, 100_000, 30);

    @Test
    void theHelloOffersNoCompressionNoSpeculativeAuthAndTheSmallerLimit() {
        BsonDocument reply = HelloReply.answer(BsonDocument.parse("{hello: 1, helloOk: true, compression: ['zstd'],"
                + " speculativeAuthenticate: {saslStart: 1}, $db: 'admin'}"), SERVER, 8_000_000, 5);
        assertThat(reply).doesNotContainKeys("compression", "speculativeAuthenticate", "topologyVersion", "setName");
        assertThat(reply.getBoolean("isWritablePrimary").getValue()).isTrue();
        assertThat(reply.getInt32("maxMessageSizeBytes").getValue()).isEqualTo(8_000_000);
        assertThat(reply.getInt32("maxWireVersion").getValue()).isEqualTo(21);
        assertThat(reply.getInt32("logicalSessionTimeoutMinutes").getValue()).isEqualTo(30);
        assertThat(HelloReply.answer(BsonDocument.parse("{isMaster: 1}"), SERVER, 64_000_000, 5)
                .getInt32("maxMessageSizeBytes").getValue()).isEqualTo(48_000_000);
    }

    @Test
    void theLegacyNameGetsTheLegacyField() {
        BsonDocument reply = HelloReply.answer(BsonDocument.parse("{isMaster: 1}"), SERVER, 48_000_000, 1);
        assertThat(reply.getBoolean("ismaster").getValue()).isTrue();
        assertThat(reply).doesNotContainKey("helloOk");
    }

    private static BsonDocument saslStart(String mechanism, String payload) {
        return new BsonDocument("saslStart", new org.bson.BsonInt32(1)).append("mechanism", new BsonString(mechanism))
                .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void plainCredentialsAreTheUserAndTheTokenAndNeverPrintTheToken() throws Exception {
        PlainCredentials c = PlainCredentials.read(saslStart("PLAIN", "\0agent\0eyJ.token.sig"), "$external");
        assertThat(c.user()).isEqualTo("agent");
        assertThat(c.token()).isEqualTo("eyJ.token.sig");
        assertThat(c.toString()).doesNotContain("eyJ");
        // An authzid other than the user is refused since decision 0052 (PlainCredentialsTest).
        assertThat(PlainCredentials.read(saslStart("PLAIN", "agent\0agent\0t"), "$external").token()).isEqualTo("t");
    }

    @Test
    void otherMechanismsDatabasesAndShapesAreRefused() {
        assertThatThrownBy(() -> PlainCredentials.read(saslStart("SCRAM-SHA-256", "n,,n=a,r=x"), "admin"))
                .isInstanceOfSatisfying(CommandException.class,
                        e -> assertThat(e.error()).isEqualTo(MongoError.MECHANISM_UNAVAILABLE));
        assertThatThrownBy(() -> PlainCredentials.read(saslStart("PLAIN", "\0a\0t"), "admin"))
                .hasMessageContaining("$external");
        assertThatThrownBy(() -> PlainCredentials.read(saslStart("PLAIN", "no-separators"), "$external"))
                .hasMessageContaining("malformed");
        assertThatThrownBy(() -> PlainCredentials.read(saslStart("PLAIN", "\0a\0" + "x".repeat(20_000)), "$external"))
                .hasMessageContaining("exceeds");
    }
}
