package io.phigate.pg.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.TestDatabase;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Upstream SCRAM logins against the real PostgreSQL, which prepares passwords with SASLprep when it stores them. */
class UpstreamScramTest {
    private static final String ROLE = "phigate_scram_" + Long.toHexString(System.nanoTime());
    /** ROMAN NUMERAL NINE and a soft hyphen: SASLprep makes this "IX-" followed by the suffix. */
    private static final String SUFFIX = UUID.randomUUID().toString();
    private static final String PASSWORD = "\u2168\u00AD-" + SUFFIX;

    @BeforeAll
    static void roleWithANonAsciiPassword() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + PASSWORD + "'");
            s.execute("GRANT CONNECT ON DATABASE clinical TO " + ROLE);
        }
    }

    @AfterAll
    static void dropRole() throws Exception {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP OWNED BY " + ROLE);
            s.execute("DROP ROLE " + ROLE);
        }
    }

    private static UpstreamConfig upstream() {
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", TestDatabase.get().port()), "clinical", null,
                UpstreamTlsConfig.DISABLED);
    }

    @Test
    void aNonAsciiPasswordLogsInAsTheServerPreparedIt() throws Exception {
        try (UpstreamConnection up = UpstreamConnection.open(upstream(), ROLE, () -> PASSWORD, Map.of(), 1 << 20)) {
            assertThat(up.key()).isNotNull();
        }
        // The same password as SASLprep writes it is the same password to the server.
        try (UpstreamConnection up = UpstreamConnection.open(upstream(), ROLE, () -> "IX-" + SUFFIX, Map.of(),
                1 << 20)) {
            assertThat(up.key()).isNotNull();
        }
    }

    @Test
    void aWrongPasswordIsRefusedByTheServer() {
        assertThatThrownBy(() -> UpstreamConnection.open(upstream(), ROLE, () -> "IY-" + SUFFIX, Map.of(), 1 << 20)
                .close()).isInstanceOfSatisfying(UpstreamException.class,
                e -> assertThat(e.getMessage()).contains("28P01"));
    }
}
