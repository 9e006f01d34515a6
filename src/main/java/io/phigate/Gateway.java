package io.phigate;

import io.phigate.config.ConfigException;
import io.phigate.config.PolicyLoader;
import io.phigate.mask.MaskingKeys;
import io.phigate.pg.backend.FingerprintConnections;
import io.phigate.pg.backend.HousekeepingClient;
import io.phigate.session.SessionMasking;
import io.phigate.policy.Policy;
import io.phigate.sql.CatalogCache;
import io.phigate.sql.GuardedCatalog;

import io.phigate.approval.Approvals;
import io.phigate.audit.AuditEvent;
import io.phigate.approval.LeftOpen;
import io.phigate.audit.AuditConfig;
import io.phigate.cluster.Cluster;
import io.phigate.cluster.PostgresCluster;
import io.phigate.cluster.PublishedSession;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.phigate.config.ClientTlsConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.config.UpstreamConfig;
import io.phigate.credentials.CredentialExchange;
import io.phigate.credentials.EphemeralRoles;
import io.phigate.credentials.RoleJanitor;
import io.phigate.console.Console;
import io.phigate.http.HttpServer;
import io.phigate.http.Readiness;
import io.phigate.identity.TokenVerifier;
import io.phigate.net.Listener;
import io.phigate.net.SessionThreads;
import io.phigate.net.TlsContexts;
import io.phigate.mongo.CommandGate;
import io.phigate.mongo.MongoFrontDoor;
import io.phigate.mongo.frontend.ClientTls;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.pg.PgFrontDoor;
import io.phigate.pg.frontend.ClientHandshake;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.session.LiveSession;
import io.phigate.session.SessionRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles the gateway from its configuration with plain constructors: the one place that knows how the parts
 * fit. Start order is store, verifier, listeners, so nothing is accepted before the audit store is open.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    /**
     * How long a document-store connection may stay silent before it authenticates: drivers' monitors hold such a
     * connection and send a hello every 10 s, so this must be well above that (limits.startup_timeout is not).
     */
    private static final Duration MONGO_UNAUTHENTICATED_IDLE = Duration.ofSeconds(30);
    /** However often /readyz is asked, its checks run at most once in this period. */
    private static final Duration READINESS_REUSE = Duration.ofSeconds(1);

    private final GatewayConfig config;
    private final AuditSink audit;
    private final SessionRegistry sessions;
    private final ScheduledExecutorService timers;
    private final Listener postgres;
    /** Closed after the sessions: it owns the event loops plain sessions may run on (decision 0097). */
    private final PgFrontDoor frontDoor;
    private final MongoFrontDoor mongo;
    private final HttpServer http;
    private final RoleJanitor janitor;
    private final Readiness readiness;
    /** Set once a drain has closed both listeners; a connection attempt after it is refused. */
    private volatile boolean stoppedAccepting;
    private final Cluster cluster;
    /** The shared catalog reading's kept connections, one per upstream (decision 0081). */
    private final FingerprintConnections fingerprints;

    private Gateway(GatewayConfig config, AuditSink audit, SessionRegistry sessions, ScheduledExecutorService timers,
                    Listener postgres, PgFrontDoor frontDoor, MongoFrontDoor mongo, HttpServer http,
                    RoleJanitor janitor, Readiness readiness, Cluster cluster, FingerprintConnections fingerprints) {
        this.frontDoor = frontDoor;
        this.fingerprints = fingerprints;
        this.readiness = readiness;
        this.cluster = cluster;
        this.mongo = mongo;
        this.janitor = janitor;
        this.config = config;
        this.audit = audit;
        this.sessions = sessions;
        this.timers = timers;
        this.postgres = postgres;
        this.http = http;
    }

    public static Gateway start(GatewayConfig config) throws IOException, GeneralSecurityException {
        SSLContext tls = config.tls().mode() != ClientTlsConfig.Mode.DISABLE && config.tls().hasCertificate()
                ? TlsContexts.server(config.tls().certFile(), config.tls().keyFile()) : null;
        TokenVerifier verifier = new TokenVerifier(config.identity());
        Policy policy;
        try {
            policy = config.policy() == null ? Policy.NONE : PolicyLoader.load(config.policy());
        } catch (ConfigException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (policy != Policy.NONE && !io.phigate.sql.PgGrammar.available()) {
            // A policy means statements are analysed, and only the server's own grammar may read them (decision 0033).
            throw new IOException("the policy needs statements analysed with PostgreSQL's grammar, which is not"
                    + " available: " + io.phigate.sql.PgGrammar.unavailableReason() + "; run bin/setup");
        }
        AuditStore store;
        try {
            store = new AuditStore(config.audit());
        } catch (AuditUnavailableException e) {
            throw new IOException(e.getMessage(), e);
        }
        AuditSink audit;
        AuditFileGuard guard;
        try {
            guard = config.audit().postgres() == null ? new AuditFileGuard(store, config.audit().sqlitePath()) : null;
            audit = guard == null ? store : guard;
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        Cluster cluster;
        try {
            // Replicas sharing a PostgreSQL store coordinate through it (issue 24); a SQLite store is one gateway's.
            cluster = config.audit().postgres() == null ? Cluster.SOLO
                    : PostgresCluster.join(config.audit(), audit, PostgresCluster.Settings.DEFAULTS);
        } catch (IOException e) {
            audit.close();
            throw e;
        }
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("phigate-timers").daemon().factory());
        FingerprintConnections fingerprints = FingerprintConnections.of(config.upstreams()::get, timers);
        SessionRegistry sessions = new SessionRegistry(config.limits().maxSessions(), cluster);
        RoleJanitor janitor = null;
        HttpServer http = null;
        MongoFrontDoor mongo = null;
        try {
            EphemeralRoles ephemeral = new EphemeralRoles(config.audit().replica(),
                    HousekeepingClient.admin(config.upstreams()::get));
            janitor = new RoleJanitor(ephemeral, config.upstreams().values().stream()
                    .filter(UpstreamConfig::ephemeralCredentials).map(UpstreamConfig::name).toList()).start(timers);
            CredentialExchange exchange = new CredentialExchange(policy, config.identity().revoked()::reason,
                    config.identity().credentialTtl(), servedUpstreams(config), Clock.systemUTC());
            MaskingKeys keys = maskingKeys(policy);
            if (!policy.phi().isEmpty()) {
                // Read now, off the start-up path, rather than when a masked session's first error arrives; only
                // masked sessions' messages are read against them.
                Thread.ofVirtual().name("phigate-message-templates").start(SessionMasking::loadMessageTemplates);
            }
            Approvals approvals = new Approvals(policy, audit, Clock.systemUTC(), keys, cluster.approvals());
            expireApprovalsLeftOpen(policy, audit, config);
            // Readers in this process see every acknowledged record: they wait for the journal's ingester.
            AuditQueries queries = AuditQueries.of(config.audit())
                    .waitingFor(() -> store.awaitStored(config.audit().writeTimeout()));
            Console console = config.console() == null || config.listen().http() == null ? null
                    : new Console(new Console.Parts(config, policy, verifier, queries, audit, store::stats, sessions,
                            approvals, Clock.systemUTC()));
            Readiness readiness = new Readiness(HealthChecks.of(config, policy, store, guard), READINESS_REUSE);
            http = config.listen().http() == null ? null
                    : new HttpServer(config.listen().http(), config.http(), metrics(sessions, store), queries,
                            verifier, exchange, sessions, approvals, console, readiness).start();
            // Where a person decides, as the held statement's NOTICE and the webhook name it: the console's page
            // for the request when there is a console (ID/approve there leads to it too), else the API.
            String approvalsUrl = http == null ? null : "http://" + hostForUrl(http.address().getHostString()) + ":"
                    + http.address().getPort() + (console == null ? "/api/v1/approvals/" : "/console/approvals/");
            PgFrontDoor frontDoor = new PgFrontDoor(config, policy, new CatalogCache(
                    name -> new GuardedCatalog(HousekeepingClient.loadCatalog(config.upstreams().get(name))),
                    fingerprints),
                    keys, new ClientHandshake(config.tls(), tls, verifier, exchange), audit, sessions,
                    timers, ephemeral, approvals, approvalsUrl, cluster);
            cluster.start(approvals, local(config, sessions, frontDoor));
            SessionThreads threads = new SessionThreads(config.limits().platformSessionThreads());
            Listener postgres = new Listener("pg", config.listen().postgres().resolve(), frontDoor, threads,
                    frontDoor.wantsChannelSockets());
            mongo = config.documents() == null ? null : MongoFrontDoor.start(config.listen().mongo().resolve(),
                    mongoSettings(config, tls, threads), verifier, exchange, audit, CommandGate.FORWARD_ALL,
                    new DocumentPolicy(config.documents().defaultCatalog(), policy, keys), sessions, approvals);
            Gateway gateway = new Gateway(config, audit, sessions, timers, postgres, frontDoor, mongo, http, janitor,
                    readiness, cluster, fingerprints);
            postgres.start();
            return gateway;
        } catch (IOException | RuntimeException e) {
            if (mongo != null) {
                mongo.close();
            }
            if (janitor != null) {
                janitor.close();
            }
            if (http != null) {
                http.close();
            }
            timers.shutdownNow();
            fingerprints.close();
            cluster.close();
            audit.close();
            throw e;
        }
    }

    /** What the other replicas may ask of this one: its sessions, ending one, a cancel for one of its keys. */
    private static Cluster.Local local(GatewayConfig config, SessionRegistry sessions, PgFrontDoor frontDoor) {
        String replica = config.audit().replica() == null ? AuditConfig.DEFAULT_REPLICA : config.audit().replica();
        return new Cluster.Local() {
            @Override
            public java.util.List<PublishedSession> sessions() {
                return sessions.published(replica);
            }

            @Override
            public boolean kill(String id) {
                return sessions.killHere(id);
            }

            @Override
            public void cancel(int processId, byte[] secret, String clientAddress) {
                frontDoor.cancelPassedOn(processId, secret, clientAddress);
            }
        };
    }

    /** Every upstream a one-time credential may be bound to: the databases and the document stores. */
    private static java.util.Set<String> servedUpstreams(GatewayConfig config) {
        java.util.Set<String> names = new java.util.HashSet<>(config.upstreams().keySet());
        if (config.documents() != null) {
            names.addAll(config.documents().upstreams().keySet());
        }
        return names;
    }

    /**
     * The document-store front door's bounds are the PostgreSQL side's: the frame limit caps a client's message, the
     * session limit its connections (counted apart: its sessions are not in the registry yet, decision 0042).
     */
    private static MongoFrontDoor.Settings mongoSettings(GatewayConfig config, SSLContext tls,
                                                         SessionThreads threads) {
        return new MongoFrontDoor.Settings(config.documents().defaultUpstream(), config.documents().defaultAddress(),
                config.limits().maxFrameBytes(), config.limits().maxSessions(), MONGO_UNAUTHENTICATED_IDLE,
                config.audit().responseCap(), config.identity(), new ClientTls(config.tls(), tls),
                config.documents().defaultTls(), threads, config.documents().defaultCredentials());
    }

    /** Open approval requests do not survive a restart: each is recorded as expired before any session starts. */
    private static void expireApprovalsLeftOpen(Policy policy, AuditSink audit, GatewayConfig config)
            throws IOException {
        try {
            int n = LeftOpen.expire(policy, audit, Clock.systemUTC(), config.audit().replica(),
                    AuditQueries.of(config.audit()));
            if (n > 0) {
                log.info("expired {} approval request(s) left open by the previous run (requests live in memory)", n);
            }
        } catch (java.sql.SQLException | AuditUnavailableException e) {
            throw new IOException("cannot expire the approval requests left open by the previous run: "
                    + e.getMessage(), e);
        }
    }

    private static String hostForUrl(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The policy's masking key, or null (keyed operators then redact); a key that cannot be read stops the start. */
    private static MaskingKeys maskingKeys(Policy policy) throws IOException {
        if (policy.masking().key() == null) {
            if (!policy.phi().isEmpty()) {
                log.warn("the policy declares PHI but no masking key (masking.key_file or key_env): token, fpe and"
                        + " date_shift operators redact instead");
            }
            return null;
        }
        try {
            return MaskingKeys.derive(policy.masking().key().read().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException("masking key " + policy.masking().key() + ": " + e.getMessage(), e);
        }
    }

    /** Counts and states only: nothing here may carry statement text, parameters or values. */
    private static PrometheusMeterRegistry metrics(SessionRegistry sessions, AuditStore store) {
        PrometheusMeterRegistry registry = HttpServer.newRegistry();
        Gauge.builder("phigate_sessions_active", sessions, SessionRegistry::size)
                .description("Authenticated sessions now open").register(registry);
        Gauge.builder("phigate_sessions_max", sessions, SessionRegistry::maxSessions)
                .description("limits.max_sessions").register(registry);
        FunctionCounter.builder("phigate_audit_events_written", store, s -> s.stats().eventsWritten())
                .description("Audit events made durable").register(registry);
        FunctionCounter.builder("phigate_audit_commits", store, s -> s.stats().commits())
                .description("Group commits of the audit store").register(registry);
        FunctionCounter.builder("phigate_audit_failures", store, s -> s.stats().failures())
                .description("Audit commits that failed; their statements were refused").register(registry);
        FunctionCounter.builder("phigate_audit_refusals", store, s -> s.stats().refusals())
                .description("Appends refused because the audit queue was full or closed").register(registry);
        return registry;
    }

    /** Null when the HTTP listener is disabled. */
    public InetSocketAddress httpAddress() {
        return http == null ? null : http.address();
    }

    public InetSocketAddress postgresAddress() {
        return postgres.address();
    }

    /** Null when there is no document-store listener. */
    public InetSocketAddress mongoAddress() {
        return mongo == null ? null : mongo.address();
    }

    /**
     * Waits, at most the audit write timeout, until every record acknowledged so far is in the audit store, so a
     * reader of the store sees them (the journal fills the store a few milliseconds behind; decision 0021).
     */
    public boolean awaitAuditStored() {
        return audit.awaitStored(config.audit().writeTimeout());
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    public GatewayConfig config() {
        return config;
    }

    /**
     * What SIGTERM does: readiness turns 503 at once, both listeners stop accepting, open sessions may finish for
     * up to {@code limits.drain_grace}, then those left are ended with 57P01 as PostgreSQL does on shutdown, and
     * the store is closed. The start and the end of the drain are in the audit chain (and each session's end).
     */
    public void drain() {
        drain(config.limits().drainGrace());
    }

    void drain(Duration grace) {
        // Listeners first: whoever sees "draining" (a probe, the test) then knows a new connection is refused.
        postgres.close();
        if (mongo != null) {
            mongo.stopAccepting();
        }
        stoppedAccepting = true;
        readiness.drain();
        int open = openSessions();
        log.info("draining: {} session(s) open, up to {} to finish", open, grace);
        audit.appendUnobserved(List.of(new AuditEvent.GatewayDrain(Instant.now(), "started", open, grace)));
        long deadline = System.nanoTime() + grace.toNanos();
        while (openSessions() > 0 && System.nanoTime() < deadline) {
            if (!pause(Duration.ofMillis(50))) {
                break;
            }
        }
        int left = openSessions();
        if (left > 0) {
            log.info("drain grace over: ending {} session(s)", left);
        }
        stop(grace, left);
    }

    /** Stops accepting, ends every session with 57P01 as PostgreSQL does on shutdown, then closes the store. */
    @Override
    public void close() {
        readiness.drain();
        stop(Duration.ZERO, openSessions());
    }

    /** Whether the listeners still accept: false from the moment a drain has closed them. */
    boolean accepting() {
        return !stoppedAccepting;
    }

    /** PostgreSQL sessions and connected document-store clients. */
    int openSessions() {
        return sessions.size() + (mongo == null ? 0 : mongo.connected());
    }

    private void stop(Duration grace, int ending) {
        postgres.close();
        if (mongo != null) {
            mongo.close();
        }
        // In parallel: one session whose client stopped reading must not hold up the others.
        for (LiveSession s : sessions.list()) {
            Thread.ofVirtual().name("terminate-" + s.id()).start(() ->
                    s.terminate(ErrorCodes.ADMIN_SHUTDOWN, "terminating connection because phigate is shutting down"));
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (sessions.size() > 0 && System.nanoTime() < deadline) {
            if (!pause(Duration.ofMillis(20))) {
                break;
            }
        }
        frontDoor.close();
        if (http != null) {
            // After the sessions: /readyz keeps answering 503 (not a refused connection) while they finish.
            http.close();
        }
        janitor.close();
        timers.shutdownNow();
        fingerprints.close();
        // Queued after every session's end record, so the chain's last word on this run says how it ended.
        audit.appendUnobserved(List.of(new AuditEvent.GatewayDrain(Instant.now(), "finished", ending, grace)));
        cluster.close();
        audit.close();
        log.info("phigate stopped");
    }

    private static boolean pause(Duration d) {
        try {
            Thread.sleep(d);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
