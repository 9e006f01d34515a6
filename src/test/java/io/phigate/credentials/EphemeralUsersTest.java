package io.phigate.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.identity.KeyTool;
import io.phigate.pg.backend.HousekeepingClient;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ephemeral upstream users against the real (embedded) PostgreSQL: one least-privileged, expiring login role per
 * session, gone when the session ends, and swept by the janitor after a kill -9.
 */
class EphemeralUsersTest {
    static final String ADMIN = "phigate_test_admin";
    static final String GROUP = "clinical_reader";
    static final String ADMIN_PASSWORD = "admin-" + java.util.UUID.randomUUID();

    @TempDir
    Path dir;

    @BeforeAll
    static void adminAndGroup() throws SQLException {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("""
                    DO $$ BEGIN
                      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'phigate_test_admin') THEN
                        CREATE ROLE phigate_test_admin LOGIN CREATEROLE;
                      END IF;
                      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clinical_reader') THEN
                        CREATE ROLE clinical_reader NOLOGIN;
                      END IF;
                    END $$""");
            s.execute("ALTER ROLE " + ADMIN + " PASSWORD '" + ADMIN_PASSWORD + "'");
            // To end a leftover session user's backends (PostgreSQL 16+ also needs ADMIN OPTION on the group).
            s.execute("GRANT pg_signal_backend TO " + ADMIN);
            s.execute("GRANT CONNECT ON DATABASE clinical TO " + GROUP + ", " + ADMIN);
            s.execute("GRANT USAGE ON SCHEMA public TO " + GROUP);
            s.execute("GRANT SELECT ON patients TO " + GROUP);
        }
    }

    private Path adminPasswordFile() throws Exception {
        Path file = dir.resolve("admin.password");
        Files.writeString(file, ADMIN_PASSWORD + "\n");
        return file;
    }

    private UpstreamConfig ephemeralUpstream() throws Exception {
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", TestDatabase.get().port()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.EPHEMERAL, ADMIN, new SecretRef(null, adminPasswordFile()),
                        GROUP), UpstreamTlsConfig.DISABLED);
    }

    static List<Map<String, Object>> sessionUsers() throws SQLException {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT rolname, rolvaliduntil, rolsuper, rolcreaterole, rolcreatedb,"
                     + " rolconnlimit, rolinherit FROM pg_roles WHERE rolname LIKE 'phigate\\_e\\_%' ORDER BY 1")) {
            while (rs.next()) {
                out.add(Map.of("name", rs.getString(1), "validUntil", String.valueOf(rs.getTimestamp(2)),
                        "super", rs.getBoolean(3), "createrole", rs.getBoolean(4), "createdb", rs.getBoolean(5),
                        "connlimit", rs.getInt(6), "inherit", rs.getBoolean(7)));
            }
        }
        return out;
    }

    static boolean exists(String role) throws SQLException {
        return sessionUsers().stream().anyMatch(r -> r.get("name").equals(role));
    }

    static void awaitGone(String role) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (exists(role) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(exists(role)).as("session user %s dropped", role).isFalse();
    }

    @Test
    void eachSessionGetsItsOwnLeastPrivilegedExpiringUserDroppedAtTheEnd() throws Exception {
        UpstreamConfig upstream = ephemeralUpstream();
        try (GatewayHarness gw = GatewayHarness.start(dir, upstream)) {
            String user;
            try (Connection c = gw.connect(); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT current_user, count(*) FROM patients")) {
                    assertThat(rs.next()).isTrue();
                    user = rs.getString(1);
                    assertThat(user).startsWith(EphemeralRoles.PREFIX);
                    assertThat(rs.getLong(2)).isPositive();
                }
                Map<String, Object> role = sessionUsers().stream().filter(r -> r.get("name").equals(user))
                        .findFirst().orElseThrow();
                assertThat(role.get("validUntil")).isNotEqualTo("null");
                assertThat(role).containsEntry("super", false).containsEntry("createrole", false)
                        .containsEntry("createdb", false).containsEntry("connlimit", 1);
                // Outside the group's grants PostgreSQL itself refuses, whatever the gateway lets through.
                assertThatThrownBy(() -> s.executeQuery("SELECT * FROM encounters LIMIT 1"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
                assertThatThrownBy(() -> s.executeUpdate("DELETE FROM patients"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
                assertThatThrownBy(() -> s.execute("SET ROLE " + ADMIN))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            awaitGone(user);
            assertThat((String) gw.audit("kind = 'session_started'").getFirst().get("detail"))
                    .contains("\"upstream_user\":\"" + user + "\"");
        }
    }

    @Test
    void whatASessionUserCreatesEndsWithItAndNeverKeepsItFromBeingDropped() throws Exception {
        UpstreamConfig upstream = ephemeralUpstream();
        String user = null;
        long largeObject = -1;
        try (GatewayHarness gw = GatewayHarness.start(dir, upstream)) {
            try (Connection c = gw.connect(); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT current_user")) {
                    rs.next();
                    user = rs.getString(1);
                }
                // Without CREATE on any schema a role still owns what it makes: a large object (which may hold what it
                // read, granted to anyone) and default privileges; either kept DROP ROLE failing, the user alive.
                try (ResultSet rs = s.executeQuery("SELECT lo_from_bytea(0, convert_to('copied rows', 'UTF8'))")) {
                    rs.next();
                    largeObject = rs.getLong(1);
                }
                s.execute("GRANT SELECT ON LARGE OBJECT " + largeObject + " TO PUBLIC");
                s.execute("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC");
            }
            awaitGone(user);
            try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) = 0 FROM pg_largeobject_metadata WHERE oid = "
                         + largeObject)) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("the session user's objects are gone with it").isTrue();
            }
        } finally {
            try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
                if (user != null && exists(user)) {
                    s.execute("DROP OWNED BY " + user);
                    s.execute("DROP ROLE " + user);
                }
            }
        }
    }

    @Test
    void aMissingGroupRefusesTheSessionAndLeavesNoUser() throws Exception {
        UpstreamConfig good = ephemeralUpstream();
        UpstreamConfig bad = new UpstreamConfig(good.name(), good.address(), good.database(),
                new CredentialsConfig(CredentialsConfig.Mode.EPHEMERAL, ADMIN, good.credentials().password(),
                        "no_such_group"), UpstreamTlsConfig.DISABLED);
        int before = sessionUsers().size();
        try (GatewayHarness gw = GatewayHarness.start(dir, bad)) {
            assertThatThrownBy(() -> gw.connect().close()).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getMessage()).contains("could not create a session user", "no_such_group"));
        }
        assertThat(sessionUsers()).hasSize(before);
    }

    @Test
    void theJanitorDropsOnlyMarkedLeftoversThatAreExpiredOrFromAnEarlierRun() throws Exception {
        String suffix = Long.toHexString(System.nanoTime());
        String notOurs = EphemeralRoles.PREFIX + "x" + suffix;
        String expired = EphemeralRoles.PREFIX + "e" + suffix;
        String otherReplicaLive = EphemeralRoles.PREFIX + "o" + suffix;
        String earlierRun = EphemeralRoles.PREFIX + "r" + suffix;
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + notOurs + " NOLOGIN");
            s.execute("CREATE ROLE " + expired + " LOGIN VALID UNTIL '2000-01-01'");
            s.execute("COMMENT ON ROLE " + expired + " IS '" + EphemeralRoles.MARKER + "; replica=other; instance=a'");
            s.execute("CREATE ROLE " + otherReplicaLive + " LOGIN VALID UNTIL 'infinity'");
            s.execute("COMMENT ON ROLE " + otherReplicaLive + " IS '" + EphemeralRoles.MARKER
                    + "; replica=other; instance=b'");
            s.execute("CREATE ROLE " + earlierRun + " LOGIN VALID UNTIL 'infinity'");
            s.execute("COMMENT ON ROLE " + earlierRun + " IS '" + EphemeralRoles.MARKER
                    + "; replica=this; instance=before-the-crash'");
        }
        try {
            UpstreamConfig upstream = ephemeralUpstream();
            List<String> dropped = new EphemeralRoles("this", HousekeepingClient.admin(Map.of(upstream.name(),
                    upstream)::get)).sweep(upstream.name());
            assertThat(dropped).contains(expired, earlierRun).doesNotContain(notOurs, otherReplicaLive);
            assertThat(exists(notOurs)).isTrue();
            assertThat(exists(otherReplicaLive)).isTrue();
        } finally {
            try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + notOurs + ", " + otherReplicaLive + ", " + expired + ", "
                        + earlierRun);
            }
        }
    }

    @Test
    void afterKillNineTheJanitorOfTheNextRunDropsTheLeftoverUser() throws Exception {
        TestDatabase db = TestDatabase.get();
        int port = ChildGateway.freePort();
        KeyTool.generate(dir.resolve("keys"));
        Path config = dir.resolve("phigate.yaml");
        Files.writeString(config, """
                listen:
                  postgres: 127.0.0.1:%d
                upstreams:
                  clinical:
                    address: 127.0.0.1:%d
                    credentials:
                      mode: ephemeral
                      user: %s
                      password_file: %s
                      group: %s
                identity:
                  issuers:
                    - issuer: %s
                      audience: %s
                      jwks_file: keys/jwks.json
                audit:
                  store: sqlite:audit.db
                  replica: janitor-test
                """.formatted(port, db.port(), ADMIN, adminPasswordFile(), GROUP, GatewayHarness.ISSUER,
                GatewayHarness.AUDIENCE));
        String token = KeyTool.mint(dir.resolve("keys").resolve(KeyTool.PRIVATE_KEY_FILE), GatewayHarness.ISSUER,
                GatewayHarness.AGENT, List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", token);
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable";
        String user;
        try (ChildGateway first = ChildGateway.start(config, port, dir.resolve("first.log"));
             Connection c = DriverManager.getConnection(url, p); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user")) {
            assertThat(rs.next()).isTrue();
            user = rs.getString(1);
            first.kill();
        }
        assertThat(exists(user)).as("left behind by the killed gateway").isTrue();
        try (ChildGateway second = ChildGateway.start(config, port, dir.resolve("second.log"))) {
            awaitGone(user);
        }
    }

    @Test
    void aSessionUserThatSetsItsOwnPasswordCannotLogInOutsideTheGatewayAfterACrash() throws Exception {
        TestDatabase db = TestDatabase.get();
        int port = ChildGateway.freePort();
        KeyTool.generate(dir.resolve("keys"));
        Path config = dir.resolve("phigate.yaml");
        Files.writeString(config, """
                listen:
                  postgres: 127.0.0.1:%d
                upstreams:
                  clinical:
                    address: 127.0.0.1:%d
                    credentials:
                      mode: ephemeral
                      user: %s
                      password_file: %s
                      group: %s
                identity:
                  issuers:
                    - issuer: %s
                      audience: %s
                      jwks_file: keys/jwks.json
                audit:
                  store: sqlite:audit.db
                  replica: own-password-test
                """.formatted(port, db.port(), ADMIN, adminPasswordFile(), GROUP, GatewayHarness.ISSUER,
                GatewayHarness.AUDIENCE));
        String token = KeyTool.mint(dir.resolve("keys").resolve(KeyTool.PRIVATE_KEY_FILE), GatewayHarness.ISSUER,
                GatewayHarness.AGENT, List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(10), Map.of());
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", token);
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable";
        String user;
        try (ChildGateway gateway = ChildGateway.start(config, port, dir.resolve("gateway.log"));
             Connection c = DriverManager.getConnection(url, p); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                user = rs.getString(1);
            }
            // Any role may change its own password: the agent now knows a password the database accepts.
            s.execute("ALTER ROLE CURRENT_USER PASSWORD 'chosen-by-the-agent'");
            gateway.kill();
        }
        try {
            assertThat(exists(user)).as("left behind by the killed gateway").isTrue();
            Properties direct = new Properties();
            direct.setProperty("user", user);
            direct.setProperty("password", "chosen-by-the-agent");
            assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + db.port()
                    + "/clinical?sslmode=disable", direct).close())
                    .as("a direct login as the session user, around the gateway").isInstanceOf(SQLException.class);
        } finally {
            try (Connection c = db.superuser(); Statement s = c.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + user);
            }
        }
    }
}
