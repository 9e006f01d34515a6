package io.phigate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys issue 5 added: ephemeral credentials, revocation, the credential exchange. */
class AccessConfigTest {
    @TempDir
    Path dir;

    @BeforeEach
    void jwks() throws Exception {
        Files.createDirectories(dir.resolve("keys"));
        Files.writeString(dir.resolve("keys/jwks.json"), "{\"keys\":[]}");
    }

    private GatewayConfig parse(String credentials, String identityExtra) throws ConfigException {
        return ConfigLoader.parse("""
                listen:
                  postgres: 127.0.0.1:6432
                upstreams:
                  clinical:
                    address: 127.0.0.1
                    credentials:
                %s
                identity:
                  issuers:
                    - issuer: https://issuer.example
                      audience: phigate
                      jwks_file: keys/jwks.json
                %s
                audit:
                  store: sqlite:audit.db
                """.formatted(credentials.indent(6).stripTrailing(), identityExtra.indent(2).stripTrailing()),
                dir, "phigate.yaml");
    }

    @Test
    void ephemeralCredentialsNameAnAdminAndAGroup() throws Exception {
        GatewayConfig c = parse("""
                mode: ephemeral
                user: phigate_admin
                password_env: CLINICAL_ADMIN_PASSWORD
                group: clinical_reader""", "");
        CredentialsConfig creds = c.upstreams().get("clinical").credentials();
        assertThat(creds.mode()).isEqualTo(CredentialsConfig.Mode.EPHEMERAL);
        assertThat(creds.user()).isEqualTo("phigate_admin");
        assertThat(creds.group()).isEqualTo("clinical_reader");
    }

    @Test
    void ephemeralWithoutGroupAndStaticWithGroupAreRefused() {
        assertThatThrownBy(() -> parse("""
                mode: ephemeral
                user: phigate_admin
                password_env: X""", "")).hasMessageContaining("mode ephemeral needs group");
        assertThatThrownBy(() -> parse("""
                user: phigate
                password_env: X
                group: clinical_reader""", "")).hasMessageContaining("only mode ephemeral");
        assertThatThrownBy(() -> parse("""
                mode: ephemeral
                user: phigate_admin
                password_env: X
                group: "reader; DROP TABLE x\"""", "")).hasMessageContaining("expected a role name");
    }
}
