package io.phigate.pg.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class UpstreamConnectionTest {

    @Test
    void md5PasswordFollowsThePostgresFormula() throws GeneralSecurityException {
        byte[] salt = {1, 2, 3, 4};

        // PostgreSQL docs: concat('md5', md5(concat(md5(concat(password, username)), random-salt))),
        // where each inner md5 is the lowercase hex string.
        MessageDigest md = MessageDigest.getInstance("MD5");
        String inner = HexFormat.of().formatHex(md.digest("postgrespostgres".getBytes(StandardCharsets.US_ASCII)));
        byte[] outerInput = new byte[inner.length() + salt.length];
        System.arraycopy(inner.getBytes(StandardCharsets.US_ASCII), 0, outerInput, 0, inner.length());
        System.arraycopy(salt, 0, outerInput, inner.length(), salt.length);
        String expected = "md5" + HexFormat.of().formatHex(md.digest(outerInput));

        String actual = UpstreamConnection.md5("postgres", "postgres", salt);

        assertThat(actual).isEqualTo(expected).hasSize(35).matches("md5[0-9a-f]{32}");
    }
}
