package io.phigate.pg.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway's own queries on an upstream end with an error when the server is slow or stops answering. */
class HousekeepingClientTest {

    private static UpstreamConfig upstream() {
        TestDatabase db = TestDatabase.get();
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", db.port()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, db.user(), new SecretRef(null, db.passwordFile())),
                UpstreamTlsConfig.DISABLED);
    }

    @Test
    void aSlowStatementIsCancelledByTheServersStatementTimeoutAndTheConnectionStaysUsable() throws Exception {
        try (HousekeepingClient c = HousekeepingClient.open(upstream(), "phigate test", Duration.ofMillis(300))) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> c.query("SELECT pg_sleep(10)"))
                    .isInstanceOfSatisfying(HousekeepingClient.Refused.class,
                            e -> assertThat(e.sqlState()).isEqualTo("57014"));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
            assertThat(c.query("SELECT 1")).isEqualTo(List.of(List.of("1")));
        }
    }

    @Test
    void aServerThatStopsAnsweringEndsTheQueryAtTheReadTimeout() throws Exception {
        try (HousekeepingClient c = HousekeepingClient.open(upstream(), "phigate test", Duration.ofMillis(300))) {
            // Lifting the server's own timeout leaves only the socket's: the timeout plus READ_GRACE.
            c.query("SET statement_timeout = 0");
            long started = System.nanoTime();
            assertThatThrownBy(() -> c.query("SELECT pg_sleep(30)")).isInstanceOf(SocketTimeoutException.class);
            Duration waited = Duration.ofNanos(System.nanoTime() - started);
            assertThat(waited).isGreaterThanOrEqualTo(HousekeepingClient.READ_GRACE)
                    .isLessThan(HousekeepingClient.READ_GRACE.plusSeconds(5));
        }
    }

    @Test
    void theCatalogAndAdminConnectionsCarryTheStatementTimeout() throws Exception {
        try (HousekeepingClient c = HousekeepingClient.open(upstream(), "phigate test")) {
            assertThat(c.query("SHOW statement_timeout")).isEqualTo(List.of(List.of("30s")));
        }
        try (var admin = HousekeepingClient.admin(name -> upstream()).open("clinical")) {
            assertThat(admin.query("SELECT current_setting('statement_timeout'), current_setting('application_name')"))
                    .isEqualTo(List.of(List.of("30s", "phigate-admin")));
        }
    }
}
