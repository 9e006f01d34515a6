package io.phigate.cli;

import static java.nio.file.attribute.PosixFilePermission.OWNER_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.phigate.clients.ClientTools;
import io.phigate.config.ConfigLoader;
import io.phigate.mongo.MongoshClient;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void agentTokenQueriesPatientsThroughTheGatewayAndTheStatementIsAudited() throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "not the demo's");
        Files.writeString(dir.resolve("agent.token"), "a previous demo's token");

        try (DemoCommand.Running demo = DemoCommand.start(dir, 0, 0, 20, Duration.ofMinutes(5))) {
            assertThat(Files.readString(dir.resolve("notes.txt"))).as("only the demo's own files are replaced")
                    .isEqualTo("not the demo's");
            assertThat(Files.getPosixFilePermissions(demo.tokenFile())).containsExactlyInAnyOrder(OWNER_READ, OWNER_WRITE);
            assertThat(Files.getPosixFilePermissions(dir.resolve("secrets/clinical.password")))
                    .containsExactlyInAnyOrder(OWNER_READ, OWNER_WRITE);
            assertThat(ConfigLoader.load(dir.resolve("phigate.yaml")).listen().postgres().port())
                    .as("the written config names the port the gateway asked for").isZero();

            String token = Files.readString(demo.tokenFile()).strip();
            String url = "jdbc:postgresql://127.0.0.1:" + demo.port() + "/clinical?sslmode=disable";
            try (Connection c = DriverManager.getConnection(url, "triage-agent", token);
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select count(*) from patients")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(20);
            }
            try (Connection c = DriverManager.getConnection(url, "triage-agent", token);
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select ssn, mrn, birth_date from patients where id is not null limit 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).as("the demo policy masks PHI").isEqualTo("[SSN]");
                assertThat(rs.getString(2)).startsWith("mrn_");
                assertThat(rs.getDate(3).toLocalDate().getDayOfYear()).isEqualTo(1);
            }

            // The same patients as documents, through the document-store listener, masked by the same policy.
            try (MongoClient client = MongoClients.create(MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + demo.mongoPort()
                            + "/?serverSelectionTimeoutMS=5000"))
                    .credential(MongoCredential.createPlainCredential("triage-agent", "$external", token.toCharArray()))
                    .build())) {
                MongoDatabase clinical = client.getDatabase("clinical");
                assertThat(clinical.getCollection("patients").countDocuments()).isEqualTo(20);
                Document patient = clinical.getCollection("patients").find().sort(new Document("_id", 1)).first();
                assertThat(patient.get("name", Document.class)).isEqualTo(new Document("given", "[NAME]")
                        .append("family", "[NAME]"));
                assertThat(patient.getString("ssn")).isIn("[SSN]", null);
                assertThat(patient.getString("mrn")).startsWith("mrn_");
                assertThat(patient.getDate("birth_date").toInstant().toString()).endsWith("-01-01T00:00:00Z");
                assertThat(patient.getList("addresses", Document.class).getFirst().getString("line"))
                        .isIn("[ADDRESS]", null);
                Document visits = clinical.getCollection("encounters").aggregate(List.of(
                        new Document("$lookup", new Document("from", "patients").append("localField", "patient_id")
                                .append("foreignField", "_id").append("as", "patient")),
                        new Document("$unwind", "$patient"),
                        new Document("$group", new Document("_id", null).append("visits", new Document("$sum", 1))
                                .append("ssn", new Document("$max", "$patient.ssn"))))).first();
                assertThat(visits.getInteger("visits")).isPositive();
                assertThat(visits.getString("ssn")).isEqualTo("[SSN]");
                // The same patient's SSN in clear, read past the gateway, is nowhere in what the agent got.
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + demo.databasePort()
                        + "/clinical", "phigate", Files.readString(dir.resolve("secrets/clinical.password")).strip());
                     Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("select ssn, first_name from patients where id = "
                             + patient.getInteger("_id"))) {
                    assertThat(rs.next()).isTrue();
                    assertThat(patient.toJson()).doesNotContain(rs.getString(2));
                    if (rs.getString(1) != null) {
                        assertThat(patient.toJson()).doesNotContain(rs.getString(1));
                    }
                }
            }
            assertThat(DemoCommand.instructions(demo, 20)).contains("mongosh \"mongodb://127.0.0.1:" + demo.mongoPort()
                    + "/clinical?authMechanism=PLAIN&authSource=%24external\" --username triage-agent --password '"
                    + token + "'");

            // The console is on, and the operator's token signs in to it.
            var http = java.net.http.HttpClient.newBuilder().cookieHandler(new java.net.CookieManager())
                    .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
            String base = "http://127.0.0.1:" + demo.httpPort();
            String form = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/console/sign-in"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            var pre = java.util.regex.Pattern.compile("name=\"pre\" value=\"([^\"]+)\"").matcher(form);
            assertThat(pre.find()).isTrue();
            String operator = Files.readString(dir.resolve(DemoCommand.CONSOLE_TOKEN_FILE)).strip();
            var signIn = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/console/sign-in"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("pre=" + pre.group(1) + "&token="
                            + java.net.URLEncoder.encode(operator, java.nio.charset.StandardCharsets.UTF_8))).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(signIn.statusCode()).as(signIn.body()).isEqualTo(303);
            var overview = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/console")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(overview.body()).contains(DemoCommand.OPERATOR_SUBJECT + " (approver, admin)");

            // The admin API takes the token the gateway wrote beside the config, as the instructions say.
            assertThat(DemoCommand.instructions(demo, 20)).contains("bin/phigate sessions list --config "
                    + dir + "/phigate.yaml").contains(dir + "/admin.token");
            try (Connection c = DriverManager.getConnection(url, "triage-agent", token)) {
                TestAccess.Result sessions = TestAccess.capture("sessions", "list", "--config",
                        dir.resolve("phigate.yaml").toString());
                assertThat(sessions.exitCode()).as(sessions.err()).isZero();
                assertThat(sessions.out()).contains("system:serviceaccount:clinical:triage-agent");
            }

            // Read while the gateway still runs: a statement's record is durable before the statement is forwarded.
            try (Connection audit = DriverManager.getConnection("jdbc:sqlite:" + demo.auditFile());
                 PreparedStatement q = audit.prepareStatement("select count(*) from audit_event"
                         + " where kind = 'statement_requested' and subject = ? and statement like '%patients%'")) {
                q.setString(1, "system:serviceaccount:clinical:triage-agent");
                try (ResultSet rs = q.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isPositive();
                }
            }
        }
    }

    @Test
    void thePrintedMongoshLineAndItsExamplesRunAsPrinted() throws Exception {
        Path mongosh = MongoshClient.find();
        try (DemoCommand.Running demo = DemoCommand.start(dir, 0, 0, 5, Duration.ofMinutes(5))) {
            List<String> printed = DemoCommand.instructions(demo, 5).lines().map(String::strip).toList();
            String line = printed.stream().filter(l -> l.startsWith("mongosh ")).findFirst().orElseThrow();
            Matcher m = Pattern.compile("mongosh \"([^\"]+)\" --username (\\S+) --password '([^']+)'").matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            List<String> signIn = List.of(m.group(1), "--username", m.group(2), "--password", m.group(3), "--quiet");
            List<String> examples = printed.subList(printed.indexOf(line), printed.size()).stream()
                    .takeWhile(l -> !l.startsWith("PHI is masked")).filter(l -> l.startsWith("db.")).toList();
            assertThat(examples).hasSize(3);

            ClientTools.Result found = MongoshClient.run(mongosh, dir, concat(signIn, "--eval",
                    "EJSON.stringify(" + examples.get(0) + ".toArray())"));
            assertThat(found.exitCode()).as(found.output()).isZero();
            assertThat(found.output()).contains("\"given\":\"[NAME]\"", "\"line\":\"[ADDRESS]\"", "-01-01T00:00:00Z")
                    .doesNotContainPattern("\"ssn\":\"(?!\\[SSN])")
                    .doesNotContainPattern("\"city\":\"(?!\\[ADDRESS])");
            ClientTools.Result grouped = MongoshClient.run(mongosh, dir, concat(signIn, "--eval",
                    "EJSON.stringify(" + examples.get(1) + ".toArray())"));
            assertThat(grouped.exitCode()).as(grouped.output()).isZero();
            assertThat(grouped.output()).as("birth dates cut to their year").contains("\"visits\":")
                    .doesNotContainPattern("\"\\$date\":\"\\d{4}-(?!01-01T00:00:00)");
            ClientTools.Result refused = MongoshClient.run(mongosh, dir, concat(signIn, "--eval",
                    examples.get(2).replaceFirst("\\s*//.*", "") + ".toArray()"));
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.output()).contains("refused");
        }
    }

    /** mongo-java-server logs a command it cannot run whole, values included; the shipped logging must drop it. */
    @Test
    void theDocumentStoreLogsNothingSinceItWouldLogCommandValues() throws Exception {
        var context = new ch.qos.logback.classic.LoggerContext();
        var configurator = new ch.qos.logback.classic.joran.JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(Path.of("src/main/resources/logback.xml").toFile());
        assertThat(context.getLogger("de.bwaldvogel.mongo.wire.MongoWireProtocolHandler").isErrorEnabled()).isFalse();
        assertThat(context.getLogger("io.phigate.demo.DemoDocumentStore").isInfoEnabled()).isTrue();
        context.stop();
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new java.util.ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    @Test
    void refusesATakenPortBeforeTouchingThePreviousDemosFiles() throws Exception {
        Files.writeString(dir.resolve("phigate.yaml"), "# a running demo's config");
        try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> DemoCommand.start(dir, taken.getLocalPort(), 0, 20, Duration.ofMinutes(5)))
                    .isInstanceOf(DemoCommand.StartFailed.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort() + " is already in use")
                    .hasMessageContaining("--port")
                    .message().doesNotContain("\n");
        }
        assertThat(Files.readString(dir.resolve("phigate.yaml"))).isEqualTo("# a running demo's config");
        assertThat(dir.resolve("pgdata")).doesNotExist();
    }

    @Test
    void pathsArePrintedReadyToPasteIntoAShell() {
        assertThat(DemoCommand.shellWord("demo-data")).isEqualTo("demo-data");
        assertThat(DemoCommand.shellWord("/tmp/my demo")).isEqualTo("'/tmp/my demo'");
        assertThat(DemoCommand.shellWord("it's")).isEqualTo("'it'\\''s'");
    }
}
