package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.audit.AuditConfig;
import io.phigate.mask.SecretRef;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas sharing one PostgreSQL audit store: replica b's console lists the statement held on replica a,
 * approves it there (the statement then completes on a), lists a's live session and ends it.
 */
class ConsoleAcrossReplicasTest {
    @TempDir
    Path dir;

    @Test
    void replicaBsConsoleApprovesWhatReplicaAHoldsAndEndsItsSession() throws Exception {
        try (EmbeddedPostgres store = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
             ConsoleFixture a = replica(store, "console-a");
             ConsoleFixture b = replica(store, "console-b")) {
            Connection agentOnA = a.agent();
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try (Statement s = agentOnA.createStatement()) {
                    return s.executeUpdate("DELETE FROM console_held WHERE id = 4");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            HttpClient alice = b.signedIn(b.alice());
            String id = null;
            for (int i = 0; i < 100 && id == null; i++) {
                Matcher m = Pattern.compile("data-approval=\"(apr-[0-9a-f]{16})\"")
                        .matcher(b.get(alice, "/console/approvals/pending.html").body());
                id = m.find() ? m.group(1) : null;
                Thread.sleep(100);
            }
            assertThat(id).as("b's console lists the request held on a").isNotNull();
            b.post(alice, "/console/approvals/" + id + "/decide", Map.of("csrf", b.csrf(alice, "/console/approvals/"
                    + id), "decision", "approve", "reason", "checked on b"));
            assertThat(held.get(20, TimeUnit.SECONDS)).as("the DELETE ran on a").isEqualTo(1);

            String session = null;
            for (int i = 0; i < 50 && session == null; i++) {
                Matcher m = Pattern.compile("data-session=\"([0-9a-f-]{36})\" data-replica=\"console-a\"")
                        .matcher(b.get(alice, "/console/sessions/live.html").body());
                session = m.find() ? m.group(1) : null;
                Thread.sleep(100);
            }
            assertThat(session).as("b's console lists a's session").isNotNull();
            HttpResponse<String> killed = b.post(alice, "/console/sessions/" + session + "/kill",
                    Map.of("csrf", b.csrf(alice, "/console/sessions")));
            assertThat(killed.statusCode()).as(killed.body()).isEqualTo(200);
            assertThat(killed.body()).contains("was ended");
            assertThatThrownBy(() -> agentOnA.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("57P01", "08006", "08003"));
            agentOnA.close();
        }
    }

    private ConsoleFixture replica(EmbeddedPostgres store, String name) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        Path password = home.resolve("audit.password");
        Files.writeString(password, "unused-under-trust\n");
        return ConsoleFixture.start(home, ConsoleFixture.POLICY.formatted(GatewayHarness.ISSUER), ignored ->
                new AuditConfig("postgres://postgres@localhost:" + store.getPort() + "/postgres", null, 65536,
                        Duration.ofSeconds(2), Duration.ofMillis(500), name, null, AuditConfig.DEFAULT_RESPONSE_CAP,
                        new AuditConfig.Postgres("localhost", store.getPort(), "postgres", "postgres",
                                new SecretRef(null, password))));
    }
}
