package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.phigate.TestConfigs;
import io.phigate.audit.CheckpointKeys;
import io.phigate.identity.KeyTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys the audit trail depends on are checked before the gateway listens: a gateway that cannot sign checkpoints
 * or encrypt payloads as configured must not start and quietly produce weaker evidence.
 */
class ServeRefusesToStartTest {
    private static final String CHECKPOINTED = """
            store: sqlite:audit.db
            checkpoints:
              key_file: keys/audit-signing.key
            """;

    @TempDir
    Path dir;

    /**
     * Runs {@code serve} with real identity keys, so that only the audit keys can stop it; a serve that started
     * anyway would block, hence the timeout.
     */
    private TestAccess.Result serve(Path config) throws Exception {
        KeyTool.generate(dir.resolve("keys"), true);
        return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> TestAccess.capture("serve", "--config", config.toString()));
    }

    @Test
    void aMissingCheckpointSigningKeyStopsServeWithTheKeyAndFileNamed() throws Exception {
        TestAccess.Result r = serve(TestConfigs.write(dir, CHECKPOINTED));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("audit.checkpoints.key_file").contains("audit-signing.key");
        assertThat(Files.exists(dir.resolve("audit.db"))).as("no store was created").isFalse();
    }

    @Test
    void anUnreadableCheckpointSigningKeyStopsServe() throws Exception {
        Path key = dir.resolve("keys/audit-signing.key");
        Files.createDirectories(key.getParent());
        Files.writeString(key, "this is not a key\n");
        TestAccess.Result r = serve(TestConfigs.write(dir, CHECKPOINTED));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("audit-signing.key").doesNotContain("JWKS");
    }

    @Test
    void aMissingPayloadEncryptionKeyStopsServe() throws Exception {
        CheckpointKeys.generate(dir.resolve("keys/audit-signing.key"));
        TestAccess.Result r = serve(TestConfigs.write(dir, """
                store: sqlite:audit.db
                encryption:
                  key_id: k1
                  key_file: keys/payload.key
                """));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("payload.key").doesNotContain("JWKS");
    }
}
