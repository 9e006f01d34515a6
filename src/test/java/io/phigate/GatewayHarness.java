package io.phigate;

import io.phigate.audit.AuditConfig;
import io.phigate.config.ClientTlsConfig;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.identity.IdentityConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.config.LimitsConfig;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.identity.KeyTool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

/** A gateway in front of the shared test database, with its own keys and audit file. */
public final class GatewayHarness implements AutoCloseable {
    public static final String ISSUER = "https://issuer.test";
    public static final String AUDIENCE = "phigate";
    public static final String AGENT = "system:serviceaccount:clinical:triage-agent";

    private final Path dir;
    private final Path key;
    private final GatewayConfig config;
    private final Gateway gateway;

    private GatewayHarness(Path dir, Path key, GatewayConfig config, Gateway gateway) {
        this.dir = dir;
        this.key = key;
        this.config = config;
        this.gateway = gateway;
    }

    public static GatewayHarness start(Path dir) throws Exception {
        return start(dir, c -> c);
    }

    /** Starts a gateway; {@code customize} may replace parts of the default configuration. */
    public static GatewayHarness start(Path dir, UnaryOperator<GatewayConfig> customize) throws Exception {
        Path key = keys(dir);
        GatewayConfig config = eventLoopIfAsked(customize.apply(defaultConfig(dir, TestDatabase.get())));
        return new GatewayHarness(dir, key, config, Gateway.start(config));
    }

    /**
     * Starts a gateway in front of {@code upstream} rather than the shared test database, which is then never
     * started; for tests that bring their own PostgreSQL.
     */
    public static GatewayHarness start(Path dir, UpstreamConfig upstream) throws Exception {
        return start(dir, upstream, c -> c);
    }

    /** Starts a gateway in front of {@code upstream}, with {@code customize} applied to its configuration. */
    public static GatewayHarness start(Path dir, UpstreamConfig upstream, UnaryOperator<GatewayConfig> customize)
            throws Exception {
        Path key = keys(dir);
        GatewayConfig config = eventLoopIfAsked(customize.apply(defaultConfig(dir, upstream)));
        return new GatewayHarness(dir, key, config, Gateway.start(config));
    }

    /** The system property that runs every harness gateway's plain sessions on event loops: {@code plain}. */
    public static final String EVENT_LOOP_PROPERTY = "phigate.test.eventLoop";

    /**
     * {@code -Dphigate.test.eventLoop=plain} (surefire passes it on): the suite's session tests run with their
     * plain sessions on the event loop (decision 0097), whatever limits a test sets itself.
     */
    public static boolean eventLoopAsked() {
        return !System.getProperty(EVENT_LOOP_PROPERTY, "off").equals("off");
    }

    static GatewayConfig eventLoopIfAsked(GatewayConfig c) {
        String mode = System.getProperty(EVENT_LOOP_PROPERTY, "off");
        if (mode.equals("off") || c.limits().eventLoop() != LimitsConfig.EventLoop.OFF) {
            return c;
        }
        return withLimits(c, c.limits().withEventLoop(LimitsConfig.EventLoop.valueOf(mode.toUpperCase(
                java.util.Locale.ROOT)), 2));
    }

    static Path keys(Path dir) throws IOException {
        Path keys = dir.resolve("keys");
        return Files.exists(keys.resolve(KeyTool.PRIVATE_KEY_FILE)) ? keys.resolve(KeyTool.PRIVATE_KEY_FILE)
                : KeyTool.generate(keys);
    }

    public static GatewayConfig defaultConfig(Path dir, TestDatabase db) {
        return defaultConfig(dir, new UpstreamConfig("clinical", new HostPort("127.0.0.1", db.port()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, db.user(), new SecretRef(null, db.passwordFile())),
                UpstreamTlsConfig.DISABLED));
    }

    /** The default configuration with {@code upstream} as its only upstream, served under its own name. */
    public static GatewayConfig defaultConfig(Path dir, UpstreamConfig upstream) {
        Path audit = dir.resolve("audit.db");
        return new GatewayConfig(
                new GatewayConfig.Listen(new HostPort("127.0.0.1", 0), null),
                Map.of(upstream.name(), upstream),
                new IdentityConfig(List.of(new IssuerConfig(ISSUER, List.of(AUDIENCE), dir.resolve("keys/jwks.json"),
                        null, false, IssuerConfig.DEFAULT_ALGORITHMS)), Duration.ofSeconds(5), Duration.ZERO),
                new AuditConfig("sqlite:" + audit, audit, 65536, Duration.ofSeconds(5), Duration.ofSeconds(2)),
                new LimitsConfig(200, 64 * 1024 * 1024, Duration.ofSeconds(10)),
                new ClientTlsConfig(ClientTlsConfig.Mode.REQUIRE, null, null, true),
                null, dir);
    }

    public static GatewayConfig withLimits(GatewayConfig c, LimitsConfig limits) {
        return new GatewayConfig(c.listen(), c.upstreams(), c.identity(), c.audit(), limits, c.tls(), c.policy(), c.baseDir(), c.console(), c.http());
    }

    public static GatewayConfig withTls(GatewayConfig c, ClientTlsConfig tls) {
        return new GatewayConfig(c.listen(), c.upstreams(), c.identity(), c.audit(), c.limits(), tls, c.policy(), c.baseDir(), c.console(), c.http());
    }

    public static GatewayConfig withIdentity(GatewayConfig c, IdentityConfig identity) {
        return new GatewayConfig(c.listen(), c.upstreams(), identity, c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir(), c.console(), c.http());
    }

    /**
     * A gateway whose policy tags {@code columns} ({@code schema.table.column: type} lines) with content detection
     * off, so only lineage decides what is masked, and a masking key: the fixture of masked-session tests.
     */
    public static GatewayHarness startMasked(Path dir, String columns) throws Exception {
        return startWithPolicy(dir, "phi:\n  clinical:\n    columns:\n" + columns.indent(6)
                + "    detection:\n      enabled: false\nmasking:\n  key_file: masking.key\n");
    }

    /**
     * A gateway with {@code policy} (YAML) as its policy file, {@code policy.yaml} in {@code dir}, beside a test
     * masking key, {@code masking.key}, which a policy that masks names as {@code masking: { key_file: masking.key }}.
     */
    public static GatewayHarness startWithPolicy(Path dir, String policy) throws Exception {
        return start(dir, c -> withPolicy(c, writePolicy(dir, policy)));
    }

    /** {@link #startWithPolicy(Path, String)} in front of {@code upstream} rather than the shared test database. */
    public static GatewayHarness startWithPolicy(Path dir, UpstreamConfig upstream, String policy) throws Exception {
        return start(dir, upstream, c -> withPolicy(c, writePolicy(dir, policy)));
    }

    private static Path writePolicy(Path dir, String policy) {
        try {
            Files.writeString(dir.resolve("masking.key"), "k".repeat(64));
            return Files.writeString(dir.resolve("policy.yaml"), policy);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public static GatewayConfig withPolicy(GatewayConfig c, Path policy) {
        return new GatewayConfig(c.listen(), c.upstreams(), c.identity(), c.audit(), c.limits(), c.tls(), policy, c.baseDir(), c.console(), c.http());
    }

    public static GatewayConfig withConsole(GatewayConfig c, io.phigate.config.ConsoleConfig console) {
        return new GatewayConfig(c.listen(), c.upstreams(), c.identity(), c.audit(), c.limits(), c.tls(), c.policy(),
                c.baseDir(), console);
    }

    public static GatewayConfig withHttp(GatewayConfig c) {
        return new GatewayConfig(new GatewayConfig.Listen(c.listen().postgres(), new io.phigate.config.HostPort("127.0.0.1", 0)),
                c.upstreams(), c.identity(), c.audit(), c.limits(), c.tls(), c.policy(), c.baseDir(), c.console(), c.http());
    }

    public static GatewayConfig withHttpConfig(GatewayConfig c, io.phigate.config.HttpConfig http) {
        return new GatewayConfig(c.listen(), c.upstreams(), c.identity(), c.audit(), c.limits(), c.tls(), c.policy(),
                c.baseDir(), c.console(), http);
    }

    public String token() throws IOException {
        return token(AGENT, Duration.ofMinutes(10));
    }

    public String token(String subject, Duration ttl) throws IOException {
        return KeyTool.mint(key, ISSUER, subject, List.of(AUDIENCE), ttl, Map.of());
    }

    /** A correctly signed token whose expiry is {@code ago} in the past (KeyTool only mints live tokens). */
    public String expiredToken(Duration ago) throws Exception {
        java.time.Instant exp = java.time.Instant.now().minus(ago);
        return tokenValidBetween(exp.minusSeconds(600), exp);
    }

    /** A correctly signed token with the given not-before and expiry, for clock-skew cases. */
    public String tokenValidBetween(java.time.Instant notBefore, java.time.Instant expires) throws Exception {
        com.nimbusds.jose.jwk.ECKey jwk = com.nimbusds.jose.jwk.ECKey.parse(Files.readString(key));
        com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .issuer(ISSUER).subject(AGENT).audience(AUDIENCE)
                .issueTime(java.util.Date.from(notBefore)).notBeforeTime(java.util.Date.from(notBefore))
                .expirationTime(java.util.Date.from(expires)).build();
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.ES256).keyID(jwk.getKeyID()).build(), claims);
        jwt.sign(new com.nimbusds.jose.crypto.ECDSASigner(jwk));
        return jwt.serialize();
    }

    public Path keyFile() {
        return key;
    }

    public int port() {
        return gateway.postgresAddress().getPort();
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/clinical?sslmode=disable";
    }

    public Connection connect() throws SQLException, IOException {
        return connect(new Properties());
    }

    public Connection connect(Properties extra) throws SQLException, IOException {
        Properties p = new Properties();
        p.setProperty("user", "triage-agent");
        p.setProperty("password", token());
        p.putAll(extra);
        return DriverManager.getConnection(jdbcUrl(), p);
    }

    /** A pgjdbc connection signed in as {@code subject} (a five-minute token), with {@code extra} properties. */
    public Connection connectAs(String subject, Properties extra) throws SQLException, IOException {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", token(subject, java.time.Duration.ofMinutes(5)));
        p.putAll(extra);
        return DriverManager.getConnection(jdbcUrl(), p);
    }

    public Gateway gateway() {
        return gateway;
    }

    public GatewayConfig config() {
        return config;
    }

    public Path dir() {
        return dir;
    }

    public Path auditFile() {
        return config.audit().sqlitePath();
    }

    /** Rows of the audit store matching {@code where} (SQL over table audit_event), in sequence order. */
    public List<Map<String, Object>> audit(String where) throws SQLException {
        List<Map<String, Object>> rows = new ArrayList<>();
        gateway.awaitAuditStored(); // the journal fills the store a few milliseconds behind the acknowledgement
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + auditFile());
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

    /**
     * Completion records are written after the client has its answer, so a test polls for them (up to 10 s)
     * until at least {@code atLeast} rows match.
     */
    public List<Map<String, Object>> auditEventually(String where, int atLeast) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Map<String, Object>> rows = audit(where);
        while (rows.size() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(50);
            rows = audit(where);
        }
        return rows;
    }

    @Override
    public void close() {
        gateway.close();
    }
}
