package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.credentials.EphemeralRoles;
import io.phigate.identity.KeyTool;
import io.phigate.identity.TokenVerifier;
import io.phigate.net.Listener;
import io.phigate.pg.backend.HousekeepingClient;
import io.phigate.pg.frontend.ClientHandshake;
import io.phigate.policy.Policy;
import io.phigate.session.SessionRegistry;
import io.phigate.sql.CatalogCache;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a connection holds (its session slot, its upstream connection, its ephemeral session user) is released by
 * one owner whichever way the connection ends, including a runtime exception after the upstream login and before
 * the session runs: here the audit store fails with an unchecked exception as the session-start record is written.
 */
class ResourcesReleasedOnEveryPathTest {
    private static final String ADMIN = "phigate_test_owner_admin";
    private static final String GROUP = "phigate_test_owner_group";
    private static final String ADMIN_PASSWORD = "admin-" + java.util.UUID.randomUUID();

    @TempDir
    Path dir;

    @BeforeAll
    static void adminAndGroup() throws SQLException {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN"
                    + " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + ADMIN + "') THEN"
                    + "   CREATE ROLE " + ADMIN + " LOGIN CREATEROLE; END IF;"
                    + " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + GROUP + "') THEN"
                    + "   CREATE ROLE " + GROUP + " NOLOGIN; END IF; END $$");
            s.execute("ALTER ROLE " + ADMIN + " PASSWORD '" + ADMIN_PASSWORD + "'");
            s.execute("GRANT pg_signal_backend TO " + ADMIN);
            s.execute("GRANT " + GROUP + " TO " + ADMIN + " WITH ADMIN OPTION");
            s.execute("GRANT CONNECT ON DATABASE clinical TO " + GROUP + ", " + ADMIN);
        }
    }

    /** An audit store that keeps events in memory and, while armed, fails as a session-start record is written. */
    static final class FailingAudit implements AuditSink {
        final List<AuditEvent> events = new CopyOnWriteArrayList<>();
        volatile boolean armed = true;
        volatile String failedUpstreamUser;

        @Override
        public CompletableFuture<Void> append(List<AuditEvent> batch) {
            events.addAll(batch);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void appendDurably(List<AuditEvent> batch) {
            if (armed && batch.getFirst() instanceof AuditEvent.SessionStarted s) {
                failedUpstreamUser = s.upstreamUser();
                throw new IllegalStateException("injected: the audit store failed unexpectedly");
            }
            events.addAll(batch);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aRuntimeFailureBeforeTheSessionRunsReleasesTheSlotTheUpstreamAndTheSessionUser() throws Exception {
        Path password = dir.resolve("admin.password");
        Files.writeString(password, ADMIN_PASSWORD + "\n");
        UpstreamConfig upstream = new UpstreamConfig("clinical", new HostPort("127.0.0.1", TestDatabase.get().port()),
                "clinical", new CredentialsConfig(CredentialsConfig.Mode.EPHEMERAL, ADMIN, new SecretRef(null, password),
                GROUP), UpstreamTlsConfig.DISABLED);
        GatewayConfig config = GatewayHarness.defaultConfig(dir, upstream);
        Path key = KeyTool.generate(dir.resolve("keys"));
        FailingAudit audit = new FailingAudit();
        SessionRegistry registry = new SessionRegistry(1);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        EphemeralRoles roles = new EphemeralRoles("owner-test", HousekeepingClient.admin(config.upstreams()::get));
        PgFrontDoor door = new PgFrontDoor(config, Policy.NONE, new CatalogCache(name -> {
            throw new IOException("no catalog is read without a policy");
        }), null, new ClientHandshake(config.tls(), null, new TokenVerifier(config.identity())), audit, registry,
                timers, roles);
        try (Listener listener = new Listener("owner-test", new InetSocketAddress("127.0.0.1", 0), door)) {
            listener.start();
            String token = KeyTool.mint(key, GatewayHarness.ISSUER, GatewayHarness.AGENT,
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
            String url = "jdbc:postgresql://127.0.0.1:" + listener.address().getPort() + "/clinical?sslmode=disable";

            assertThatThrownBy(() -> connect(url, token).close()).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("XX000"));
            String user = audit.failedUpstreamUser;
            assertThat(user).as("the failure came after the session user was made").startsWith(EphemeralRoles.PREFIX);

            awaitTrue("the upstream backend has ended", () -> backends(user) == 0);
            awaitTrue("the session user is dropped", () -> !roleExists(user));
            awaitTrue("the only session slot is free again", () -> {
                boolean free = registry.reserve();
                if (free) {
                    registry.release();
                }
                return free;
            });
            assertThat(registry.size()).isZero();

            // The gateway is whole: with the store working again the next session runs in that one slot.
            audit.armed = false;
            try (Connection c = connect(url, token); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_user")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).startsWith(EphemeralRoles.PREFIX).isNotEqualTo(user);
            }
        } finally {
            timers.shutdownNow();
        }
    }

    private static Connection connect(String url, String token) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", token);
        return DriverManager.getConnection(url, p);
    }

    private static int backends(String user) {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + user + "'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean roleExists(String user) {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + user + "'")) {
            return rs.next();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(condition.getAsBoolean()).as(what).isTrue();
    }
}
