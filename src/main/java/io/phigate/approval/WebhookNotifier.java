package io.phigate.approval;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells an approver group's Slack-compatible incoming webhook about a new request: a POST of
 * {@code {"text": "..."}} naming the request, rule, agent, upstream, tables and where to decide. Never the
 * statement, its parameters or the justification: a chat channel is not a place for PHI; the approver reads those
 * through the authenticated API. Each POST runs on its own virtual thread, at most {@link #MAX_IN_FLIGHT} at once
 * (beyond that a notification is dropped and logged), and a failure never affects the request.
 */
final class WebhookNotifier {
    private static final Logger log = LoggerFactory.getLogger(WebhookNotifier.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_IN_FLIGHT = 32;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()).build();
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);

    void requested(ApprovalRequest r, URI webhook, String decideAt) {
        if (!inFlight.tryAcquire()) {
            log.warn("approval request {}: webhook notification dropped, {} already in flight", r.id(), MAX_IN_FLIGHT);
            return;
        }
        Thread.ofVirtual().name("approval-webhook-" + r.id()).start(() -> {
            try {
                HttpRequest post = HttpRequest.newBuilder(webhook).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("text", text(r, decideAt)))))
                        .build();
                HttpResponse<Void> answer = client.send(post, HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() / 100 != 2) {
                    log.warn("approval request {}: webhook answered {}", r.id(), answer.statusCode());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.warn("approval request {}: webhook failed: {}", r.id(), e.getClass().getSimpleName());
            } finally {
                inFlight.release();
            }
        });
    }

    static String text(ApprovalRequest r, String decideAt) {
        var a = r.rule().approval();
        return "phigate approval request " + r.id() + ": rule \"" + r.rule().name() + "\" holds a statement of "
                + r.requester().subject() + " on upstream " + r.upstream()
                + (r.tables().isEmpty() ? "" : " touching " + String.join(", ", r.tables()))
                + ". Needs " + a.approvers() + " approver(s) of group " + a.group() + " before " + r.expiresAt()
                + " (" + a.mode().name().toLowerCase(java.util.Locale.ROOT) + " mode). Decide: "
                + (decideAt.endsWith("/") ? decideAt + r.id() : decideAt + " " + r.id());
    }
}
