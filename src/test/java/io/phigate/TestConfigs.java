package io.phigate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The smallest valid gateway configuration, for tests that exercise commands reading a config file rather than a
 * running gateway. Only the {@code audit} block differs between them.
 */
public final class TestConfigs {
    /** Everything but the {@code audit} section. */
    public static final String WITHOUT_AUDIT = """
            listen:
              postgres: 127.0.0.1:6432
            upstreams:
              clinical:
                address: 127.0.0.1
                credentials:
                  user: phigate
                  password_env: CLINICAL_DB_PASSWORD
            identity:
              issuers:
                - issuer: https://issuer.example
                  audience: phigate
                  jwks_file: keys/jwks.json
            """;

    private TestConfigs() {
    }

    /**
     * Writes {@code dir/phigate.yaml} with {@code auditBlock} (the keys under {@code audit:}, unindented) and the
     * empty {@code dir/keys/jwks.json} the loader requires to exist.
     */
    public static Path write(Path dir, String auditBlock) throws IOException {
        Files.createDirectories(dir.resolve("keys"));
        Files.writeString(dir.resolve("keys/jwks.json"), "{\"keys\": []}");
        Path config = dir.resolve("phigate.yaml");
        Files.writeString(config, WITHOUT_AUDIT + "audit:\n" + auditBlock.indent(2));
        return config;
    }
}
