package io.phigate.audit;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each signed checkpoint to a witness: an HTTP POST of the note ({@code text/plain}), so a party outside the
 * operator's reach keeps a copy. Sending never blocks the audit writer: each note goes from its own virtual thread,
 * retried a few times with backoff, and at most a few are in flight; a note that cannot be delivered is logged, and
 * the next checkpoint (which covers everything before it) tries again.
 */
final class CheckpointWitness {
    private static final Logger log = LoggerFactory.getLogger(CheckpointWitness.class);
    private static final int ATTEMPTS = 4;

    private final URI url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Semaphore inFlight = new Semaphore(4);

    CheckpointWitness(URI url) {
        this.url = url;
    }

    void send(Checkpoint cp) {
        if (!inFlight.tryAcquire()) {
            log.warn("checkpoint witness {} is behind; checkpoint at size {} not sent (a later one covers it)",
                    url, cp.treeSize());
            return;
        }
        Thread.ofVirtual().name("checkpoint-witness").start(() -> {
            try {
                deliver(cp);
            } finally {
                inFlight.release();
            }
        });
    }

    private void deliver(Checkpoint cp) {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "text/plain; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(cp.note())).build();
        String last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() / 100 == 2) {
                    return;
                }
                last = "HTTP " + r.statusCode();
            } catch (java.io.IOException e) {
                last = e.getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                Thread.sleep(200L << attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        log.warn("checkpoint witness {} did not take the checkpoint at size {}: {}", url, cp.treeSize(), last);
    }
}
