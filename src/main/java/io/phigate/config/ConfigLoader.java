package io.phigate.config;

import io.phigate.audit.AuditConfig;
import io.phigate.identity.IdentityConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads phigate.yaml into a validated {@link GatewayConfig}. Strict on purpose: an unknown key is an error
 * (a misspelt security setting must not silently fall back to its default), and every problem is reported at
 * once with its file, line and key path. See docs/configuration.md and docs/decisions/0002.
 *
 * <p>This class reads the root, the listeners, limits and client TLS, and hands each other section to the class
 * named for it: {@link UpstreamLoader}, {@link IdentityLoader}, {@link AuditLoader}, {@link ConsoleLoader} (console
 * and HTTP API), {@link DocumentStoreLoader}; the policy file is {@link PolicyLoader}'s.
 */
public final class ConfigLoader {
    public static final int DEFAULT_MAX_SESSIONS = 1000;
    public static final int DEFAULT_MAX_FRAME_BYTES = (int) (64 * Units.MIB);
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(10);
    static final long MIN_FRAME_BYTES = 8 * Units.KIB;
    static final long MAX_FRAME_BYTES = Units.GIB;

    private static final List<String> ROOT_KEYS = List.of("listen", "upstreams", "identity", "audit", "limits", "tls", "policy",
            "console", "http", "documents");
    private static final List<String> LISTEN_KEYS = List.of("postgres", "http", "mongo");
    private static final List<String> LIMITS_KEYS = List.of("max_sessions", "max_frame_bytes", "startup_timeout",
            "connect_rate_per_address", "connect_burst_per_address", "max_handshakes", "drain_grace",
            "platform_session_threads", "event_loop", "event_loop_threads");
    private static final List<String> TLS_KEYS = List.of("mode", "cert_file", "key_file", "allow_loopback_cleartext");

    /** Group role names are written into CREATE ROLE (quoted), so only plain identifiers are accepted. */
    static final Pattern ROLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    private final Problems problems;
    private final Path baseDir;

    private ConfigLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    /** Loads a config file; relative paths in it resolve against the file's folder. */
    public static GatewayConfig load(Path file) throws ConfigException {
        return parse(read(file), file.toAbsolutePath().normalize().getParent(), file.toString(), false);
    }

    /**
     * Loads a config file to run a gateway with: as {@link #load}, and the policy file it names is read and
     * checked too, so that its problems are reported the same way ({@code policy.yaml:LINE: path: message}),
     * in the same pass, and a policy file that is not there is named at the config's own {@code policy:} line.
     * The audit tools use {@link #load}: a broken policy must not keep an auditor from the log.
     */
    public static GatewayConfig loadToServe(Path file) throws ConfigException {
        return parse(read(file), file.toAbsolutePath().normalize().getParent(), file.toString(), true);
    }

    private static String read(Path file) throws ConfigException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the config file: " + e, e);
        }
    }

    /**
     * Parses config text. {@code baseDir} is what relative paths resolve against; {@code sourceName} is how
     * messages name the text (usually the file name).
     */
    public static GatewayConfig parse(String yaml, Path baseDir, String sourceName) throws ConfigException {
        return parse(yaml, baseDir, sourceName, false);
    }

    private static GatewayConfig parse(String yaml, Path baseDir, String sourceName, boolean checkPolicy)
            throws ConfigException {
        Problems problems = new Problems(sourceName);
        YamlNode root = YamlReader.read(yaml, problems);
        GatewayConfig config = null;
        if (root != null) {
            ConfigLoader loader = new ConfigLoader(problems, baseDir.toAbsolutePath().normalize());
            config = loader.gateway(root, checkPolicy);
        }
        problems.throwIfAny();
        return config;
    }

    private GatewayConfig gateway(YamlNode root, boolean checkPolicy) {
        if (!(root instanceof YamlNode.Mapping)) {
            problems.add(root.line(), "", "expected a mapping of settings at the top level, got " + YamlNode.describe(root));
            return null;
        }
        Section s = Section.open(root, "", 1, problems, baseDir, ROOT_KEYS);
        GatewayConfig.Listen listen = listen(s.section("listen", true, LISTEN_KEYS));
        Map<String, UpstreamConfig> upstreams = new UpstreamLoader(problems, baseDir).upstreams(s);
        IdentityConfig identity = new IdentityLoader(problems, baseDir).identity(
                s.section("identity", true, IdentityLoader.IDENTITY_KEYS));
        AuditConfig audit = AuditLoader.audit(s.section("audit", true, AuditLoader.AUDIT_KEYS));
        LimitsConfig limits = limits(s.section("limits", false, LIMITS_KEYS));
        ClientTlsConfig tls = clientTls(s.section("tls", false, TLS_KEYS));
        Path policy = s.path("policy", false);
        if (checkPolicy && policy != null) {
            if (!Files.isRegularFile(policy)) {
                s.problem("policy", "no such file: " + policy);
            } else {
                try {
                    PolicyLoader.load(policy);
                } catch (ConfigException e) {
                    problems.include(e);
                }
            }
        }
        ConsoleLoader people = new ConsoleLoader(problems, baseDir);
        ConsoleConfig console = people.console(s.section("console", false, ConsoleLoader.CONSOLE_KEYS));
        HttpConfig http = people.http(s.section("http", false, ConsoleLoader.HTTP_KEYS));
        DocumentsConfig documents = new DocumentStoreLoader(problems, baseDir).documents(
                s.section("documents", false, DocumentStoreLoader.DOCUMENTS_KEYS));
        // One without the other is a half-made change: a listener with nowhere to forward, or stores no one can
        // reach. Both are refused rather than guessed at.
        if (listen != null && listen.mongo() != null && documents == null) {
            if (!s.has("documents")) {
                s.missing("documents");
            }
            return null;
        }
        if (listen != null && listen.mongo() == null && s.has("documents")) {
            s.problem("documents", "needs listen.mongo (where document-store clients connect)");
            return null;
        }
        return new GatewayConfig(listen, upstreams, identity, audit, limits, tls, policy, baseDir, console, http,
                documents);
    }

    private GatewayConfig.Listen listen(Section s) {
        if (s == null) {
            return null;
        }
        HostPort postgres = s.scalar("postgres", true, null, "host:port", text -> Units.hostPort(text, true));
        HostPort http = s.scalar("http", false, null, "host:port", text -> Units.hostPort(text, true));
        HostPort mongo = s.scalar("mongo", false, null, "host:port", text -> Units.hostPort(text, true));
        return new GatewayConfig.Listen(postgres, http, mongo);
    }

    private LimitsConfig limits(Section s) {
        if (s == null) {
            return new LimitsConfig(DEFAULT_MAX_SESSIONS, DEFAULT_MAX_FRAME_BYTES, DEFAULT_STARTUP_TIMEOUT);
        }
        int sessions = orZero(s.integer("max_sessions", DEFAULT_MAX_SESSIONS, 1, Integer.MAX_VALUE));
        Long frame = s.scalar("max_frame_bytes", false, (long) DEFAULT_MAX_FRAME_BYTES, "a size", text -> {
            long n = Units.size(text);
            if (n < MIN_FRAME_BYTES || n > MAX_FRAME_BYTES) {
                throw new IllegalArgumentException("must be between 8KiB and 1GiB, got " + Units.formatSize(n));
            }
            return n;
        });
        Duration startup = s.duration("startup_timeout", DEFAULT_STARTUP_TIMEOUT, true);
        int rate = orZero(s.integer("connect_rate_per_address", LimitsConfig.DEFAULT_CONNECT_RATE_PER_ADDRESS, 0,
                1_000_000));
        int burst = orZero(s.integer("connect_burst_per_address", Math.max(rate, LimitsConfig.DEFAULT_CONNECT_BURST_PER_ADDRESS),
                1, 1_000_000));
        int handshakes = orZero(s.integer("max_handshakes", LimitsConfig.DEFAULT_MAX_HANDSHAKES, 1, 1_000_000));
        // Zero is allowed: sessions are ended at once, as before draining existed.
        Duration drain = s.duration("drain_grace", LimitsConfig.DEFAULT_DRAIN_GRACE, false);
        int platform = orZero(s.integer("platform_session_threads", LimitsConfig.DEFAULT_PLATFORM_SESSION_THREADS, 0,
                100_000));
        LimitsConfig.EventLoop loop = s.scalar("event_loop", false, LimitsConfig.EventLoop.OFF, "off or plain",
                text -> enumValue(LimitsConfig.EventLoop.class, text));
        int loopThreads = orZero(s.integer("event_loop_threads", 0, 0, 1024));
        return new LimitsConfig(sessions, frame == null ? 0 : (int) (long) frame, startup, rate, burst, handshakes,
                drain, platform, loop == null ? LimitsConfig.EventLoop.OFF : loop, loopThreads);
    }

    private ClientTlsConfig clientTls(Section s) {
        if (s == null) {
            return new ClientTlsConfig(ClientTlsConfig.Mode.REQUIRE, null, null, true);
        }
        ClientTlsConfig.Mode mode = s.scalar("mode", false, ClientTlsConfig.Mode.REQUIRE, "a TLS mode",
                text -> enumValue(ClientTlsConfig.Mode.class, text));
        boolean useCert = mode != ClientTlsConfig.Mode.DISABLE;
        // Only check the files when they will be used: mode disable with a cert left in place is harmless.
        Path cert = useCert ? s.existingFile("cert_file") : s.path("cert_file", false);
        Path key = useCert ? s.existingFile("key_file") : s.path("key_file", false);
        Boolean loopback = s.bool("allow_loopback_cleartext", true);
        boolean hasCert = s.has("cert_file");
        boolean hasKey = s.has("key_file");
        if (hasCert != hasKey) {
            String absent = hasCert ? "key_file" : "cert_file";
            s.problem(absent, "cert_file and key_file go together; " + absent + " is missing");
        }
        if (mode == ClientTlsConfig.Mode.REQUIRE && !hasCert && !hasKey && Boolean.FALSE.equals(loopback)) {
            s.problem("mode", "require without cert_file and key_file, and with allow_loopback_cleartext: false, refuses every client;"
                    + " set cert_file and key_file");
        }
        return new ClientTlsConfig(mode, cert, key, loopback == null || loopback);
    }

    /** Enum values are written in lower case with dashes in YAML ({@code verify-full} for VERIFY_FULL). */
    static <E extends Enum<E>> E enumValue(Class<E> type, String text) {
        List<String> names = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            String name = constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
            if (name.equals(text.strip())) {
                return constant;
            }
            names.add(name);
        }
        String hint = Suggest.nearest(text.strip(), names);
        throw new IllegalArgumentException("expected one of " + String.join(", ", names) + ", got " + YamlNode.quote(text)
                + (hint == null ? "" : "; did you mean \"" + hint + "\"?"));
    }

    /** A failed read already recorded its problem; zero keeps the record constructible until the loader throws. */
    static int orZero(Integer value) {
        return value == null ? 0 : value;
    }
}
