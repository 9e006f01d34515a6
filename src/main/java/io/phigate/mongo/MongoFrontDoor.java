package io.phigate.mongo;

import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.config.DocumentsConfig;
import io.phigate.config.HostPort;
import io.phigate.credentials.CredentialExchange;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.identity.IdentityConfig;
import io.phigate.identity.TokenVerifier;
import io.phigate.mongo.backend.UpstreamConnection;
import io.phigate.mongo.backend.UpstreamFacts;
import io.phigate.mongo.frontend.ClientTls;
import io.phigate.mongo.frontend.PlainAuthentication;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.net.Listener;
import io.phigate.net.ReadDeadline;
import io.phigate.net.SessionThreads;
import io.phigate.session.SessionRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The document store's front door: accepts clients on its own listener, bounds how many are connected, and runs each
 * as a {@link MongoSession} on the connection's virtual thread ({@code mongo-conn-N}). Keeps what the upstream said
 * of itself (wire versions, limits), asked once and refreshed by every session's own upstream hello, so that a
 * client's first hello, before any authentication, costs no upstream connection after the first.
 */
public final class MongoFrontDoor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MongoFrontDoor.class);

    /**
     * @param upstreamName       the upstream's name in the records
     * @param upstream           where the document store listens
     * @param maxMessageBytes    the largest message a client may send (its hello says the smaller of this and the
     *                           server's own)
     * @param maxConnections     connected clients, authenticated or not; beyond it a connection is closed at once
     * @param unauthenticatedIdle how long a connection that has not authenticated may stay silent (drivers' monitors
     *                           send a hello every 10 s)
     * @param responseCap        reply bytes kept per command in its record (the rest only digested)
     * @param identity           revocations and the session grace after a token expires
     * @param tls                TLS toward clients (the PostgreSQL listener's settings)
     * @param upstreamTls        TLS toward the store
     * @param threads            where connections run
     * @param upstreamLogin      the gateway's own SCRAM-SHA-256 login to the store; null for none
     */
    public record Settings(String upstreamName, HostPort upstream, int maxMessageBytes, int maxConnections,
                           Duration unauthenticatedIdle, int responseCap, IdentityConfig identity, ClientTls tls,
                           UpstreamTlsConfig upstreamTls, SessionThreads threads,
                           DocumentsConfig.Credentials upstreamLogin) {
        /** A store the gateway does not log in to. */
        public Settings(String upstreamName, HostPort upstream, int maxMessageBytes, int maxConnections,
                        Duration unauthenticatedIdle, int responseCap, IdentityConfig identity, ClientTls tls,
                        UpstreamTlsConfig upstreamTls, SessionThreads threads) {
            this(upstreamName, upstream, maxMessageBytes, maxConnections, unauthenticatedIdle, responseCap, identity,
                    tls, upstreamTls, threads, null);
        }

        /** Every connection on a virtual thread. */
        public Settings(String upstreamName, HostPort upstream, int maxMessageBytes, int maxConnections,
                        Duration unauthenticatedIdle, int responseCap, IdentityConfig identity, ClientTls tls,
                        UpstreamTlsConfig upstreamTls) {
            this(upstreamName, upstream, maxMessageBytes, maxConnections, unauthenticatedIdle, responseCap, identity,
                    tls, upstreamTls, SessionThreads.VIRTUAL);
        }

        /** Cleartext both ways. */
        public Settings(String upstreamName, HostPort upstream, int maxMessageBytes, int maxConnections,
                        Duration unauthenticatedIdle, int responseCap, IdentityConfig identity) {
            this(upstreamName, upstream, maxMessageBytes, maxConnections, unauthenticatedIdle, responseCap, identity,
                    ClientTls.CLEARTEXT, UpstreamTlsConfig.DISABLED);
        }
    }

    final Settings settings;
    final PlainAuthentication authentication;
    final AuditSink audit;
    final CommandGate gate;
    final DocumentPolicy documents;
    /** Where authenticated sessions are listed and can be ended; their count is bounded by {@link #slots}. */
    final SessionRegistry sessions;
    /** Where commands the policy's rules hold are decided; null when the gateway has none (such rules refuse). */
    final Approvals approvals;
    /** Which agent each of the store's logical sessions belongs to, across connections. */
    final LogicalSessions logicalSessions = new LogicalSessions();
    private final Semaphore slots;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicReference<UpstreamFacts> facts = new AtomicReference<>();
    /** Connected clients' sockets, so that closing the door ends their sessions (they are not in the registry). */
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Listener listener;

    private MongoFrontDoor(InetSocketAddress address, Settings settings, PlainAuthentication authentication,
                           AuditSink audit, CommandGate gate, DocumentPolicy documents, SessionRegistry sessions,
                           Approvals approvals) throws IOException {
        this.settings = settings;
        this.approvals = approvals;
        this.sessions = sessions;
        this.documents = documents;
        this.authentication = authentication;
        this.audit = audit;
        this.gate = gate;
        this.slots = new Semaphore(settings.maxConnections());
        this.listener = new Listener("mongo", address, this::accept, settings.threads());
    }

    public static MongoFrontDoor start(InetSocketAddress address, Settings settings, TokenVerifier verifier,
                                       AuditSink audit, CommandGate gate) throws IOException {
        return start(address, settings, verifier, audit, gate, DocumentPolicy.NONE,
                new SessionRegistry(settings.maxConnections()), null);
    }

    /**
     * With {@code documents}: the store's PHI catalog and the policy's roles, masking each session's replies; and
     * {@code sessions}, where authenticated sessions are listed beside PostgreSQL's (and ended through it). The
     * registry's slots are not taken: the door bounds its own connections (decision 0042). {@code approvals}
     * decides the commands the policy's rules hold (null: none can be, and such commands are refused).
     */
    public static MongoFrontDoor start(InetSocketAddress address, Settings settings, TokenVerifier verifier,
                                       AuditSink audit, CommandGate gate, DocumentPolicy documents,
                                       SessionRegistry sessions, Approvals approvals) throws IOException {
        return start(address, settings, verifier, null, audit, gate, documents, sessions, approvals);
    }

    /**
     * With {@code exchange}: the one-time credentials the HTTP API issues, redeemed by their user names as on the
     * PostgreSQL side (null: such user names are refused).
     */
    public static MongoFrontDoor start(InetSocketAddress address, Settings settings, TokenVerifier verifier,
                                       CredentialExchange exchange, AuditSink audit, CommandGate gate,
                                       DocumentPolicy documents, SessionRegistry sessions, Approvals approvals)
            throws IOException {
        MongoFrontDoor door = new MongoFrontDoor(address, settings, new PlainAuthentication(verifier, exchange,
                settings.identity().revoked()), audit, gate, documents, sessions, approvals);
        door.listener.start();
        return door;
    }

    public InetSocketAddress address() {
        return listener.address();
    }

    private void accept(Socket socket) {
        if (!slots.tryAcquire()) {
            log.warn("mongo: refused a connection from {}: {} clients connected", socket.getInetAddress(),
                    settings.maxConnections());
            closeQuietly(socket);
            return;
        }
        open.add(socket);
        try {
            // The TLS handshake and the first message share one deadline, a timer rather than a socket timeout
            // (UnauthenticatedReads says why); the session bounds each later message until it authenticates.
            ReadDeadline first = ReadDeadline.arm(socket, System.nanoTime() + settings.unauthenticatedIdle().toNanos());
            ClientTls.Opened opened;
            try {
                opened = settings.tls().open(socket);
            } catch (javax.net.ssl.SSLException e) {
                audit.appendUnobserved(List.of(new AuditEvent.ConnectionRefused(Instant.now(),
                        UUID.randomUUID().toString(), socket.getInetAddress().getHostAddress(), settings.upstreamName(),
                        null, null, null, "TLS handshake failed: " + (first.fired() ? "not done within "
                        + settings.unauthenticatedIdle() : e.getMessage()))));
                if (!first.fired()) {
                    first.clear(); // its timer ends now, not at the deadline
                }
                return;
            }
            new MongoSession(this, opened, socket, first, connections.incrementAndGet()).run();
        } catch (IOException e) {
            log.debug("mongo: connection from {} failed before its first message: {}", socket.getInetAddress(),
                    e.toString());
        } finally {
            open.remove(socket);
            slots.release();
            closeQuietly(socket);
        }
    }

    /** What the upstream said of itself, asking it over a connection of its own the first time. */
    UpstreamFacts upstreamFacts() throws IOException {
        UpstreamFacts known = facts.get();
        if (known != null) {
            return known;
        }
        try (UpstreamConnection probe = UpstreamConnection.open(settings.upstream(), settings.upstreamTls())) {
            learned(probe.facts());
            return probe.facts();
        }
    }

    /** A session's upstream hello is the server's latest word on itself. */
    void learned(UpstreamFacts latest) {
        facts.set(latest);
        logicalSessions.storeKeepsSessionsFor(latest.logicalSessionTimeoutMinutes());
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Clients connected now, authenticated or not. */
    public int connected() {
        return open.size();
    }

    /** Stops accepting; connected clients go on (a drain ends them later with {@link #close}). */
    public void stopAccepting() {
        listener.close();
    }

    /** Stops accepting and closes every connected client's socket, which ends its session at its next read. */
    @Override
    public void close() {
        listener.close();
        open.forEach(MongoFrontDoor::closeQuietly);
    }
}
