package io.phigate.mongo;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditStore;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditConfig;
import io.phigate.config.HostPort;
import io.phigate.identity.IdentityConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.identity.KeyTool;
import io.phigate.identity.TokenVerifier;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The document-store front door in front of mongo-java-server (in memory), through a relay that checks the write-ahead
 * rule as each command reaches the store: by then its request record must be durable. A real audit store (SQLite)
 * sits behind a sink that can be told to fail.
 */
final class MongoHarness implements AutoCloseable {
    static final String ISSUER = "https://issuer.test";
    static final String AUDIENCE = "phigate";
    static final String AGENT = "system:serviceaccount:clinical:triage-agent";

    final Path dir;
    final MongoServer store;
    /** Where the store listens, for tests that seed or check it directly (past the relay and its checks). */
    final java.net.InetSocketAddress storeAddress;
    final AuditStore audit;
    final CheckedSink sink;
    final UpstreamRelay relay;
    final MongoFrontDoor door;
    final io.phigate.approval.Approvals approvals;
    final io.phigate.session.SessionRegistry sessions = new io.phigate.session.SessionRegistry(100);
    /** One-time credentials, redeemed by the front door as the HTTP API would issue them. */
    final io.phigate.credentials.CredentialExchange exchange;
    final TokenVerifier verifier;
    private final Path key;
    private final boolean storeBound;

    MongoHarness(Path dir) throws Exception {
        this(dir, null);
    }

    /** With {@code upstream} (a scripted server) instead of mongo-java-server when not null. */
    MongoHarness(Path dir, java.net.InetSocketAddress upstream) throws Exception {
        this(dir, upstream, io.phigate.mongo.masking.DocumentPolicy.NONE);
    }

    /** Masking by {@code documents} (a PHI catalog and the policy's roles) when it declares anything. */
    MongoHarness(Path dir, java.net.InetSocketAddress upstream, io.phigate.mongo.masking.DocumentPolicy documents)
            throws Exception {
        this(dir, upstream, documents, java.util.function.UnaryOperator.identity());
    }

    /** With the front door's settings as {@code tune} changes them (TLS, either way). */
    MongoHarness(Path dir, java.net.InetSocketAddress upstream, io.phigate.mongo.masking.DocumentPolicy documents,
                 java.util.function.UnaryOperator<MongoFrontDoor.Settings> tune) throws Exception {
        this.dir = dir;
        this.key = KeyTool.generate(dir.resolve("keys"));
        this.store = new MongoServer(new MemoryBackend());
        this.storeBound = upstream == null;
        this.storeAddress = upstream != null ? upstream : store.bind();
        Path db = dir.resolve("audit.db");
        this.audit = new AuditStore(new AuditConfig("sqlite:" + db, db, 65536, Duration.ofSeconds(5),
                Duration.ofSeconds(2)));
        this.sink = new CheckedSink(audit);
        this.relay = new UpstreamRelay(storeAddress, sink::forwarded);
        IdentityConfig identity = new IdentityConfig(List.of(new IssuerConfig(ISSUER, List.of(AUDIENCE),
                dir.resolve("keys/jwks.json"), null, false, IssuerConfig.DEFAULT_ALGORITHMS)),
                Duration.ofSeconds(5), Duration.ZERO);
        this.approvals = new io.phigate.approval.Approvals(documents.policy(), sink, java.time.Clock.systemUTC());
        var settings = new MongoFrontDoor.Settings("documents", new HostPort("127.0.0.1", relay.address().getPort()),
                48_000_000, 100, Duration.ofSeconds(30),
                Integer.getInteger("phigate.bench.responseCap", AuditConfig.DEFAULT_RESPONSE_CAP), identity);
        this.verifier = new TokenVerifier(identity);
        this.exchange = new io.phigate.credentials.CredentialExchange(documents.policy(),
                identity.revoked()::reason, Duration.ofMinutes(1), java.util.Set.of("documents"),
                java.time.Clock.systemUTC());
        this.door = MongoFrontDoor.start(new java.net.InetSocketAddress("127.0.0.1", 0), tune.apply(settings),
                verifier, exchange, sink, CommandGate.FORWARD_ALL, documents, sessions, approvals);
    }

    String token() throws Exception {
        return token(Duration.ofMinutes(10));
    }

    String token(Duration ttl) throws Exception {
        return KeyTool.mint(key, ISSUER, AGENT, List.of(AUDIENCE), ttl, Map.of());
    }

    /** A token for another agent, {@code subject}. */
    String tokenFor(String subject) throws Exception {
        return KeyTool.mint(key, ISSUER, subject, List.of(AUDIENCE), Duration.ofMinutes(10), Map.of());
    }

    /**
     * The official Java driver signed in through this gateway as the agent (SASL PLAIN, the token as password),
     * reads bounded at 30 s; {@code options} is the connection string's query.
     */
    com.mongodb.client.MongoClient driver(String options) throws Exception {
        return driver(options, token());
    }

    /** The Java driver as {@link #driver(String)} gives it, signed in with {@code token}. */
    com.mongodb.client.MongoClient driver(String options, String token) {
        return com.mongodb.client.MongoClients.create(com.mongodb.MongoClientSettings.builder()
                .applyConnectionString(new com.mongodb.ConnectionString("mongodb://127.0.0.1:" + port() + "/?"
                        + options))
                .credential(com.mongodb.MongoCredential.createPlainCredential("triage-agent", "$external",
                        token.toCharArray()))
                .applyToSocketSettings(s -> s.readTimeout(30, java.util.concurrent.TimeUnit.SECONDS))
                .build());
    }

    int port() {
        return door.address().getPort();
    }

    /** Rows of the audit store matching {@code where}, in sequence order, once what was acknowledged is stored. */
    List<Map<String, Object>> audit(String where) throws Exception {
        audit.awaitStored(Duration.ofSeconds(10));
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("audit.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select * from audit_event where " + where + " order by seq")) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnName(i), rs.getObject(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** Completions are written after the reply, so a test polls (up to 10 s) for at least {@code atLeast} rows. */
    List<Map<String, Object>> auditEventually(String where, int atLeast) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Map<String, Object>> rows = audit(where);
        while (rows.size() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(50);
            rows = audit(where);
        }
        return rows;
    }

    private com.mongodb.client.MongoClient direct;

    /** A client straight to the store (past the gateway and the relay), to seed and check it; closed with this. */
    com.mongodb.client.MongoClient direct() {
        if (direct == null) {
            direct = com.mongodb.client.MongoClients.create("mongodb://127.0.0.1:" + storeAddress.getPort());
        }
        return direct;
    }

    /** The Java driver through the gateway as the agent {@code subject}, retryable writes off. */
    com.mongodb.client.MongoClient as(String subject) throws Exception {
        return driver("serverSelectionTimeoutMS=5000&retryWrites=false", tokenFor(subject));
    }

    @Override
    public void close() throws Exception {
        if (direct != null) {
            direct.close();
        }
        door.close();
        relay.close();
        if (storeBound) {
            store.shutdownNow();
        }
        audit.close();
    }

    /**
     * Passes events to the store, counts each command's request records once durable, and notes a violation when
     * the upstream receives a command whose record was not durable yet. {@link #failing} makes every append fail.
     */
    static final class CheckedSink implements AuditSink {
        private final AuditSink delegate;
        final AtomicBoolean failing = new AtomicBoolean();
        private final Map<String, Integer> durable = new ConcurrentHashMap<>();
        private final Map<String, Integer> forwarded = new ConcurrentHashMap<>();
        final List<String> violations = new CopyOnWriteArrayList<>();

        CheckedSink(AuditSink delegate) {
            this.delegate = delegate;
        }

        @Override
        public CompletableFuture<Void> append(List<AuditEvent> events) {
            if (failing.get()) {
                return CompletableFuture.failedFuture(new AuditUnavailableException("test: store down"));
            }
            return delegate.append(events);
        }

        @Override
        public void appendDurably(List<AuditEvent> events) throws AuditUnavailableException {
            if (failing.get()) {
                throw new AuditUnavailableException("test: store down");
            }
            delegate.appendDurably(events);
            for (AuditEvent e : events) {
                if (e instanceof AuditEvent.StatementRequested r) {
                    durable.merge(commandName(r.text()), 1, Integer::sum);
                }
            }
        }

        /** Called by the relay as the command reaches the store. The gateway's own hello is not a client command. */
        void forwarded(String command) {
            if (command.equals("isMaster")) {
                return;
            }
            int n = forwarded.merge(command, 1, Integer::sum);
            if (durable.getOrDefault(command, 0) < n) {
                violations.add(command + " #" + n + " reached the store before its record was durable");
            }
        }

        private static String commandName(String json) {
            int start = json.indexOf('"') + 1;
            return json.substring(start, json.indexOf('"', start));
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
