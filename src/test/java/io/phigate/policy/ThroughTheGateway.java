package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** What the policy tests that cross the real gateway with pgjdbc share: a session in one query mode, a refusal. */
final class ThroughTheGateway {
    private ThroughTheGateway() {
    }

    /** A session signed in as {@code subject}, pgjdbc sending statements in {@code mode} (simple, extended, ...). */
    static Connection as(GatewayHarness gw, String subject, String mode) throws Exception {
        return as(gw, subject, mode, new Properties());
    }

    /** As {@link #as(GatewayHarness, String, String)}, with further connection properties. */
    static Connection as(GatewayHarness gw, String subject, String mode, Properties extra) throws Exception {
        Properties p = new Properties();
        p.putAll(extra);
        p.setProperty("preferQueryMode", mode);
        return gw.connectAs(subject, p);
    }

    /** An SSN some patient of the test database has, read past the gateway: a guess a lookup answers yes to. */
    static String firstSsn() throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ssn FROM patients WHERE ssn IS NOT NULL ORDER BY id LIMIT 1")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    /** {@code sql} is refused as out of the session's policy (42501), the message naming {@code named}. */
    static void assertRefused(Statement s, String sql, String named) {
        assertThatThrownBy(() -> s.execute(sql)).as(sql)
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).as(e.getMessage())
                        .isEqualTo("42501"))
                .hasMessageContaining(named);
    }
}
