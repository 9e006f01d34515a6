package io.phigate.pg.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.mask.SecretRef;
import io.phigate.sql.CatalogFingerprint;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The shared catalog reading keeps one connection per upstream (decision 0081), against a real PostgreSQL. */
class FingerprintConnectionsTest {
    private static final String PURPOSE = "phigate fingerprint test";

    private final AtomicInteger opened = new AtomicInteger();
    private final AtomicLong now = new AtomicLong();
    private final FingerprintConnections connections = new FingerprintConnections(name -> {
        opened.incrementAndGet();
        try {
            return HousekeepingClient.open(upstream(), PURPOSE);
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }, Duration.ofMinutes(1), now::get);

    private static UpstreamConfig upstream() {
        TestDatabase db = TestDatabase.get();
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", db.port()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, db.user(), new SecretRef(null, db.passwordFile())),
                UpstreamTlsConfig.DISABLED);
    }

    @Test
    void readingsShareOneConnectionWhichIsClosedWhenIdleAndWhenTheGatewayStops() throws Exception {
        try (connections) {
            String first = connections.read("clinical");
            for (int i = 0; i < 5; i++) {
                now.addAndGet(Duration.ofSeconds(1).toNanos());
                assertThat(connections.read("clinical")).isEqualTo(first);
            }
            assertThat(opened).hasValue(1);
            assertThat(serverConnections()).isEqualTo(1);
            now.addAndGet(Duration.ofSeconds(59).toNanos());
            connections.closeIdle(); // used 59 s ago: kept
            assertThat(connections.open()).isEqualTo(1);
            now.addAndGet(Duration.ofSeconds(1).toNanos());
            connections.closeIdle();
            assertThat(connections.open()).isZero();
            assertThat(connections.read("clinical")).isEqualTo(first);
            assertThat(opened).hasValue(2);
        }
        assertThat(connections.open()).isZero();
        assertThatThrownBy(() -> connections.read("clinical")).isInstanceOf(IOException.class);
        assertThat(opened).hasValue(2);
    }

    @Test
    void aConnectionTheServerEndedIsReplacedWithinTheSameReading() throws Exception {
        try (connections) {
            String first = connections.read("clinical");
            try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
                        + PURPOSE + "'");
            }
            assertThat(connections.read("clinical")).isEqualTo(first);
            assertThat(opened).hasValue(2);
        }
    }

    /**
     * The reading's wall time as the shared reading used to make it (a login for each) and as it makes it now (one
     * query on the kept connection); printed for decision 0081, and the kept one must not be the slower.
     */
    @Test
    void aReadingOnTheKeptConnectionCostsOneQueryNotALogin() throws Exception {
        int runs = 30;
        long[] fresh = new long[runs];
        long[] kept = new long[runs];
        try (connections) {
            connections.read("clinical");
            for (int round = 0; round < 2; round++) { // the first round warms both paths
                for (int i = 0; i < runs; i++) {
                    long t = System.nanoTime();
                    try (HousekeepingClient c = HousekeepingClient.open(upstream(), "phigate catalog")) {
                        CatalogFingerprint.read(c);
                    }
                    fresh[i] = System.nanoTime() - t;
                    t = System.nanoTime();
                    connections.read("clinical");
                    kept[i] = System.nanoTime() - t;
                }
            }
        }
        Arrays.sort(fresh);
        Arrays.sort(kept);
        System.out.printf("fingerprint reading, %d runs: a connection each: median %.2f ms, min %.2f ms;"
                        + " kept connection: median %.2f ms, min %.2f ms%n", runs, fresh[runs / 2] / 1e6,
                fresh[0] / 1e6, kept[runs / 2] / 1e6, kept[0] / 1e6);
        assertThat(kept[runs / 2]).isLessThan(fresh[runs / 2]);
        assertThat(opened).hasValue(1);
    }

    private static int serverConnections() throws Exception {
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                     + PURPOSE + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
