package io.phigate.pg;

import io.phigate.credentials.EphemeralRoles;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.session.LiveSession;
import io.phigate.session.SessionRegistry;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one client connection holds, and the one place that lets it go: {@link PgFrontDoor#accept} opens one
 * per accepted socket in a try-with-resources (as Helidon's ConnectionHandler: one owner, one try/finally), and
 * each step of the connection hands what it takes to it. Whichever way the connection ends (a refusal, the
 * session's end, a runtime exception anywhere between the handshake and the session), {@link #close} releases, in
 * this order: the upstream connection; the ephemeral session user, whose drop also ends any backend still logged
 * in as it; the registry entry (after the drop, so a graceful shutdown, which waits for the registry to empty,
 * waits for the drops too); the session slot; the handshake permit; the client socket.
 *
 * <p>Used by the connection's own thread only, or, once {@link #handOff handed off}, by the session's event loop.
 */
final class ConnectionResources implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConnectionResources.class);

    private final Socket client;
    private final SessionRegistry registry;
    private final EphemeralRoles roles;
    private final Semaphore handshakes;
    private boolean handshaking;
    private boolean slot;
    private EphemeralRoles.Lease lease;
    private UpstreamConnection upstream;
    private LiveSession registered;
    /** What this held went to an event loop's session ({@link #handOff}): closing here releases nothing. */
    private boolean handedOff;

    ConnectionResources(Socket client, SessionRegistry registry, EphemeralRoles roles, Semaphore handshakes) {
        this.client = client;
        this.registry = registry;
        this.roles = roles;
        this.handshakes = handshakes;
    }

    /** Takes one of the permits for connections still in their handshake; false when none is left. */
    boolean enterHandshake() {
        handshaking = handshakes.tryAcquire();
        return handshaking;
    }

    /** The session is about to run: its handshake permit goes to the next connection. */
    void handshakeDone() {
        if (handshaking) {
            handshaking = false;
            handshakes.release();
        }
    }

    /** Takes a session slot; false when limits.max_sessions are taken. */
    boolean reserveSlot() {
        slot = registry.reserve();
        return slot;
    }

    EphemeralRoles.Lease hold(EphemeralRoles.Lease lease) {
        this.lease = lease;
        return lease;
    }

    UpstreamConnection hold(UpstreamConnection upstream) {
        this.upstream = upstream;
        return upstream;
    }

    void register(LiveSession session) {
        registry.add(session);
        registered = session;
    }

    /**
     * Moves everything held to a new owner, the event loop that runs the session from now on (decision 0097); the
     * connection's thread then returns, and its try-with-resources releases nothing.
     */
    ConnectionResources handOff() {
        ConnectionResources to = new ConnectionResources(client, registry, roles, handshakes);
        to.handshaking = handshaking;
        to.slot = slot;
        to.lease = lease;
        to.upstream = upstream;
        to.registered = registered;
        handedOff = true;
        return to;
    }

    /** True when {@link #close} waits on a server (a session user's drop): an event loop runs it elsewhere. */
    boolean closeWaitsOnServer() {
        return lease != null;
    }

    /** Never throws: each release runs whatever the one before it did. */
    @Override
    public void close() {
        if (handedOff) {
            return;
        }
        if (upstream != null) {
            release("the upstream connection", upstream::close);
        }
        if (lease != null) {
            release("the session user", () -> roles.drop(lease));
        }
        if (registered != null) {
            release("the registry entry", () -> registry.remove(registered));
        }
        if (slot) {
            slot = false;
            release("the session slot", registry::release);
        }
        handshakeDone();
        try {
            client.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private static void release(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            log.error("could not release {}", what, e);
        }
    }
}
