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
 * Operational logs and /metrics never carry tokens, upstream passwords, statement text, bound parameters or
 * values, whatever happens in a session: errors that quote values or parameters, refused tokens. The log is
 * captured at DEBUG, including exception causes.
 */
class LogHygieneTest {
    private static final String SEEDED_SSN = "078-05-1120";
    private static final String SEEDED_NAME = "Zebediah Quillfeather";
    /** A bound parameter that is not PHI-shaped, so only "parameters never logged" can keep it out. */
    private static final String BOUND_PARAMETER = "bound-param-7431";

    @TempDir
    Path dir;

    private static String line(ILoggingEvent e) {
        StringBuilder b = new StringBuilder(e.getFormattedMessage());
        for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
            b.append('\n').append(t.getMessage());
        }
        return b.toString();
    }

    private static java.util.List<String> concat(java.util.List<String> lines, String more) {
        java.util.List<String> all = new java.util.ArrayList<>(lines);
        all.add(more);
        return all;
    }

    @Test
    void noTokenPasswordParameterOrSeededPhiReachesTheApplicationLogOrMetrics() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        root.setLevel(Level.DEBUG);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        String token;
        String metrics;
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> new io.phigate.config.GatewayConfig(
                new io.phigate.config.GatewayConfig.Listen(c.listen().postgres(), new io.phigate.config.HostPort("127.0.0.1", 0)),
                c.upstreams(), c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir()))) {
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
                try (PreparedStatement ps = c.prepareStatement("select count(*) from t where name = ? or ssn = ?")) {
                    ps.setString(1, BOUND_PARAMETER);
                    ps.setString(2, SEEDED_SSN);
                    ps.executeQuery().close();
                }
                // A type error quotes the bad parameter back in the server's message.
                try (PreparedStatement ps = c.prepareStatement("select count(*) from t where length(ssn) = ?::int")) {
                    ps.setString(1, BOUND_PARAMETER);
                    assertThatThrownBy(() -> ps.executeQuery().close()).hasMessageContaining(BOUND_PARAMETER);
                }
                metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create("http://127.0.0.1:" + gw.gateway().httpAddress().getPort() + "/metrics")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
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
        assertThat(metrics).contains("phigate_sessions_active");
        String secret = TestDatabase.get().password();
        for (String output : concat(captured.list.stream().map(LogHygieneTest::line).toList(), metrics)) {
            assertThat(output).doesNotContain(SEEDED_SSN).doesNotContain(SEEDED_NAME).doesNotContain(BOUND_PARAMETER)
                    .doesNotContain(token.substring(40, 80)).doesNotContain(secret).doesNotContain("insert into t")
                    .doesNotContain("where name =");
        }
    }
}
