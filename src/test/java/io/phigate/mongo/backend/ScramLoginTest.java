package io.phigate.mongo.backend;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.config.DocumentsConfig;
import io.phigate.mask.SecretRef;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

/** Replies a store must not give fail the login at the step they came in, and never name the password. */
class ScramLoginTest {
    private static final DocumentsConfig.Credentials LOGIN = new DocumentsConfig.Credentials("gateway",
            new SecretRef("UNUSED", null), "admin");
    private static final String PASSWORD = "s3cret-pass";

    private static void login(BsonDocument... replies) throws Exception {
        ArrayDeque<BsonDocument> script = new ArrayDeque<>(List.of(replies));
        ScramLogin.run(LOGIN, PASSWORD, command -> script.isEmpty() ? failure("no more replies") : script.poll());
    }

    private static BsonDocument reply(boolean done, String payload) {
        return new BsonDocument("conversationId", new BsonInt32(1)).append("done", BsonBoolean.valueOf(done))
                .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)))
                .append("ok", new BsonDouble(1));
    }

    private static BsonDocument failure(String message) {
        return new BsonDocument("ok", new BsonDouble(0)).append("errmsg", new BsonString(message))
                .append("codeName", new BsonString("AuthenticationFailed"));
    }

    @Test
    void aRefusedStartNamesTheStepAndTheServersReason() {
        assertThatThrownBy(() -> login(failure("Authentication failed.")))
                .isInstanceOf(UpstreamConnection.LoginRefused.class)
                .hasMessage("SCRAM-SHA-256 as gateway (source admin) failed at saslStart: refused: Authentication"
                        + " failed. (AuthenticationFailed)");
    }

    @Test
    void aStoreThatSaysDoneBeforeAnyProofIsRefused() {
        assertThatThrownBy(() -> login(reply(true, "")))
                .isInstanceOf(UpstreamConnection.LoginRefused.class)
                .hasMessageContaining("failed at saslStart: answered done: true, expected false");
    }

    @Test
    void aStartWithoutAConversationIdOrPayloadIsRefused() {
        assertThatThrownBy(() -> login(new BsonDocument("ok", new BsonDouble(1)).append("done", BsonBoolean.FALSE)))
                .hasMessageContaining("failed at saslStart: answered without a conversationId");
        assertThatThrownBy(() -> login(new BsonDocument("ok", new BsonDouble(1)).append("done", BsonBoolean.FALSE)
                .append("conversationId", new BsonInt32(1)).append("payload", new BsonString("r=x"))))
                .hasMessageContaining("failed at saslStart: answered without a binary payload");
    }

    @Test
    void aServerFirstMessageThatDoesNotExtendOurNonceIsRefusedWithoutThePassword() {
        assertThatThrownBy(() -> login(reply(false, "r=someoneElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")))
                .isInstanceOf(UpstreamConnection.LoginRefused.class)
                .hasMessageContaining("failed at saslStart")
                .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).doesNotContain(PASSWORD));
    }
}
