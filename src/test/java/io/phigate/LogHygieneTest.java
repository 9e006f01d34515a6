package io.phigate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Operational logs never carry tokens, passwords, statement text, parameters or values, whatever happens in a
 * session: errors that quote values, refused tokens, protocol violations.
 */
class LogHygieneTest {
    private static final String SEEDED_SSN = "078-05-1120";
    private static final String SEEDED_NAME = "Zebediah Quillfeather";

    @TempDir
    Path dir;

    @Test
    void noTokenPasswordOrSeededPhiReachesTheApplicationLog() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        root.setLevel(Level.DEBUG);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        String token;
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            token = gw.token();
            Properties p = new Properties();
            p.setProperty("user", "triage-agent");
            p.setProperty("password", token);
            try (Connection c = DriverManager.getConnection(gw.jdbcUrl(), p); Statement s = c.createStatement()) {
                s.execute("create temp table t (ssn text primary key, name text)");
                try (PreparedStatement ps = c.prepareStatement("insert into t values (?, ?)")) {
                    ps.setString(1, SEEDED_SSN);
                    ps.setString(2, SEEDED_NAME);
                    ps.executeUpdate();
                    // A duplicate key error quotes the value in its detail.
                    assertThatThrownBy(ps::executeUpdate).hasMessageContaining("duplicate key");
                }
                s.executeQuery("select * from t where name = '" + SEEDED_NAME + "'").close();
            }
            Properties bad = new Properties();
            bad.setProperty("user", "triage-agent");
            bad.setProperty("password", token.substring(0, token.length() - 4) + "AAAA");
            assertThatThrownBy(() -> DriverManager.getConnection(gw.jdbcUrl(), bad).close());
        } finally {
            root.detachAppender(captured);
            root.setLevel(before);
        }
        assertThat(captured.list).isNotEmpty();
        String secret = TestDatabase.get().password();
        for (ILoggingEvent e : captured.list) {
            String line = e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage());
            assertThat(line).doesNotContain(SEEDED_SSN).doesNotContain(SEEDED_NAME)
                    .doesNotContain(token.substring(40, 80)).doesNotContain(secret).doesNotContain("insert into t");
        }
    }
}
