package io.phigate.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The verifier an ephemeral role is created with, checked by the real server and a real driver. */
class ScramVerifierTest {

    @Test
    void aVerifierOfANonAsciiPasswordAcceptsTheDriversSaslprepLogin() throws Exception {
        String role = "phigate_verifier_" + Long.toHexString(System.nanoTime());
        String suffix = UUID.randomUUID().toString();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD "
                    + AdminSql.literal(EphemeralRoles.scramVerifier("\u2168-" + suffix)));
            s.execute("GRANT CONNECT ON DATABASE clinical TO " + role);
        }
        try {
            // pgjdbc prepares "IX-..." and the roman numeral alike; a verifier of the raw bytes would refuse one.
            for (String password : new String[]{"\u2168-" + suffix, "IX-" + suffix}) {
                Properties p = new Properties();
                p.setProperty("user", role);
                p.setProperty("password", password);
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                        + TestDatabase.get().port() + "/clinical", p);
                     Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo(role);
                }
            }
        } finally {
            try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
                s.execute("DROP OWNED BY " + role);
                s.execute("DROP ROLE " + role);
            }
        }
    }
}
