package io.phigate.pg;

import io.phigate.session.SessionPolicies;
import io.phigate.credentials.EphemeralRoles;
import io.phigate.mask.MaskingKeys;
import io.phigate.policy.Admission;
import io.phigate.policy.Policy;
import io.phigate.sql.CatalogCache;
import io.phigate.policy.Role;

import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.cluster.Cluster;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.config.GatewayConfig;
import io.phigate.config.UpstreamConfig;
import io.phigate.identity.Identity;
import io.phigate.config.LimitsConfig;
import io.phigate.net.AddressRateLimiter;
import io.phigate.net.loop.EventLoops;
import io.phigate.pg.backend.HousekeepingClient;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.backend.UpstreamException;
import io.phigate.pg.frontend.ClientHandshake;
import io.phigate.pg.frontend.ClientHandshake.Channel;
import io.phigate.pg.frontend.HandshakeRefused;
import io.phigate.pg.frontend.StartupSettings;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.CancelRequest;
import io.phigate.pg.message.MessageCodec;
import io.phigate.pg.message.ProtocolException;
import io.phigate.pg.message.UnreadableStartupPacket;
import io.phigate.session.SessionRegistry;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes each accepted PostgreSQL connection from its first byte to a running {@link PgSession}: handshake and
 * token, session limit, upstream session, the durable session-start record, then the session itself. Every way
 * a connection can fail before that is answered with a FATAL ErrorResponse and written to the audit store.
 * Cancel requests are routed here too: clients hold the gateway's key, which maps to the upstream's.
 */
public final class PgFrontDoor implements Consumer<Socket>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgFrontDoor.class);

    private final Policy policy;
    private final SessionPolicies policies;
    private final CatalogCache catalogs;
    private final Approvals approvals;
    /** Where approvers decide, named in the notice a held statement's client gets; null without an HTTP listener. */
    private final String approvalsUrl;
    private final EphemeralRoles ephemeral;
    private final GatewayConfig config;
    private final ClientHandshake handshake;
    private final AuditSink audit;
    private final SessionRegistry registry;
    private final TokenExpiry expiry;
    private final BackendKeys keys;
    /** The other replicas sharing the audit store, to pass on a cancel for one of their keys ({@link Cluster#SOLO}). */
    private final Cluster cluster;
    private final AddressRateLimiter rateLimiter;
    /** Connections between accept and a running session: at most limits.max_handshakes at once. */
    private final Semaphore handshakes;
    /** Where plain sessions run after their handshake (limits.event_loop: plain); null: every session on threads. */
    private final EventLoops loops;

    public PgFrontDoor(GatewayConfig config, Policy policy, CatalogCache catalogs, MaskingKeys maskingKeys,
                       ClientHandshake handshake, AuditSink audit, SessionRegistry registry,
                       ScheduledExecutorService timers) {
        this(config, policy, catalogs, maskingKeys, handshake, audit, registry, timers,
                new EphemeralRoles(config.audit().replica(), HousekeepingClient.admin(config.upstreams()::get)));
    }

    /** {@code ephemeral} creates session users for upstreams in ephemeral credential mode. */
    public PgFrontDoor(GatewayConfig config, Policy policy, CatalogCache catalogs, MaskingKeys maskingKeys,
                       ClientHandshake handshake, AuditSink audit, SessionRegistry registry,
                       ScheduledExecutorService timers, EphemeralRoles ephemeral) {
        this(config, policy, catalogs, maskingKeys, handshake, audit, registry, timers, ephemeral,
                new Approvals(policy, audit, java.time.Clock.systemUTC()), null);
    }

    /**
     * {@code approvals} holds the statements waiting for a human (shared with the HTTP API that decides them);
     * {@code approvalsUrl} is that API's base ({@code http://host:port/api/v1/approvals/}), named in the notice a
     * held statement's client gets, or null when no HTTP listener serves it.
     */
    public PgFrontDoor(GatewayConfig config, Policy policy, CatalogCache catalogs, MaskingKeys maskingKeys,
                       ClientHandshake handshake, AuditSink audit, SessionRegistry registry,
                       ScheduledExecutorService timers, EphemeralRoles ephemeral, Approvals approvals,
                       String approvalsUrl) {
        this(config, policy, catalogs, maskingKeys, handshake, audit, registry, timers, ephemeral, approvals,
                approvalsUrl, Cluster.SOLO);
    }

    /** {@code cluster}: the replicas sharing the audit store; its slot is in every key issued here. */
    public PgFrontDoor(GatewayConfig config, Policy policy, CatalogCache catalogs, MaskingKeys maskingKeys,
                       ClientHandshake handshake, AuditSink audit, SessionRegistry registry,
                       ScheduledExecutorService timers, EphemeralRoles ephemeral, Approvals approvals,
                       String approvalsUrl, Cluster cluster) {
        this.cluster = cluster;
        this.keys = new BackendKeys(cluster.slot());
        this.approvals = approvals;
        this.approvalsUrl = approvalsUrl;
        this.ephemeral = ephemeral;
        this.config = config;
        this.policy = policy;
        this.catalogs = catalogs;
        this.policies = new SessionPolicies(policy, catalogs::invalidate, catalogs::freshness, maskingKeys,
                SessionPolicies::detectors, SessionPolicies::scope);
        this.handshake = handshake;
        this.audit = audit;
        this.registry = registry;
        this.expiry = new TokenExpiry(timers, config.identity().clockSkew(), config.identity().sessionGrace());
        this.rateLimiter = new AddressRateLimiter(config.limits().connectRatePerAddress(),
                config.limits().connectBurstPerAddress());
        this.handshakes = new Semaphore(config.limits().maxHandshakes());
        this.loops = config.limits().eventLoop() == LimitsConfig.EventLoop.OFF ? null
                : new EventLoops("pg-session-loop", config.limits().eventLoopThreads());
        if (loops != null) {
            log.info("plain sessions run on {} event loop(s) after their handshake (limits.event_loop: plain)",
                    loops.size());
        }
    }

    /** True when sessions may move to an event loop: the listener then accepts channel-backed sockets. */
    public boolean wantsChannelSockets() {
        return loops != null;
    }

    /** Stops the event loops, once the sessions on them have ended. */
    @Override
    public void close() {
        if (loops != null) {
            loops.close();
        }
    }

    /**
     * Runs one accepted connection to its end on the calling (virtual) thread. Everything the connection takes (a
     * handshake permit, a session slot, a session user, the upstream connection, the registry entry, the socket)
     * is handed to one {@link ConnectionResources}, which releases all of it whichever way the connection ends.
     */
    @Override
    public void accept(Socket socket) {
        String sessionId = UUID.randomUUID().toString();
        String clientAddress = address(socket);
        try (ConnectionResources held = new ConnectionResources(socket, registry, ephemeral, handshakes)) {
            if (!held.enterHandshake()) {
                refuseBusy(socket, sessionId, clientAddress);
                return;
            }
            serve(socket, held, sessionId, clientAddress);
        }
    }

    private void serve(Socket socket, ConnectionResources held, String sessionId, String clientAddress) {
        long deadline = System.nanoTime() + config.limits().startupTimeout().toNanos();
        Channel ch = null;
        String upstreamName = null;
        String claimedIssuer = null;
        String claimedSubject = null;
        boolean startupRead = false;
        try {
            socket.setTcpNoDelay(true);
            ch = handshake.open(socket, deadline, config.limits().maxFrameBytes());
            ClientHandshake.Opening opening = handshake.negotiate(ch);
            if (opening instanceof ClientHandshake.Cancel c) {
                cancel(c.request(), sessionId, clientAddress);
                return;
            }
            ClientHandshake.Startup startup = (ClientHandshake.Startup) opening;
            startupRead = true;
            upstreamName = startup.database();
            handshake.checkStartup(ch, startup);
            // Checked once the startup packet is read, so the client can read the refusal, and before the token
            // is verified or a session slot taken, which is what a flood from one address would exhaust.
            if (!rateLimiter.tryAcquire(socket.getInetAddress())) {
                throw new HandshakeRefused(ErrorCodes.TOO_MANY_CONNECTIONS, "too many connections from "
                        + socket.getInetAddress().getHostAddress() + ": phigate's limit is "
                        + config.limits().connectRatePerAddress() + " a second, bursts of "
                        + config.limits().connectBurstPerAddress()
                        + " (limits.connect_rate_per_address, limits.connect_burst_per_address)", upstreamName);
            }
            if (!held.reserveSlot()) {
                throw new HandshakeRefused(ErrorCodes.TOO_MANY_CONNECTIONS, "sorry, too many clients already: phigate's"
                        + " limit of " + registry.maxSessions() + " sessions (limits.max_sessions) is reached", upstreamName);
            }
            ClientHandshake.Authenticated auth;
            try {
                auth = handshake.authenticate(ch, startup);
            } catch (HandshakeRefused r) {
                claimedIssuer = r.claimedIssuer();
                claimedSubject = r.claimedSubject();
                throw r;
            }
            Identity identity = auth.identity();
            claimedIssuer = identity.issuer();
            claimedSubject = identity.subject();
            String revoked = config.identity().revoked().reason(identity.subject(), auth.keyId());
            if (revoked != null) {
                throw new HandshakeRefused(ErrorCodes.INVALID_AUTHORIZATION, revoked, upstreamName);
            }
            UpstreamConfig upstream = config.upstreams().get(upstreamName);
            if (upstream == null) {
                throw new HandshakeRefused(ErrorCodes.INVALID_CATALOG_NAME,
                        "database \"" + upstreamName + "\" is not served by this gateway", upstreamName);
            }
            Admission admission = Admission.decide(policy, identity, upstreamName, Instant.now());
            if (!admission.admitted()) {
                throw new HandshakeRefused(admission.sqlState(), admission.reason(), upstreamName);
            }
            StartupSettings settings = StartupSettings.of(startup.message().parameters(), upstreamName);
            if (policies.analyses(upstream.name(), admission.role())) {
                settings = AnalysedStartup.check(settings, upstream);
            }
            if (auth.justification() != null) {
                // Bound at the credential exchange: it wins over one given again at startup.
                settings = new StartupSettings(settings.upstream(), auth.justification());
            }
            ch.endHandshake();
            EphemeralRoles.Lease lease = null;
            UpstreamConnection up;
            try {
                if (upstream.ephemeralCredentials()) {
                    lease = held.hold(ephemeral.create(upstream.name(), sessionId, group(admission.role(), upstream),
                            expiry.end(identity)));
                    up = held.hold(UpstreamConnection.open(upstream, lease.user(), lease::password,
                            settings.upstream(), config.limits().maxFrameBytes(), loops != null));
                    ephemeral.loggedIn(lease);
                } else {
                    up = held.hold(UpstreamConnection.open(upstream, upstream.credentials().user(),
                            upstream.credentials().password()::read, settings.upstream(),
                            config.limits().maxFrameBytes(), loops != null));
                }
            } catch (UpstreamException e) {
                log.warn("session {}: upstream {} unavailable: {}", sessionId, upstreamName, e.getMessage());
                throw new HandshakeRefused(e.sqlState(), e.getMessage(), upstreamName);
            } catch (EphemeralRoles.Unavailable e) {
                log.warn("session {}: upstream {} unavailable: {}", sessionId, upstreamName, e.getMessage());
                throw new HandshakeRefused(ErrorCodes.CONNECTION_FAILURE, e.getMessage(), upstreamName);
            }
            runSession(sessionId, clientAddress, ch, startup, identity, admission.role(), settings, up, lease, held);
        } catch (HandshakeRefused r) {
            refuse(ch, sessionId, clientAddress, r.upstream(), claimedIssuer, claimedSubject, r.sqlState(), r.getMessage());
        } catch (ProtocolException e) {
            refuse(ch, sessionId, clientAddress, upstreamName, claimedIssuer, claimedSubject,
                    ErrorCodes.PROTOCOL_VIOLATION, e.getMessage());
        } catch (UnreadableStartupPacket e) {
            // PostgreSQL logs these and closes without a word; the audit store is the gateway's log.
            record(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress, null, null, null,
                    ErrorCodes.PROTOCOL_VIOLATION, e.getMessage()));
        } catch (SocketTimeoutException e) {
            String why = "startup did not complete within " + config.limits().startupTimeout().toMillis()
                    + " ms (limits.startup_timeout)";
            // Before its startup packet is whole the client hears nothing, as from PostgreSQL's own timeout then.
            refuse(startupRead ? ch : null, sessionId, clientAddress, upstreamName, claimedIssuer, claimedSubject,
                    ErrorCodes.PROTOCOL_VIOLATION, startupRead ? why : "incomplete startup packet: " + why);
        } catch (EOFException e) {
            if (upstreamName != null) {
                record(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress, upstreamName,
                        claimedIssuer, claimedSubject, null, "client closed the connection during startup"));
            }
        } catch (IOException e) {
            log.debug("connection {} from {} failed during startup: {}", sessionId, clientAddress, e.toString());
            if (upstreamName != null) {
                record(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress, upstreamName,
                        claimedIssuer, claimedSubject, null, "connection failed during startup: " + e.getClass().getSimpleName()));
            }
        } catch (RuntimeException e) {
            log.error("connection {} failed during startup", sessionId, e);
            refuse(ch, sessionId, clientAddress, upstreamName, claimedIssuer, claimedSubject, "XX000",
                    "phigate internal error during startup");
        }
    }

    /**
     * Over limits.max_handshakes: the client is told at once, before it has sent anything (as PostgreSQL's
     * postmaster tells a client it cannot fork for), and the refusal is queued for the audit store without waiting,
     * so a flood costs neither TLS nor a durable write per connection. What the client sent meanwhile is read and
     * dropped for at most a second, so closing does not reset the connection before the error is read.
     */
    private void refuseBusy(Socket socket, String sessionId, String clientAddress) {
        String message = "too many connections are starting at once: phigate's limit of "
                + config.limits().maxHandshakes() + " connections in startup (limits.max_handshakes) is reached;"
                + " try again";
        audit.appendUnobserved(List.of(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress, null,
                null, null, ErrorCodes.TOO_MANY_CONNECTIONS, message)));
        try {
            socket.setSoTimeout(1_000);
            socket.getOutputStream().write(MessageCodec.encode(ErrorCodes.fatal(ErrorCodes.TOO_MANY_CONNECTIONS,
                    message)));
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            socket.getInputStream().skip(64 * 1024);
        } catch (IOException ignored) {
            // the client is gone, or sent nothing more within the second
        }
    }

    /** The group an ephemeral session user joins: the policy role's own, else the upstream's default. */
    private static String group(Role role, UpstreamConfig upstream) {
        return role != null && role.group() != null ? role.group() : upstream.credentials().group();
    }

    private void runSession(String sessionId, String clientAddress, Channel ch, ClientHandshake.Startup startup,
                            Identity identity, Role role, StartupSettings settings, UpstreamConnection up,
                            EphemeralRoles.Lease lease, ConnectionResources held)
            throws HandshakeRefused, IOException {
        String upstreamUser = lease == null ? null : lease.user();
        SessionPolicies.Setup setup;
        try {
            // The side connection for row estimates logs in as this session's own upstream user, with its settings.
            Map<String, String> sessionSettings = settings.upstream();
            int frames = config.limits().maxFrameBytes();
            RowEstimator estimator = new RowEstimator(extra -> {
                Map<String, String> all = new java.util.HashMap<>(sessionSettings);
                all.putAll(extra);
                return lease == null ? UpstreamConnection.open(up.config(), all, frames)
                        : UpstreamConnection.open(up.config(), lease.user(), lease::password, all, frames);
            }, sessionId);
            setup = policies.forSession(up.config().name(), () -> catalogs.analyzer(up.config().name()), role, estimator);
        } catch (SessionPolicies.CatalogUnavailable e) {
            log.warn("session {}: {}", sessionId, e.getMessage());
            throw new HandshakeRefused(ErrorCodes.CANNOT_CONNECT_NOW, e.getMessage(), startup.database());
        }
        AnalysedStartup.checkOpened(setup, up, settings, startup.database());
        try {
            audit.appendDurably(List.of(new AuditEvent.SessionStarted(Instant.now(), sessionId, clientAddress,
                    startup.database(), identity.issuer(), identity.subject(), identity.claimsDigest(),
                    startup.user(), settings.upstream(), ch.tlsDescription(), role == null ? null : role.name(),
                    settings.justification(), upstreamUser)));
        } catch (AuditUnavailableException e) {
            throw new HandshakeRefused(ErrorCodes.SYSTEM_IO_ERROR,
                    "phigate cannot start a session: the audit store is unavailable (" + e.getMessage() + ")",
                    startup.database());
        }
        BackendKeys.Key key = keys.issue();
        int pid = key.processId();
        ScheduledFuture<?>[] ending = new ScheduledFuture<?>[1];
        LoopSession onLoop = loops == null ? null : LoopSession.of(loops.next(), ch, up, setup,
                config.limits().maxFrameBytes(), config.audit().writeTimeout());
        PgSession session = new PgSession(sessionId, pid, key.secret(), identity, startup.database(), clientAddress, ch,
                up, audit, config.audit().responseCap(), role, settings.justification(), setup, approvals, approvalsUrl,
                () -> {
                    keys.release(pid);
                    if (ending[0] != null) {
                        ending[0].cancel(false);
                    }
                }, onLoop);
        boolean movedToLoop = false;
        keys.bind(pid, session);
        held.register(session);
        // Before the client hears ReadyForQuery: a client that connects again at once must find the permit free.
        held.handshakeDone();
        try {
            ch.send(BackendMessage.AuthenticationOk.INSTANCE);
            for (BackendMessage.ParameterStatus p : up.parameters()) {
                ch.send(p);
            }
            for (BackendMessage.NoticeResponse n : up.startupNotices()) {
                ch.send(n);
            }
            ch.send(new BackendMessage.BackendKeyData(pid, key.secret()));
            ch.sendAndFlush(new BackendMessage.ReadyForQuery(up.transactionStatus()));
            ending[0] = expiry.schedule(session, identity);
            movedToLoop = session.moveToLoop(held);
            if (!movedToLoop) {
                session.run();
            }
        } finally {
            if (!movedToLoop) {
                keys.release(pid); // else the session's end releases it, on its loop
            }
        }
    }

    private void cancel(CancelRequest request, String sessionId, String clientAddress) {
        if (keys.elsewhere(request.processId())
                && cluster.forwardCancel(request.processId(), request.secretKey(), clientAddress)) {
            return; // the replica that issued the key records it, matched or not
        }
        cancel(request.processId(), request.secretKey(), sessionId, clientAddress);
    }

    /** A CancelRequest another replica received for a key issued here (run by the cluster's keeper). */
    public void cancelPassedOn(int processId, byte[] secret, String clientAddress) {
        cancel(processId, secret, UUID.randomUUID().toString(), clientAddress);
    }

    private void cancel(int processId, byte[] secret, String sessionId, String clientAddress) {
        PgSession target = keys.matching(processId, secret);
        boolean matched = target != null;
        record(new AuditEvent.CancelRequested(Instant.now(), matched ? target.id() : sessionId, clientAddress, matched));
        if (matched) {
            try {
                target.cancelRunningStatement();
            } catch (IOException e) {
                log.warn("cancel for session {} could not reach the upstream: {}", target.id(), e.toString());
            }
        }
    }

    private void refuse(Channel ch, String sessionId, String clientAddress, String upstream, String issuer,
                        String subject, String sqlState, String message) {
        record(new AuditEvent.ConnectionRefused(Instant.now(), sessionId, clientAddress, upstream, issuer, subject,
                sqlState, message));
        if (ch != null) {
            try {
                ch.out().write(MessageCodec.encode(ErrorCodes.fatal(sqlState, message)));
                ch.out().flush();
            } catch (IOException ignored) {
                // the client is gone
            }
        }
    }

    private void record(AuditEvent event) {
        try {
            audit.appendDurably(List.of(event));
        } catch (AuditUnavailableException e) {
            log.warn("could not record a refused connection: {}", e.getMessage());
        }
    }

    private static String address(Socket socket) {
        return socket.getRemoteSocketAddress() instanceof InetSocketAddress isa
                ? isa.getAddress().getHostAddress() + ":" + isa.getPort() : String.valueOf(socket.getRemoteSocketAddress());
    }
}
