package io.phigate.mongo;

import io.phigate.identity.Identity;
import io.phigate.session.LiveSession;
import java.io.IOException;
import java.net.Socket;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A document-store session as the rest of the gateway sees it (sessions API, console, shutdown): registered once
 * its agent has authenticated, removed when the connection ends. The session's own thread updates the counters;
 * other threads read them, and may end the session. The protocol has no message a server sends unasked, so ending
 * a session closes its sockets: the client's driver sees the connection drop, the session's thread its read fail,
 * and the session's end record gives {@link #terminatedFor()} as the reason.
 */
final class LiveMongoSession implements LiveSession {
    private final String id;
    private final Identity identity;
    private final String upstream;
    private final String clientAddress;
    private final Instant startedAt = Instant.now();
    private final Socket client;
    private volatile long statements;
    private volatile String lastStatement;
    private volatile boolean busy;
    private volatile String terminatedFor;
    /**
     * Completed when the session is ended from outside: a held command waits on it as well as on its client's
     * socket, since the watch of the socket ends at the first byte the client sends during the hold.
     */
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    LiveMongoSession(String id, Identity identity, String upstream, String clientAddress, Socket client) {
        this.id = id;
        this.identity = identity;
        this.upstream = upstream;
        this.clientAddress = clientAddress;
        this.client = client;
    }

    /** Called by the session's thread as a command starts; {@code text} is its recorded form (PHI: never logged). */
    void started(long statement, String text) {
        statements = statement;
        lastStatement = text;
        busy = true;
    }

    void finished() {
        busy = false;
    }

    /** Completes when the session is ended from outside ({@link #terminate}); never completed otherwise. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    /** Why the session was ended from outside, or null when it was not. */
    String terminatedFor() {
        return terminatedFor;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Identity identity() {
        return identity;
    }

    @Override
    public String upstream() {
        return upstream;
    }

    @Override
    public String clientAddress() {
        return clientAddress;
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public long statements() {
        return statements;
    }

    @Override
    public String lastStatement() {
        return lastStatement;
    }

    @Override
    public boolean busy() {
        return busy;
    }

    /** Closes the client's socket; the session's thread then closes the upstream and records the end. */
    @Override
    public void terminate(String code, String message) {
        terminatedFor = message;
        ended.complete(null);
        try {
            client.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public String toString() {
        return "LiveMongoSession[" + id + "]";
    }
}
