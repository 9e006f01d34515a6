package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.RestartablePostgres;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream PostgreSQL goes away under a running gateway: a dedicated embedded server on a fixed port, so it
 * can be stopped and started again on the same data. Sessions on it end with a connection-class error and an
 * audit record saying the upstream was lost; connections while it is down are refused with 08006 and audited;
 * once it is back, new sessions work without restarting the gateway.
 */
class UpstreamFaultsTest {
    /** What a client may see when the server under its session goes away: shutdown or a broken connection. */
    private static final Set<String> CONNECTION_CLASS = Set.of("57P01", "08006", "08003");

    @TempDir
    Path dir;
    private EmbeddedPostgres postgres;

    @AfterEach
    void stop() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    /** The upstream "clinical" at {@code port} as the superuser, whom zonky's trust rules let in. */
    private UpstreamConfig upstream(int port) throws Exception {
        Path password = dir.resolve("pw");
        Files.writeString(password, "unused-under-trust\n");
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", port), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, "postgres", new SecretRef(null, password)),
                UpstreamTlsConfig.DISABLED);
    }

    @Test
    void upstreamRestartedMidSessionEndsTheSessionAuditedAndNewSessionsWorkOnceItIsBack() throws Exception {
        int port = ChildGateway.freePort();
        Path data = dir.resolve("pg");
        postgres = RestartablePostgres.startWithDatabase(data, port, "clinical");
        try (GatewayHarness gw = GatewayHarness.start(dir, upstream(port))) {
            Connection session = gw.connect();
            try (ResultSet rs = session.createStatement().executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }

            postgres.close(); // pg_ctl stop -m fast: backends are terminated with 57P01
            postgres = null;
            assertThatThrownBy(() -> session.createStatement().executeQuery("select 2").close())
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(CONNECTION_CLASS).contains(((SQLException) e).getSQLState()));
            session.close();
            assertThat(gw.auditEventually("kind = 'session_ended'", 1))
                    .singleElement().satisfies(r -> assertThat((String) r.get("detail")).contains("\"reason\":\"upstream connection lost\""));

            // While it is down: a clear refusal, audited with the upstream it was for.
            assertThatThrownBy(() -> gw.connect().close()).isInstanceOf(SQLException.class).satisfies(e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("08006");
                assertThat(e.getMessage()).contains("could not connect to upstream 'clinical'");
            });
            List<Map<String, Object>> refused = gw.audit("kind = 'connection_refused' and sqlstate = '08006'");
            assertThat(refused).hasSize(1);
            assertThat(refused.getFirst().get("upstream")).isEqualTo("clinical");

            postgres = RestartablePostgres.start(data, port);
            try (Connection again = gw.connect(); ResultSet rs = again.createStatement().executeQuery("select 3")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(3);
            }
        }
    }

    @Test
    void anUpstreamThatWasNeverThereIsRefusedWith08006AndAudited() throws Exception {
        int nobody = ChildGateway.freePort();
        try (GatewayHarness gw = GatewayHarness.start(dir, upstream(nobody))) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> gw.connect().close()).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08006"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            assertThat(gw.audit("kind = 'connection_refused' and sqlstate = '08006' and upstream = 'clinical'"))
                    .hasSize(1);
        }
    }
}
