package io.phigate.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.clients.ClientTools;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data-aware risk conditions (unmasked PHI, PHI without LIMIT) through pgjdbc; what approvers see (parameters
 * masked per their own role, or redacted when they have none) through the API and the CLI; a ticket redeemed
 * with {@code SET phigate.approval} sent through pgjdbc's default extended protocol; the approval chain followed
 * with {@code audit search --approval}; and hold mode through psql.
 */
class ApprovalViewAndClientsTest {
    static final String AGENT = GatewayHarness.AGENT;
    /** Maps to role reviewer, which sees names unmasked and SSNs redacted. */
    static final String ALICE = "alice@hospital.example";
    /** In the approver group, but maps to no role: sees every parameter redacted. */
    static final String BOB = "bob@hospital.example";

    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static ApprovalsApiClient api;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                      public.patients.last_name: name
                      public.view_probe.ssn: ssn
                      public.view_probe.last_name: name
                roles:
                  - name: reviewer
                    match: { subject: "%2$s" }
                    upstreams: [clinical]
                    unmasked: [name]
                  - name: triage
                    match: { subject: "system:serviceaccount:clinical:*" }
                    upstreams: [clinical]
                    unmasked: [ssn]
                    lookup: [name]
                approvers:
                  phi-approvers:
                    match: { issuer: "%1$s", claims: { groups: "phi-approvers" } }
                rules:
                  - name: ssn-in-clear
                    when: { operations: [select], unmasked_phi: [ssn] }
                    require_approval: { group: phi-approvers, timeout: 5m, mode: ticket }
                  - name: bulk-phi
                    when: { phi_without_limit: true }
                    require_approval: { group: phi-approvers, timeout: 5m, mode: ticket }
                  - name: probe-edits
                    when: { operations: [update], tables: [view_probe] }
                    require_approval: { group: phi-approvers, timeout: 5m, mode: ticket }
                  - name: big-delete
                    when: { operations: [delete], tables: [rows_probe], rows_over: 50 }
                    require_approval: { group: phi-approvers, timeout: 5m, mode: ticket }
                  - name: psql-deletes
                    when: { operations: [delete], tables: [psql_probe] }
                    require_approval: { group: phi-approvers, timeout: 30s, mode: hold }
                """.formatted(GatewayHarness.ISSUER, ALICE));
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS view_probe");
            s.execute("CREATE TABLE view_probe (id int primary key, ssn text, last_name text, city text)");
            s.execute("INSERT INTO view_probe VALUES (1, '123-45-6789', 'Doe', 'Shelbyville')");
            s.execute("DROP TABLE IF EXISTS rows_probe");
            s.execute("CREATE TABLE rows_probe (id int primary key, note text)");
            s.execute("INSERT INTO rows_probe SELECT g, 'row ' || g FROM generate_series(1, 1000) g");
            s.execute("ANALYZE rows_probe");
            s.execute("DROP TABLE IF EXISTS psql_probe");
            s.execute("CREATE TABLE psql_probe (id int primary key, note text)");
            s.execute("INSERT INTO psql_probe SELECT g, 'bed ' || g FROM generate_series(1, 5) g");
            // A database that holds user code (any extension does), as most do: the gateway asks the server for
            // search_path and the role within a batch (decision 0070), and an approval must still be bound to the
            // statement alone, not to what the server showed (it failed so when other tests had left a function).
            s.execute("CREATE OR REPLACE FUNCTION public.view_probe_user_code() RETURNS int LANGUAGE sql AS 'SELECT 1'");
        }
        gw = ApprovalsApiClient.startGateway(dir, dir.resolve("policy.yaml"));
        api = new ApprovalsApiClient(gw);
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement()) {
            s.execute("DROP FUNCTION IF EXISTS public.view_probe_user_code()");
        }
    }

    /** pgjdbc in its default mode: every statement through Parse/Bind/Execute. */
    private static Connection agent() throws Exception {
        return gw.connect(new Properties());
    }

    private static String refusedRule(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            s.executeQuery(sql).close();
            return null;
        } catch (SQLException e) {
            assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("PA001");
            Matcher m = Pattern.compile("rule \"([^\"]+)\"").matcher(e.getMessage());
            assertThat(m.find()).isTrue();
            return m.group(1);
        }
    }

    @Test
    void unmaskedPhiAndPhiWithoutLimitNeedApprovalAndTheRequestNamesThePhiTypes() throws Exception {
        try (Connection c = agent()) {
            assertThat(refusedRule(c, "SELECT ssn FROM patients WHERE id = 1"))
                    .as("this role sees SSNs in the clear").isEqualTo("ssn-in-clear");
            assertThat(refusedRule(c, "SELECT id, last_name FROM patients")).as("PHI, no LIMIT").isEqualTo("bulk-phi");
            assertThat(refusedRule(c, "SELECT last_name FROM patients ORDER BY id LIMIT 3")).isNull();
            assertThat(refusedRule(c, "SELECT last_name FROM patients ORDER BY id FETCH FIRST 2 ROWS ONLY")).isNull();
            assertThat(refusedRule(c, "SELECT id FROM patients")).as("no PHI in the result").isNull();
        }
        JsonNode request = api.pending("SELECT ssn FROM patients WHERE id = 1", ALICE);
        assertThat(request.get("phi_types").toString()).contains("ssn");
        assertThat(request.get("rule").asText()).isEqualTo("ssn-in-clear");
        assertThat(request.get("row_estimate").isNull()).as("no rows_over in the rule").isTrue();
        List<Map<String, Object>> records = gw.auditEventually("kind = 'approval_requested' and detail like '%"
                + request.get("id").asText() + "%'", 1);
        assertThat((String) records.getFirst().get("detail")).contains("\"phi_types\":[\"name\",\"ssn\"]");
    }

    @Test
    void approversSeeParametersMaskedPerTheirOwnRoleAndATicketIsRedeemedThroughTheExtendedProtocol()
            throws Exception {
        String update = "UPDATE view_probe SET city = ? WHERE ssn = ? AND last_name = ?";
        String id;
        try (Connection c = agent()) {
            try (PreparedStatement ps = c.prepareStatement(update)) {
                ps.setString(1, "Springfield");
                ps.setString(2, "123-45-6789");
                ps.setString(3, "Doe");
                SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        ps::executeUpdate);
                id = ApprovalsApiClient.ticketId(refused);
            }

            JsonNode forAlice = JSON(api.call("GET", "/api/v1/approvals/" + id, api.approver(ALICE), null).body());
            List<String> seen = new ArrayList<>();
            forAlice.get("parameters").forEach(p -> seen.add(p.asText()));
            assertThat(seen).hasSize(3);
            assertThat(seen.get(0)).as("city is no PHI").isEqualTo("Springfield");
            assertThat(seen.get(1)).as("reviewer sees SSNs redacted").doesNotContain("6789").isNotEmpty();
            assertThat(seen.get(2)).as("reviewer sees names unmasked").isEqualTo("Doe");
            assertThat(forAlice.get("phi_types").toString()).contains("ssn").contains("name");
            assertThat(forAlice.get("tables").toString()).contains("public.view_probe");

            JsonNode forBob = JSON(api.call("GET", "/api/v1/approvals/" + id, api.approver(BOB), null).body());
            assertThat(forBob.get("parameters").toString()).as("no role: everything redacted")
                    .doesNotContain("Springfield").doesNotContain("6789").doesNotContain("Doe").contains("redacted");

            Path token = dir.resolve("alice.jwt");
            Files.writeString(token, api.approver(ALICE));
            var show = io.phigate.cli.TestAccess.capture("approvals", "show", id, "--url", api.url(), "--token-file",
                    token.toString());
            assertThat(show.exitCode()).as(show.err()).isZero();
            assertThat(show.out()).contains("Springfield").contains("Doe").doesNotContain("123-45-6789")
                    .contains("\"phi_types\"");

            api.decide(id, ALICE, true, "address correction");
            try (Statement s = c.createStatement()) {
                s.execute("SET phigate.approval = '" + id + "'"); // Parse/Bind/Execute: answered by the gateway
            }
            try (PreparedStatement ps = c.prepareStatement(update)) {
                ps.setString(1, "Springfield");
                ps.setString(2, "123-45-6789");
                ps.setString(3, "Doe");
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).as("the session carries on").isTrue();
            }
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT city FROM view_probe WHERE id = 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("Springfield");
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and detail like '%approval ticket set%'", 1))
                .isNotEmpty();
        assertThat(gw.audit("kind = 'statement_requested' and protocol = 'extended' and statement like"
                + " 'SET phigate.approval%'")).isNotEmpty();

        // The chain: request, decision, then the released statement with its "used" record and completion.
        gw.auditEventually("kind = 'statement_completed' and command_tag = 'UPDATE 1'", 1);
        var chain = io.phigate.cli.TestAccess.capture("audit", "search", "--approval", id, "--json", "--store",
                gw.auditFile().toString());
        assertThat(chain.exitCode()).as(chain.err()).isZero();
        List<JsonNode> rows = new ArrayList<>();
        for (String line : chain.out().strip().split("\n")) {
            rows.add(JSON(line));
        }
        assertThat(rows).extracting(r -> r.get("kind").asText() + (r.get("outcome").isNull() ? ""
                : ":" + r.get("outcome").asText())).containsExactly("approval_requested", "approval_decided:approved",
                "statement_requested", "approval_decided:used", "statement_completed:ok");
        assertThat(rows.get(2).get("statement").asText()).as("the released statement")
                .isEqualTo("UPDATE view_probe SET city = $1 WHERE ssn = $2 AND last_name = $3");
        var human = io.phigate.cli.TestAccess.capture("audit", "search", "--approval", id, "--store",
                gw.auditFile().toString());
        assertThat(human.out()).contains("approval requested").contains("approved by " + ALICE);
        var released = io.phigate.cli.TestAccess.capture("audit", "search", "--approval", id, "--outcome", "ok",
                "--json", "--store", gw.auditFile().toString());
        assertThat(released.out().strip().split("\n")).hasSize(1);
        assertThat(io.phigate.cli.TestAccess.run("audit", "verify", "--store", gw.auditFile().toString())).isZero();
    }

    /**
     * A ticket is bound to the statement's parameters as the server reads them: a text parameter {@code \\x45} and the
     * same characters' bytes bound in binary format (the byte 0x45) are different values to the server (here
     * {@code length($1)} is 4 and 1), so a ticket approved for one must not release the other. Both rendered as
     * {@code \\x45} before decision 0065, and the binary one ran on the text one's approval.
     */
    @Test
    void aTicketForATextParameterDoesNotReleaseTheSameDigitsBoundInBinary() throws Exception {
        String update = "UPDATE view_probe SET city = 'x' || length($1) WHERE id = 1";
        byte[][] asText = {"\\x45".getBytes(StandardCharsets.UTF_8)};
        byte[][] asBinary = {{0x45}};
        String id;
        try (RawSession c = new RawSession(gw.port(), gw.token())) {
            String refused = c.run(new FrontendMessage.Parse("", update, new int[0]),
                    new FrontendMessage.Bind("", "", new short[]{0}, asText, new short[0]));
            Matcher m = Pattern.compile("request (apr-[0-9a-f]+)").matcher(refused);
            assertThat(m.find()).as(refused).isTrue();
            id = m.group(1);
            api.decide(id, ALICE, true, "sets city to x4");
            assertThat(c.query("SET phigate.approval = '" + id + "'")).contains("SET");
            String binary = c.run(new FrontendMessage.Parse("", update, new int[]{17}),
                    new FrontendMessage.Bind("", "", new short[]{1}, asBinary, new short[0]));
            assertThat(binary).as("the binary parameter is another value").contains("PA001")
                    .contains("different parameters").doesNotContain("UPDATE 1");
            assertThat(c.run(new FrontendMessage.Parse("", update, new int[0]),
                    new FrontendMessage.Bind("", "", new short[]{0}, asText, new short[0])))
                    .as("the approved text parameter is released").contains("UPDATE 1");
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT city FROM view_probe WHERE id = 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("x4");
        }
    }

    /**
     * The server keeps a prepared statement's name to its first 63 bytes: Parse of a held UPDATE under a second long
     * name, after a Close of it, replaced the benign statement under the first, and a Bind of the first ran the
     * UPDATE with the benign statement's verdict, no approval asked (before decision 0065).
     */
    @Test
    void aHeldStatementCannotHideBehindALongNameTheServerCuts() throws Exception {
        String first = "u".repeat(63) + "a";
        String second = "u".repeat(63) + "b";
        try (RawSession c = new RawSession(gw.port(), gw.token())) {
            String answer = c.send(new FrontendMessage.Parse(first, "SELECT 1", new int[0]),
                    new FrontendMessage.Close((byte) 'S', second),
                    new FrontendMessage.Parse(second, "UPDATE view_probe SET city = 'unapproved' WHERE id = 1",
                            new int[0]),
                    new FrontendMessage.Bind("", first, new short[0], new byte[0][], new short[0]),
                    new FrontendMessage.Execute("", 0), FrontendMessage.Sync.INSTANCE);
            assertThat(answer).contains("PA001").doesNotContain("UPDATE 1");
        }
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM view_probe WHERE city = 'unapproved'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("the held UPDATE ran").isZero();
        }
    }

    /** Parse, Bind and Execute by hand: the one thing no driver does is bind a text column's value in binary. */
    private static final class RawSession implements AutoCloseable {
        private final java.net.Socket socket;
        private final FrameReader in;

        RawSession(int port, String token) throws Exception {
            socket = new java.net.Socket("127.0.0.1", port);
            socket.setSoTimeout(15_000);
            in = new FrameReader(socket.getInputStream(), 8192, 1 << 24, 1 << 24);
            send(MessageCodec.encode(new FrontendMessage.StartupMessage(MessageCodec.PROTOCOL_3_0,
                    Map.of("user", "raw-agent", "database", "clinical"))));
            in.next();
            in.skipBody(); // the password request
            send(MessageCodec.encode(new FrontendMessage.AuthenticationResponse(
                    (token + "\0").getBytes(StandardCharsets.UTF_8))));
            String login = untilReady();
            assertThat(login).as("login").doesNotContain("ERROR");
        }

        /** The statement bound, executed and synced; every message back as text (errors by SQLSTATE, tags). */
        String run(FrontendMessage parse, FrontendMessage bind) throws Exception {
            return send(parse, bind, new FrontendMessage.Execute("", 0), FrontendMessage.Sync.INSTANCE);
        }

        String query(String sql) throws Exception {
            return send(new FrontendMessage.Query(sql));
        }

        /** Sends the messages as one pipeline, ending in one Sync or Query; what came back up to ReadyForQuery. */
        String send(FrontendMessage... messages) throws Exception {
            for (FrontendMessage m : messages) {
                socket.getOutputStream().write(MessageCodec.encode(m));
            }
            socket.getOutputStream().flush();
            return untilReady();
        }

        private void send(byte[] frame) throws java.io.IOException {
            socket.getOutputStream().write(frame);
            socket.getOutputStream().flush();
        }

        private String untilReady() throws Exception {
            StringBuilder got = new StringBuilder();
            while (true) {
                if (in.next() < 0) {
                    throw new java.io.IOException("the gateway closed the connection: " + got);
                }
                BackendMessage m = MessageCodec.decodeBackend(in.type(), in.body());
                switch (m) {
                    case BackendMessage.ErrorResponse e -> got.append("ERROR ").append(e.sqlState())
                            .append(' ').append(e.message()).append('\n');
                    case BackendMessage.CommandComplete cc -> got.append(cc.tag()).append('\n');
                    case BackendMessage.ReadyForQuery r -> {
                        return got.toString();
                    }
                    default -> {
                    }
                }
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }

    private static int count(String sql) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void rowsOverAsksThePlannerWithoutRunningTheStatementAndFailsClosedWhenItCannot() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection c = gw.connect(simple); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("DELETE FROM rows_probe WHERE id <= 10")).as("about 10 rows: runs")
                    .isEqualTo(10);
            long started = System.nanoTime();
            SQLException big = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.executeUpdate("DELETE FROM rows_probe WHERE id > 100"));
            long refusedMillis = (System.nanoTime() - started) / 1_000_000;
            String id = ApprovalsApiClient.ticketId(big);
            assertThat(big.getMessage()).contains("big-delete");
            assertThat(count("SELECT count(*) FROM rows_probe")).as("EXPLAIN never ran the DELETE").isEqualTo(990);
            JsonNode request = JSON(api.call("GET", "/api/v1/approvals/" + id, api.approver(ALICE), null).body());
            assertThat(request.get("row_estimate").asLong()).isBetween(500L, 1000L);
            assertThat((String) gw.auditEventually("kind = 'approval_requested' and detail like '%" + id + "%'", 1)
                    .getFirst().get("detail")).contains("\"row_estimate\":" + request.get("row_estimate").asLong());
            System.out.println("rows_over: refused with an estimate in " + refusedMillis + " ms");
        }
        int server = count("SELECT current_setting('server_version_num')::int");
        try (Connection c = agent(); PreparedStatement ps = c.prepareStatement("DELETE FROM rows_probe WHERE id = ?")) {
            ps.setInt(1, 500);
            if (server >= 160000) {
                assertThat(ps.executeUpdate()).as("a generic plan estimates one row").isEqualTo(1);
            } else {
                String id = ApprovalsApiClient.ticketId(org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        ps::executeUpdate));
                JsonNode request = JSON(api.call("GET", "/api/v1/approvals/" + id, api.approver(ALICE), null).body());
                assertThat(request.get("row_estimate").isNull()).as("no generic plan before 16: fail closed").isTrue();
                assertThat(count("SELECT count(*) FROM rows_probe WHERE id = 500")).isEqualTo(1);
            }
        }
    }

    private static JsonNode JSON(String body) throws Exception {
        return ApprovalsApiClient.JSON.readTree(body);
    }

    // ---- hold mode through psql ----

    private static CompletableFuture<ClientTools.Result> psql(String sql) throws Exception {
        Path psql = ClientTools.find("psql");
        Map<String, String> env = Map.of("PGPASSWORD", gw.token(AGENT, Duration.ofMinutes(5)), "PGHOST", "127.0.0.1",
                "PGPORT", String.valueOf(gw.port()), "PGUSER", "triage-agent", "PGDATABASE", "clinical",
                "PGCONNECT_TIMEOUT", "10");
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ClientTools.run(env, dir, psql.toString(), "-X", "-v", "VERBOSITY=verbose", "-c", sql);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static int probeRows(int id) throws SQLException {
        try (Connection c = TestDatabase.get().direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM psql_probe WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void psqlWaitsForTheApproverAndPrintsTheRealResult() throws Exception {
        CompletableFuture<ClientTools.Result> run = psql("DELETE FROM psql_probe WHERE id <= 2");
        JsonNode request = api.pending("DELETE FROM psql_probe WHERE id <= 2", ALICE);
        Thread.sleep(200);
        assertThat(run).as("psql is still waiting").isNotDone();
        assertThat(probeRows(1) + probeRows(2)).as("nothing reached PostgreSQL before approval").isEqualTo(2);
        api.decide(request.get("id").asText(), ALICE, true, "duplicate beds");
        ClientTools.Result r = run.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("DELETE 2").contains(request.get("id").asText())
                .contains("holds this statement for approval");
        assertThat(probeRows(1) + probeRows(2)).isZero();
    }

    @Test
    void psqlShowsTheDenialAs42501WithTheReason() throws Exception {
        CompletableFuture<ClientTools.Result> run = psql("DELETE FROM psql_probe WHERE id = 5");
        JsonNode request = api.pending("DELETE FROM psql_probe WHERE id = 5", ALICE);
        api.decide(request.get("id").asText(), BOB, false, "bed 5 is occupied");
        ClientTools.Result r = run.get(20, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output()).contains("42501").contains("bed 5 is occupied");
        assertThat(probeRows(5)).isEqualTo(1);
        assertThatThrownBy(() -> api.decide(request.get("id").asText(), ALICE, true, "late"))
                .isInstanceOf(AssertionError.class);
    }
}
