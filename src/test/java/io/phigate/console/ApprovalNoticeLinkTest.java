package io.phigate.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The URL a held statement's NOTICE gives for approving works when pasted into a browser: with a console it leads
 * to the request's page, where the approver reviews and decides (a GET never decides).
 */
class ApprovalNoticeLinkTest {
    @TempDir
    Path dir;

    @Test
    void theNoticesApproveUrlOpensTheRequestsConsolePage() throws Exception {
        try (ConsoleFixture fx = ConsoleFixture.start(dir)) {
            CompletableFuture<String> notices = CompletableFuture.supplyAsync(() -> {
                try (Connection c = fx.agent(); Statement s = c.createStatement()) {
                    s.executeUpdate("DELETE FROM console_held WHERE id = 3");
                    StringBuilder all = new StringBuilder();
                    for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                        all.append(w.getMessage()).append('\n');
                    }
                    return all.toString();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            HttpClient alice = fx.signedIn(fx.alice());
            String id = null;
            for (int i = 0; i < 100 && id == null; i++) {
                Matcher m = Pattern.compile("data-approval=\"(apr-[0-9a-f]{16})\"")
                        .matcher(fx.get(alice, "/console/approvals/pending.html").body());
                id = m.find() ? m.group(1) : null;
                Thread.sleep(100);
            }
            assertThat(id).as("the DELETE is held; " + (notices.isDone() ? notices.handle((v, e) -> v + e).join() : "")).isNotNull();
            String csrf = fx.csrf(alice, "/console/approvals/" + id);
            fx.post(alice, "/console/approvals/" + id + "/decide",
                    Map.of("csrf", csrf, "decision", "approve", "reason", "test"));
            String notice = notices.get(20, TimeUnit.SECONDS);

            Matcher url = Pattern.compile("Approve: (http://\\S+?/approve)").matcher(notice);
            assertThat(url.find()).as(notice).isTrue();
            assertThat(url.group(1)).isEqualTo(fx.base() + "/console/approvals/" + id + "/approve");
            HttpResponse<String> pasted = fx.get(alice, url.group(1).substring(fx.base().length()));
            assertThat(pasted.statusCode()).isEqualTo(303);
            assertThat(pasted.headers().firstValue("Location")).hasValue("/console/approvals/" + id);
            // The CLI line next to it names where the API is and the approver's token, so it runs as pasted.
            assertThat(notice).contains("bin/phigate approvals approve " + id + " --url " + fx.base()
                    + " --token-file APPROVER_TOKEN_FILE");
            assertThat(fx.get(alice, "/console/approvals/" + id).statusCode()).isEqualTo(200);
        }
    }
}
