package io.phigate.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.ChildGateway;
import io.phigate.GatewayHarness;
import io.phigate.RestartablePostgres;
import io.phigate.TestDatabase;
import io.phigate.cli.TestAccess;
import io.phigate.clients.ClientTools;
import io.phigate.identity.KeyTool;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * Issue 24's "done when": three gateway replicas, each its own JVM, behind Debian's HAProxy (TCP, round robin),
 * sharing one PostgreSQL audit store. A statement held on replica a is approved through replica b's API and
 * completes on a; a cancel that the balancer sends to another replica than the session's cancels its pg_sleep;
 * an admin on one replica ends a session on another; kill -9 of replica c under pgbench loses no record, the
 * others keep serving, c's held request expires on the record when its lease runs out, and every chain verifies.
 */
class ThreeReplicasBehindHaproxyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;
    private EmbeddedPostgres auditDb;
    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private Haproxy balancer;
    private Path jwtKey;

    /** One replica: its folder, ports and process. */
    record Replica(String name, Path dir, int pgPort, int httpPort, ChildGateway process) {
        String api() {
            return "http://127.0.0.1:" + httpPort;
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (balancer != null) {
            balancer.close();
        }
        for (Replica r : replicas.values()) {
            r.process().close();
        }
        if (auditDb != null) {
            auditDb.close();
        }
    }

    @Test
    void threeReplicasShareApprovalsCancelsKillsAndOneVerifiedAuditStore() throws Exception {
        Path pgbench = ClientTools.find("pgbench");
        Haproxy.binary();
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS replica_probe");
            s.execute("CREATE TABLE replica_probe (id int primary key)");
            s.execute("INSERT INTO replica_probe SELECT generate_series(1, 10)");
            s.execute("DROP TABLE IF EXISTS replica_counter");
            s.execute("CREATE TABLE replica_counter (id bigserial primary key, client int)");
        }
        int auditPort = ChildGateway.freePort();
        auditDb = RestartablePostgres.startWithDatabase(dir.resolve("audit-pg"), auditPort, "phigate_audit");
        jwtKey = KeyTool.generate(dir.resolve("keys"));
        Files.writeString(dir.resolve("policy.yaml"), """
                approvers:
                  phi-approvers:
                    match: { issuer: "%s", claims: { groups: "phi-approvers" } }
                rules:
                  - name: held-deletes
                    when: { operations: [delete], tables: [replica_probe] }
                    require_approval: { group: phi-approvers, timeout: 2m }
                """.formatted(GatewayHarness.ISSUER));
        List<CompletableFuture<Replica>> starting = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            starting.add(CompletableFuture.supplyAsync(() -> startReplica(name, auditPort)));
        }
        for (CompletableFuture<Replica> f : starting) {
            Replica r = f.get(90, TimeUnit.SECONDS);
            replicas.put(r.name(), r);
        }
        Map<String, Integer> servers = new LinkedHashMap<>();
        replicas.values().forEach(r -> servers.put(r.name(), r.pgPort()));
        balancer = Haproxy.start(dir, servers);

        heldOnAApprovedThroughBsApiCompletesOnA();
        cancelSentToAnotherReplicaCancelsTheSleep();
        killFromOneReplicaEndsASessionOnAnother();
        kill9UnderPgbenchLosesNoRecordAndExpiresTheDeadReplicasRequests(pgbench);

        assertThat(TestAccess.run("audit", "verify", "--config", replicas.get("a").dir().resolve("phigate.yaml")
                .toString())).as("audit verify over every replica's chain").isZero();
        try (Connection c = audit(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT replica FROM audit_event WHERE replica IS NOT NULL"
                     + " ORDER BY 1")) {
            List<String> chains = new ArrayList<>();
            while (rs.next()) {
                chains.add(rs.getString(1));
            }
            assertThat(chains).containsExactly("a", "b", "c");
        }
    }

    private void heldOnAApprovedThroughBsApiCompletesOnA() throws Exception {
        try (Connection onA = connect(replicas.get("a").pgPort())) {
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> update(onA,
                    "DELETE FROM replica_probe WHERE id = 1"));
            JsonNode request = pending(replicas.get("b"), "id = 1");
            long decided = System.nanoTime();
            HttpResponse<String> approved = call("POST", replicas.get("b").api() + "/api/v1/approvals/"
                    + request.get("id").asText() + "/approve", approver("alice@hospital.example"),
                    "{\"reason\": \"checked\"}");
            assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
            assertThat(held.get(20, TimeUnit.SECONDS)).as("the held DELETE ran on a once b recorded the approval")
                    .isEqualTo(1);
            System.out.printf("approval on b to completion on a: %d ms%n", (System.nanoTime() - decided) / 1_000_000);
        }
        assertThat(probeRows("id = 1")).isZero();
        assertThat(auditRows("kind = 'approval_decided' AND outcome = 'approved' AND replica = 'b'")).isEqualTo(1);
        assertThat(auditRows("kind = 'approval_decided' AND outcome = 'used' AND replica = 'a'")).isEqualTo(1);
    }

    private void cancelSentToAnotherReplicaCancelsTheSleep() throws Exception {
        try (Connection session = connect(balancer.port); Statement sleep = session.createStatement()) {
            String owner = replicaOf(session);
            CompletableFuture<SQLException> running = CompletableFuture.supplyAsync(() -> {
                try {
                    sleep.execute("SELECT pg_sleep(60)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Thread.sleep(1_000);
            Map<String, Long> before = balancer.connectionsPerServer();
            long started = System.nanoTime();
            sleep.cancel();
            SQLException cancelled = running.get(15, TimeUnit.SECONDS);
            System.out.printf("cancel through the balancer to the end of pg_sleep on %s: %d ms%n", owner,
                    (System.nanoTime() - started) / 1_000_000);
            assertThat(cancelled == null ? null : cancelled.getSQLState()).as("pg_sleep(60) was cancelled")
                    .isEqualTo("57014");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            Map<String, Long> after = balancer.connectionsPerServer();
            List<String> cancelWentTo = after.keySet().stream().filter(s -> after.get(s) > before.get(s)).toList();
            assertThat(cancelWentTo).as("HAProxy sent the cancel's connection to one replica").hasSize(1);
            assertThat(cancelWentTo.getFirst()).as("the cancel landed on another replica than %s's session", owner)
                    .isNotEqualTo(owner);
            assertThat(auditRows("kind = 'cancel_requested'")).as("the cancel is recorded once").isEqualTo(1);
            assertThat(auditRows("kind = 'cancel_requested' AND replica = '" + owner + "'"))
                    .as("by the replica holding the session, which it reached").isEqualTo(1);
        }
    }

    private void killFromOneReplicaEndsASessionOnAnother() throws Exception {
        try (Connection victim = connect(balancer.port)) {
            String owner = replicaOf(victim);
            Replica admin = replicas.values().stream().filter(r -> !r.name().equals(owner)).findFirst().orElseThrow();
            String adminConfig = admin.dir().resolve("phigate.yaml").toString();
            String id = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (id == null && System.nanoTime() < deadline) {
                TestAccess.Result list = TestAccess.capture("sessions", "list", "--config", adminConfig);
                assertThat(list.exitCode()).as(list.err()).isZero();
                for (String line : list.out().split("\n")) {
                    String[] cells = line.split("\t");
                    if (cells.length == 6 && cells[5].equals(owner)) {
                        id = cells[0];
                    }
                }
                Thread.sleep(100);
            }
            assertThat(id).as("sessions list on replica %s shows the session %s holds", admin.name(), owner).isNotNull();
            TestAccess.Result killed = TestAccess.capture("sessions", "kill", id.substring(0, 8), "--config",
                    adminConfig);
            assertThat(killed.exitCode()).as(killed.out() + killed.err()).isZero();
            assertThat(killed.out()).contains("killed 1 session(s)").contains(id);
            assertThatThrownBy(() -> victim.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("57P01", "08006", "08003"));
            assertThat(auditRows("kind = 'session_ended' AND session_id = '" + id + "' AND replica = '" + owner + "'"))
                    .as("the kill is recorded once, by the replica that held the session").isEqualTo(1);
        }
    }

    private void kill9UnderPgbenchLosesNoRecordAndExpiresTheDeadReplicasRequests(Path pgbench) throws Exception {
        Replica c = replicas.get("c");
        Connection onC = connect(c.pgPort());
        CompletableFuture<Integer> heldOnC = CompletableFuture.supplyAsync(() -> update(onC,
                "DELETE FROM replica_probe WHERE id = 2"));
        String requestOnC = pending(replicas.get("a"), "id = 2").get("id").asText();

        Path script = dir.resolve("insert.sql");
        Files.writeString(script, "insert into replica_counter (client) values (:client_id);\n");
        ProcessBuilder pb = new ProcessBuilder(pgbench.toString(), "-n", "-c", "6", "-j", "2", "-T", "8",
                "-f", script.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("pgbench.log").toFile());
        pb.environment().putAll(Map.of("PGPASSWORD", agentToken(), "PGHOST", "127.0.0.1",
                "PGPORT", String.valueOf(balancer.port), "PGUSER", "bench-agent", "PGDATABASE", "clinical",
                "PGSSLMODE", "disable"));
        Process bench = pb.start();
        long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (executed() < 50 && System.nanoTime() < warm) {
            Thread.sleep(20);
        }
        assertThat(executed()).as("inserts flowing through the balancer").isGreaterThanOrEqualTo(50);
        c.process().kill();
        long atKill = executed();
        assertThat(bench.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(executed()).as("the replicas left kept serving pgbench's other clients").isGreaterThan(atKill + 50);
        assertThat(heldOnC.handle((n, e) -> e).get(10, TimeUnit.SECONDS)).as("c's held statement died with it")
                .isNotNull();
        onC.close();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (balancer.up("c") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        for (int i = 0; i < 4; i++) {
            try (Connection fresh = connect(balancer.port); Statement s = fresh.createStatement()) {
                s.execute("SELECT 1");
            }
        }
        assertThat(executed()).as("no insert ran without its request record, in any chain")
                .isLessThanOrEqualTo(auditRows("kind = 'statement_requested' AND statement LIKE 'insert into replica_counter%'"));

        // c's lease (15 s) runs out: a or b expires its held request on the record.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        String where = "kind = 'approval_decided' AND outcome = 'expired' AND detail LIKE '%" + requestOnC
                + "%' AND detail LIKE '%lease%' AND replica IN ('a', 'b')";
        while (auditRows(where) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertThat(auditRows(where)).as("the dead replica's request expired once, on the record").isEqualTo(1);
        HttpResponse<String> gone = call("POST", replicas.get("b").api() + "/api/v1/approvals/" + requestOnC
                + "/approve", approver("alice@hospital.example"), "{}");
        assertThat(gone.statusCode()).as("an expired request cannot be approved: %s", gone.body()).isEqualTo(409);
        assertThat(probeRows("id = 2")).isEqualTo(1);

        // c restarts: it hands nothing stale to an agent, and serves again.
        Replica again = new Replica("c", c.dir(), c.pgPort(), c.httpPort(), ChildGateway.start(
                c.dir().resolve("phigate.yaml"), c.pgPort(), c.dir().resolve("gateway-again.log"),
                List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")));
        replicas.put("c", again);
        try (Connection s = audit(); Statement q = s.createStatement(); ResultSet rs = q.executeQuery(
                "SELECT count(*) FROM approval_state WHERE replica = 'c' AND state IN ('pending', 'approved')")) {
            rs.next();
            assertThat(rs.getInt(1)).as("nothing of c's previous run is pending or redeemable").isZero();
        }
        assertThat(auditRows("kind = 'approval_decided' AND outcome = 'expired' AND detail LIKE '%" + requestOnC + "%'"))
                .as("c's restart does not expire again what a live replica expired").isEqualTo(1);
        try (Connection restarted = connect(again.pgPort()); Statement s = restarted.createStatement()) {
            s.execute("SELECT 1");
        }
    }

    private Replica startReplica(String name, int auditPort) {
        try {
            Path home = Files.createDirectories(dir.resolve(name));
            TestDatabase db = TestDatabase.get();
            Path password = home.resolve("audit.password");
            Files.writeString(password, "unused-under-trust\n");
            int pg = ChildGateway.freePort();
            int http = ChildGateway.freePort();
            Path config = home.resolve("phigate.yaml");
            Files.writeString(config, """
                    listen:
                      postgres: 127.0.0.1:%d
                      http: 127.0.0.1:%d
                    upstreams:
                      clinical:
                        address: 127.0.0.1:%d
                        database: clinical
                        credentials:
                          user: %s
                          password_file: %s
                    identity:
                      issuers:
                        - issuer: %s
                          audience: %s
                          jwks_file: %s
                    audit:
                      store: postgres://postgres@127.0.0.1:%d/phigate_audit
                      password_file: %s
                      replica: %s
                    policy: %s
                    """.formatted(pg, http, db.port(), db.user(), db.passwordFile(), GatewayHarness.ISSUER,
                    GatewayHarness.AUDIENCE, dir.resolve("keys/jwks.json"), auditPort, password, name,
                    dir.resolve("policy.yaml")));
            ChildGateway process = ChildGateway.start(config, pg, home.resolve("gateway.log"),
                    List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
            return new Replica(name, home, pg, http, process);
        } catch (Exception e) {
            throw new IllegalStateException("replica " + name + " did not start", e);
        }
    }

    private Connection connect(int port) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", agentToken());
        p.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/clinical?sslmode=disable", p);
    }

    private String agentToken() throws Exception {
        return KeyTool.mint(jwtKey, GatewayHarness.ISSUER, GatewayHarness.AGENT, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(10), Map.of());
    }

    private String approver(String subject) throws Exception {
        return KeyTool.mint(jwtKey, GatewayHarness.ISSUER, subject, List.of(GatewayHarness.AUDIENCE),
                Duration.ofMinutes(5), Map.of("groups", List.of("phi-approvers")));
    }

    /** The replica a session is on: the slot in the high bits of the process id its BackendKeyData gave. */
    private String replicaOf(Connection session) throws Exception {
        int slot = session.unwrap(PGConnection.class).getBackendPID() >>> Cluster.SLOT_SHIFT;
        try (Connection c = audit(); PreparedStatement p = c.prepareStatement(
                "SELECT name FROM cluster_replica WHERE slot = ?")) {
            p.setInt(1, slot);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).as("slot %d is a replica's", slot).isTrue();
                return rs.getString(1);
            }
        }
    }

    /** Waits for the one pending request whose statement contains {@code marker}, as replica {@code on} lists it. */
    private JsonNode pending(Replica on, String marker) throws Exception {
        String token = approver("alice@hospital.example");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = call("GET", on.api() + "/api/v1/approvals?status=pending", token, null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(r.body()).get("approvals")) {
                if (a.get("statement").asText().contains(marker)) {
                    return a;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("replica " + on.name() + " lists no pending request for " + marker);
    }

    private static HttpResponse<String> call(String method, String url, String token, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token);
        b = body == null ? b.GET() : b.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int update(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            return s.executeUpdate(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getSQLState() + " " + e.getMessage(), e);
        }
    }

    private Connection audit() throws SQLException {
        return auditDb.getDatabase("postgres", "phigate_audit").getConnection();
    }

    private long auditRows(String where) throws SQLException {
        try (Connection c = audit(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_event WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long probeRows(String where) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM replica_probe WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Executions of the insert as PostgreSQL counts them: the sequence advances even for ones rolled back. */
    private static long executed() throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                     + " FROM replica_counter_id_seq")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
