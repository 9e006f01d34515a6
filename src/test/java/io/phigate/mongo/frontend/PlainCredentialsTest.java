package io.phigate.mongo.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mongo.command.CommandException;
import java.nio.charset.StandardCharsets;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

/** The SASL PLAIN initial response, read as mongod reads it. */
class PlainCredentialsTest {
    private static BsonDocument saslStart(String mechanism, String payload) {
        return new BsonDocument("saslStart", new BsonInt32(1)).append("mechanism", new BsonString(mechanism))
                .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void anAuthorizationIdentityEqualToTheUserOrEmptyIsAccepted() throws Exception {
        assertThat(PlainCredentials.read(saslStart("PLAIN", "agent\0agent\0tok"), "$external").user())
                .isEqualTo("agent");
        assertThat(PlainCredentials.read(saslStart("PLAIN", "\0agent\0tok"), "$external").token()).isEqualTo("tok");
    }

    @Test
    void anAuthorizationIdentityOtherThanTheUserIsRefusedAsMongodRefusesIt() {
        assertThatThrownBy(() -> PlainCredentials.read(saslStart("PLAIN", "admin\0agent\0tok"), "$external"))
                .isInstanceOfSatisfying(CommandException.class, e -> assertThat(e.error().code()).isEqualTo(18))
                .hasMessage("SASL authorization identity must match authentication identity");
    }

    @Test
    void scramIsRefusedWithMechanismUnavailableNamingPlain() {
        assertThatThrownBy(() -> PlainCredentials.read(saslStart("SCRAM-SHA-256", "n,,n=agent,r=abc"), "admin"))
                .isInstanceOfSatisfying(CommandException.class, e -> assertThat(e.error().code()).isEqualTo(334))
                .hasMessageContaining("Received authentication for mechanism SCRAM-SHA-256 which is unknown or not"
                        + " enabled")
                .hasMessageContaining("PLAIN");
    }
}
