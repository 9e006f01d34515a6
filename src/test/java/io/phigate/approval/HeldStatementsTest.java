package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.identity.KeyTool;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statements held inside the live connection until a human decides, through pgjdbc and the approvals API: the
 * client gets the real result once approved, 42501 with the reason when denied, 57014 on timeout or cancel; nothing
 * reaches PostgreSQL before approval; approvers are checked; ticket mode; and every step is an audit record.
 */
class HeldStatementsTest {
    static final String AGENT = "system:serviceaccount:clinical:cleanup-agent";
    static final String ALICE = "alice@hospital.example";
    static final String BOB = "bob@hospital.example";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static ApprovalsApiClient api;
    static com.sun.net.httpserver.HttpServer webhook;
    static final java.util.concurrent.BlockingQueue<String> notified = new java.util.concurrent.LinkedBlockingQueue<>();

    @BeforeAll
    static void start() throws Exception {
        webhook = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/hook", exchange -> {
            notified.add(new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        webhook.start();
        Files.writeString(dir.resolve("policy.yaml"), """
                approvers:
                  phi-approvers:
                    match: { issuer: "%s", claims: { groups: "phi-approvers" } }
                    webhook: "http://127.0.0.1:%d/hook"
                rules:
                  - name: no-grants
                    when: { operations: [grant] }
                    deny: "grants are made by the DBA team"
                  - name: quick
                    when: { operations: [delete], tables: [held_quick] }
                    require_approval: { group: phi-approvers, approvers: 1, timeout: 1s }
                  - name: two-person
                    when: { operations: [update], tables: [held_probe] }
                    require_approval: { group: phi-approvers, approvers: 2, timeout: 30s }
                  - name: tickets
                    when: { operations: [delete], tables: [held_ticket] }
                    require_approval: { group: phi-approvers, approvers: 1, timeout: 30s, mode: ticket }
                  - name: destructive-writes
                    when: { operations: [delete, truncate] }
                    require_approval: { group: phi-approvers, approvers: 1, timeout: 30s, mode: hold }
                """.formatted(GatewayHarness.ISSUER, webhook.getAddress().getPort()));
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            for (String t : List.of("held_probe", "held_quick", "held_ticket")) {
                s.execute("DROP TABLE IF EXISTS " + t);
                s.execute("CREATE TABLE " + t + " (id int primary key, note text)");
                s.execute("INSERT INTO " + t + " SELECT g, 'row ' || g FROM generate_series(1, 20) g");
            }
        }
        gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"));
        api = new ApprovalsApiClient(gw);
    }

    @AfterAll
    static void stop() {
        gw.close();
        webhook.stop(0);
    }

    // ---- helpers ----

    private static Connection agent(String mode) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token(AGENT, Duration.ofMinutes(5)));
        p.setProperty("preferQueryMode", mode);
        return java.sql.DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    private static String approver(String subject) throws Exception {
        return api.approver(subject);
    }

    private static HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        return api.call(method, path, token, body);
    }

    /** Waits for the one pending request whose statement contains {@code marker}. */
    private static JsonNode pending(String marker) throws Exception {
        return api.pending(marker, ALICE);
    }

    private static int rows(String table, int id) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table + " WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    // ---- hold mode ----

    @Test
    void heldDeleteRunsOnlyAfterApprovalAndTheClientGetsItsResult() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            int id = mode.equals("simple") ? 1 : 2;
            try (Connection c = agent(mode)) {
                CompletableFuture<Integer> deleted = CompletableFuture.supplyAsync(() -> {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM held_probe WHERE id = ?")) {
                        ps.setInt(1, id);
                        return ps.executeUpdate();
                    } catch (SQLException e) {
                        throw new RuntimeException(e);
                    }
                });
                JsonNode request = pending("DELETE FROM held_probe");
                assertThat(request.get("rule").asText()).isEqualTo("destructive-writes");
                assertThat(request.get("subject").asText()).isEqualTo(AGENT);
                assertThat(request.get("tables").toString()).contains("held_probe");
                String hook = null;
                for (long end = System.nanoTime() + 10_000_000_000L; System.nanoTime() < end; ) {
                    String body = notified.poll(100, TimeUnit.MILLISECONDS);
                    if (body != null && body.contains(request.get("id").asText())) {
                        hook = body;
                        break;
                    }
                }
                assertThat(hook).as("the group's webhook is told").isNotNull().startsWith("{\"text\":")
                        .contains("destructive-writes").contains(AGENT).contains("/api/v1/approvals/")
                        .doesNotContain("DELETE");
                assertThat(deleted).isNotDone();
                assertThat(rows("held_probe", id)).as("nothing reached PostgreSQL before approval").isEqualTo(1);

                HttpResponse<String> approved = call("POST", "/api/v1/approvals/" + request.get("id").asText()
                        + "/approve", approver(ALICE), "{\"reason\": \"cleanup ticket 42\"}");
                assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
                assertThat(deleted.get(10, TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(rows("held_probe", id)).isZero();

                // the session carries on
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
                String aid = request.get("id").asText();
                String sha = request.get("statement_sha256").asText();
                List<String> shown = new java.util.ArrayList<>();
                request.get("parameters").forEach(v -> shown.add(v.asText()));
                // This policy has no roles, so an approver maps to none and sees every parameter redacted.
                assertThat(shown).hasSize(mode.equals("simple") ? 0 : 1).allSatisfy(v -> assertThat(v)
                        .contains("redacted"));
                // pgjdbc binds an int in binary: the record keeps it as \x hex
                List<String> params = mode.equals("simple") ? List.of() : List.of("\\x0000000" + id);
                assertThat(sha).isEqualTo(StatementHash.of(request.get("statement").asText(), params));
                List<Map<String, Object>> records = gw.auditEventually(
                        "detail like '%" + aid + "%' and kind like 'approval_%'", 3);
                assertThat(records).extracting(r -> r.get("kind")).containsExactly("approval_requested",
                        "approval_decided", "approval_decided");
                assertThat(records).allSatisfy(r -> assertThat((String) r.get("detail")).contains(sha));
                assertThat((String) records.get(1).get("detail")).contains("\"decision\":\"approved\"")
                        .contains("cleanup ticket 42");
                assertThat(records.get(1).get("subject")).isEqualTo(ALICE);
                assertThat((String) records.get(2).get("detail")).contains("\"decision\":\"used\"");
            }
        }
    }

    private static String upstreamState(String applicationName) throws SQLException {
        try (Connection c = TestDatabase.get().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT state FROM pg_stat_activity WHERE application_name = '"
                     + applicationName + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void whileHeldNoUpstreamTransactionIsOpenUnlessTheClientOpenedOne() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token(AGENT, Duration.ofMinutes(5)));
        p.setProperty("ApplicationName", "held-tx-probe");
        try (Connection c = java.sql.DriverManager.getConnection(gw.jdbcUrl(), p); Statement s = c.createStatement()) {
            CompletableFuture<Void> outside = CompletableFuture.runAsync(() -> {
                try {
                    s.executeUpdate("DELETE FROM held_probe WHERE id = 12");
                } catch (SQLException ignored) {
                    // cancelled below
                }
            });
            pending("id = 12");
            assertThat(upstreamState("held-tx-probe")).isEqualTo("idle");
            s.cancel();
            outside.get(10, TimeUnit.SECONDS);

            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO held_probe VALUES (100, 'in tx')");
            CompletableFuture<Void> inside = CompletableFuture.runAsync(() -> {
                try {
                    s.executeUpdate("DELETE FROM held_probe WHERE id = 13");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            String id = pending("id = 13").get("id").asText();
            assertThat(upstreamState("held-tx-probe")).as("the client's transaction stays open while held")
                    .isEqualTo("idle in transaction");
            call("POST", "/api/v1/approvals/" + id + "/deny", approver(ALICE), "{\"reason\": \"no\"}");
            assertThatThrownBy(() -> inside.get(10, TimeUnit.SECONDS)).rootCause()
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            assertThat(upstreamState("held-tx-probe")).as("a denial aborts it, as a failed statement would")
                    .isEqualTo("idle in transaction (aborted)");
            c.rollback();
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM held_probe WHERE id IN (13, 100)")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("row 13 kept, the transaction's insert rolled back").isEqualTo(1);
        }
    }

    @Test
    void deniedStatementGets42501WithTheApproversReason() throws Exception {
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            CompletableFuture<Void> attempt = CompletableFuture.runAsync(() -> {
                try {
                    s.executeUpdate("DELETE FROM held_probe WHERE id = 5");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            JsonNode request = pending("id = 5");
            HttpResponse<String> r = call("POST", "/api/v1/approvals/" + request.get("id").asText() + "/deny",
                    approver(BOB), "{\"reason\": \"not during the audit\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS)).hasRootCauseInstanceOf(SQLException.class)
                    .rootCause().satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("not during the audit");
                    });
            assertThat(rows("held_probe", 5)).isEqualTo(1);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void undecidedStatementTimesOutWith57014() throws Exception {
        try (Connection c = agent("extended"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM held_quick WHERE id = 3"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("57014");
                        assertThat(e.getMessage()).contains("not decided");
                    });
            assertThat(rows("held_quick", 3)).isEqualTo(1);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void cancelWithdrawsTheRequest() throws Exception {
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            CompletableFuture<Void> attempt = CompletableFuture.runAsync(() -> {
                try {
                    s.executeUpdate("DELETE FROM held_probe WHERE id = 7");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            JsonNode request = pending("id = 7");
            s.cancel();
            assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS)).rootCause()
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            HttpResponse<String> r = call("GET", "/api/v1/approvals/" + request.get("id").asText(), approver(ALICE), null);
            assertThat(JSON.readTree(r.body()).get("state").asText()).isEqualTo("withdrawn");
            HttpResponse<String> late = call("POST", "/api/v1/approvals/" + request.get("id").asText() + "/approve",
                    approver(ALICE), null);
            assertThat(late.statusCode()).isEqualTo(409);
            assertThat(rows("held_probe", 7)).isEqualTo(1);
        }
    }

    @Test
    void disconnectWithdrawsTheRequest() throws Exception {
        Connection c = agent("simple");
        Statement s = c.createStatement();
        CompletableFuture.runAsync(() -> {
            try {
                s.executeUpdate("DELETE FROM held_probe WHERE id = 8");
            } catch (SQLException ignored) {
                // the connection is closed under it
            }
        });
        JsonNode request = pending("id = 8");
        c.unwrap(org.postgresql.jdbc.PgConnection.class).getQueryExecutor().abort();
        long deadline = System.nanoTime() + 10_000_000_000L;
        String state = "pending";
        while (state.equals("pending") && System.nanoTime() < deadline) {
            Thread.sleep(50);
            state = JSON.readTree(call("GET", "/api/v1/approvals/" + request.get("id").asText(), approver(ALICE), null)
                    .body()).get("state").asText();
        }
        assertThat(state).isEqualTo("withdrawn");
    }

    @Test
    void separationOfDuties() throws Exception {
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            CompletableFuture<Integer> attempt = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.executeUpdate("UPDATE held_probe SET note = 'x' WHERE id = 9");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            String id = pending("SET note = 'x'").get("id").asText();
            String agentAsApprover = KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, AGENT,
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(5), Map.of("groups", "phi-approvers"));
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", agentAsApprover, null).body())
                    .contains("service account");
            String outsider = KeyTool.mint(gw.keyFile(), GatewayHarness.ISSUER, "mallory@hospital.example",
                    List.of(GatewayHarness.AUDIENCE), Duration.ofMinutes(5), Map.of("groups", "clinicians"));
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", outsider, null).statusCode()).isEqualTo(403);
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", "not-a-token", null).statusCode())
                    .isEqualTo(401);

            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", approver(ALICE), null).statusCode())
                    .isEqualTo(200);
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", approver(ALICE), null).statusCode())
                    .as("the same approver counts once").isEqualTo(409);
            Thread.sleep(200);
            assertThat(attempt).as("a two-approver rule stays pending after one approval").isNotDone();
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", approver(BOB), null).statusCode())
                    .isEqualTo(200);
            assertThat(attempt.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void aHumanCannotApproveTheirOwnRequest() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "alice");
        p.setProperty("password", approver(ALICE));
        try (Connection c = java.sql.DriverManager.getConnection(gw.jdbcUrl(), p); Statement s = c.createStatement()) {
            CompletableFuture<Void> attempt = CompletableFuture.runAsync(() -> {
                try {
                    s.executeUpdate("DELETE FROM held_probe WHERE id = 10");
                } catch (SQLException ignored) {
                    // withdrawn below
                }
            });
            String id = pending("id = 10").get("id").asText();
            HttpResponse<String> r = call("POST", "/api/v1/approvals/" + id + "/approve", approver(ALICE), null);
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("its own request");
            s.cancel();
            attempt.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void denyRuleRefusesWithItsReason() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = agent(mode); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute("GRANT SELECT ON held_probe TO PUBLIC"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("42501");
                            assertThat(e.getMessage()).contains("grants are made by the DBA team").contains("no-grants");
                        });
            }
        }
    }

    @Test
    void theCommandLineDecidesAndTheChainCanBeFollowedAndVerified() throws Exception {
        Path token = dir.resolve("bob.jwt");
        Files.writeString(token, approver(BOB));
        String url = "http://127.0.0.1:" + gw.gateway().httpAddress().getPort();
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            CompletableFuture<Void> attempt = CompletableFuture.runAsync(() -> {
                try {
                    s.executeUpdate("DELETE FROM held_probe WHERE id = 11");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            String id = pending("id = 11").get("id").asText();
            var list = io.phigate.cli.TestAccess.capture("approvals", "list", "--url", url, "--token-file",
                    token.toString());
            assertThat(list.exitCode()).as(list.err()).isZero();
            assertThat(list.out()).contains(id).contains("destructive-writes").contains(AGENT);
            var deny = io.phigate.cli.TestAccess.capture("approvals", "deny", id, "--reason", "wrong patient",
                    "--url", url, "--token-file", token.toString());
            assertThat(deny.exitCode()).as(deny.err()).isZero();
            assertThat(deny.out()).contains(id + " is now denied");
            assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS)).rootCause().hasMessageContaining("wrong patient");
            String session = (String) gw.auditEventually("detail like '%" + id + "%'", 2).getFirst().get("session_id");
            var timeline = io.phigate.cli.TestAccess.capture("audit", "session", session, "--store",
                    gw.auditFile().toString());
            assertThat(timeline.out()).contains("approval requested").contains("approval denied by " + BOB)
                    .contains("REFUSED".toLowerCase());
        }
        assertThat(io.phigate.cli.TestAccess.run("audit", "verify", "--store", gw.auditFile().toString())).isZero();
    }

    // ---- ticket mode ----

    @Test
    void ticketIsRefusedAtOnceAndTheIdenticalRetryRunsOnceApproved() throws Exception {
        // Statements go as simple queries (SET phigate.* must), prepared statements use the extended protocol.
        try (Connection c = agent("extendedForPrepared")) {
            String id = ticket(c, 4);
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", approver(ALICE), null).statusCode())
                    .isEqualTo(200);
            try (Statement s = c.createStatement()) {
                s.execute("SET phigate.approval = '" + id + "'");
            }
            // a changed parameter does not match: a new request
            String other = ticket(c, 5);
            assertThat(other).isNotEqualTo(id);
            assertThat(rows("held_ticket", 5)).isEqualTo(1);
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM held_ticket WHERE id = ?")) {
                ps.setInt(1, 4);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            // used once: the same statement again needs a new request
            assertThat(ticket(c, 4)).isNotEqualTo(id);
        }
        // another identity cannot use it
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token("system:serviceaccount:clinical:other", Duration.ofMinutes(5)));
        try (Connection c = java.sql.DriverManager.getConnection(gw.jdbcUrl(), p)) {
            String id = ticket(c, 6);
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", approver(ALICE), null).statusCode())
                    .isEqualTo(200);
            try (Connection mine = agent("extendedForPrepared")) {
                try (Statement s = mine.createStatement()) {
                    s.execute("SET phigate.approval = '" + id + "'");
                }
                assertThat(ticket(mine, 6)).isNotEqualTo(id);
                assertThat(rows("held_ticket", 6)).isEqualTo(1);
            }
        }
    }

    @Test
    void anApprovedPrepareReleasesNoExecuteAndAnExecuteTicketFitsOnlyItsOwnArguments() throws Exception {
        try (Connection c = agent("simple"); Statement s = c.createStatement()) {
            String prepare = "PREPARE purge(int) AS DELETE FROM held_ticket WHERE id = $1";
            String id = refusedTicket(s, prepare);
            assertThat(call("POST", "/api/v1/approvals/" + id + "/approve", approver(ALICE), null).statusCode())
                    .isEqualTo(200);
            s.execute("SET phigate.approval = '" + id + "'");
            s.execute(prepare);
            // Each EXECUTE is judged as the DELETE it runs, with its own arguments.
            String seven = refusedTicket(s, "EXECUTE purge(7)");
            assertThat(rows("held_ticket", 7)).isEqualTo(1);
            assertThat(call("POST", "/api/v1/approvals/" + seven + "/approve", approver(ALICE), null).statusCode())
                    .isEqualTo(200);
            s.execute("SET phigate.approval = '" + seven + "'");
            assertThat(refusedTicket(s, "EXECUTE purge(8)")).isNotEqualTo(seven);
            assertThat(rows("held_ticket", 8)).isEqualTo(1);
            s.execute("EXECUTE purge(7)");
            assertThat(rows("held_ticket", 7)).isZero();
        }
        assertThat(gw.audit("kind = 'statement_requested' and statement like 'EXECUTE purge(7)%'"
                + " and statement like '%prepared statement purge runs: DELETE FROM held_ticket%'")).isNotEmpty();
    }

    private static String refusedTicket(Statement s, String sql) {
        try {
            s.execute(sql);
            throw new AssertionError("expected a ticket refusal: " + sql);
        } catch (SQLException e) {
            return ApprovalsApiClient.ticketId(e);
        }
    }

    /** Runs the ticket-mode DELETE, expects the refusal, and returns the request id it names. */
    private static String ticket(Connection c, int id) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM held_ticket WHERE id = ?")) {
            ps.setInt(1, id);
            ps.executeUpdate();
            throw new AssertionError("expected a ticket refusal");
        } catch (SQLException e) {
            return ApprovalsApiClient.ticketId(e);
        }
    }
}
