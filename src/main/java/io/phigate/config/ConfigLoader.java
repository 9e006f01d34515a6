package io.phigate.config;

import io.phigate.audit.AuditConfig;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.identity.IdentityConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.mask.SecretRef;
import io.phigate.policy.Match;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads phigate.yaml into a validated {@link GatewayConfig}. Strict on purpose: an unknown key is an error
 * (a misspelt security setting must not silently fall back to its default), and every problem is reported at
 * once with its file, line and key path. See docs/configuration.md and docs/decisions/0002.
 */
public final class ConfigLoader {
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
    public static final Duration DEFAULT_SESSION_GRACE = Duration.ZERO;
    public static final int DEFAULT_QUEUE_CAPACITY = 65536;
    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(2);
    public static final int DEFAULT_CHECKPOINT_EVERY = 1000;
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_SESSIONS = 1000;
    public static final int DEFAULT_MAX_FRAME_BYTES = (int) (64 * Units.MIB);
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(10);
    static final long MIN_FRAME_BYTES = 8 * Units.KIB;
    static final long MAX_FRAME_BYTES = Units.GIB;

    // Only asymmetric algorithms: with HS* the verification key is a shared secret, so anyone who can verify
    // can also mint tokens, and "none" is no signature at all.
    static final Set<String> ALLOWED_ALGORITHMS = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES256K", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448");

    private static final List<String> ROOT_KEYS = List.of("listen", "upstreams", "identity", "audit", "limits", "tls", "policy",
            "console", "http", "documents");
    private static final List<String> HTTP_KEYS = List.of("allowed_hosts", "admin_token_file", "admins");
    /** A Host header name as a person writes it: a DNS name or an IP address, without port or scheme. */
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\\[[0-9A-Fa-f:.]{2,45}]");
    private static final List<String> LISTEN_KEYS = List.of("postgres", "http", "mongo");
    private static final List<String> DOCUMENTS_KEYS = List.of("upstreams", "default_upstream");
    private static final List<String> DOCUMENT_UPSTREAM_KEYS = List.of("address", "collections", "tls", "credentials");
    private static final List<String> DOCUMENT_CREDENTIALS_KEYS = List.of("user", "password_env", "password_file",
            "source");
    static final int MONGO_PORT = 27017;
    private static final List<String> UPSTREAM_KEYS = List.of("address", "database", "credentials", "tls",
            "startup_parameters");
    private static final List<String> STARTUP_PARAMETERS_KEYS = List.of("allow");
    private static final Pattern SETTING_NAME = Pattern.compile("[a-z_][a-z0-9_.]*");
    /** Settings whose startup rule for analysed sessions is fixed: a config entry cannot widen it. */
    private static final Set<String> FIXED_STARTUP_SETTINGS = Set.of("client_encoding", "standard_conforming_strings",
            "search_path", "role", "session_authorization");
    private static final List<String> CREDENTIALS_KEYS = List.of("mode", "user", "password_env", "password_file", "group");
    private static final List<String> UPSTREAM_TLS_KEYS = List.of("mode", "ca_file");
    private static final List<String> IDENTITY_KEYS = List.of("issuers", "clock_skew", "session_grace", "revoked",
            "credential_ttl", "max_token_lifetime");
    private static final List<String> REVOKED_KEYS = List.of("subjects", "key_ids");
    private static final List<String> ISSUER_KEYS = List.of("issuer", "audience", "jwks_file", "jwks_url", "discovery", "algorithms");
    private static final List<String> AUDIT_KEYS = List.of("store", "queue_capacity", "queue_bytes", "write_timeout", "busy_timeout",
            "replica", "checkpoints", "record_responses", "response_cap", "encryption", "password_env", "password_file", "retention",
            "journal", "journal_dir", "journal_max_bytes", "async_linger", "replica_env");
    private static final List<String> ENCRYPTION_KEYS = List.of("key_id", "key_file", "key_env", "previous");
    private static final List<String> CHECKPOINT_KEYS = List.of("key_file", "file", "every", "interval", "witness_url");
    private static final List<String> LIMITS_KEYS = List.of("max_sessions", "max_frame_bytes", "startup_timeout",
            "connect_rate_per_address", "connect_burst_per_address", "max_handshakes", "drain_grace",
            "platform_session_threads");
    private static final List<String> CONSOLE_KEYS = List.of("local_sign_in", "session_ttl", "oidc", "roles",
            "cookie_keys");
    private static final List<String> COOKIE_KEY_KEYS = List.of("id", "key_file", "key_env");
    /** A cookie key's id is written into every cookie it seals: short and plain. */
    private static final Pattern COOKIE_KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final List<String> CONSOLE_OIDC_KEYS = List.of("issuer", "client_id", "client_secret_env",
            "client_secret_file", "redirect_uri", "scopes");
    private static final List<String> TLS_KEYS = List.of("mode", "cert_file", "key_file", "allow_loopback_cleartext");

    /** Group role names are written into CREATE ROLE (quoted), so only plain identifiers are accepted. */
    static final Pattern ROLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Problems problems;
    private final Path baseDir;

    private ConfigLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    /** Loads a config file; relative paths in it resolve against the file's folder. */
    public static GatewayConfig load(Path file) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the config file: " + e, e);
        }
        Path dir = file.toAbsolutePath().normalize().getParent();
        return parse(yaml, dir, file.toString());
    }

    /**
     * Loads a config file to run a gateway with: as {@link #load}, and the policy file it names is read and
     * checked too, so that its problems are reported the same way ({@code policy.yaml:LINE: path: message}),
     * in the same pass, and a policy file that is not there is named at the config's own {@code policy:} line.
     * The audit tools use {@link #load}: a broken policy must not keep an auditor from the log.
     */
    public static GatewayConfig loadToServe(Path file) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the config file: " + e, e);
        }
        return parse(yaml, file.toAbsolutePath().normalize().getParent(), file.toString(), true);
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
        Map<String, UpstreamConfig> upstreams = upstreams(s);
        IdentityConfig identity = identity(s.section("identity", true, IDENTITY_KEYS));
        AuditConfig audit = audit(s.section("audit", true, AUDIT_KEYS));
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
        ConsoleConfig console = console(s.section("console", false, CONSOLE_KEYS));
        HttpConfig http = http(s.section("http", false, HTTP_KEYS));
        DocumentsConfig documents = documents(s.section("documents", false, DOCUMENTS_KEYS));
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

    private HttpConfig http(Section s) {
        if (s == null) {
            return HttpConfig.defaults(baseDir);
        }
        List<String> hosts = new ArrayList<>();
        List<String> given = s.strings("allowed_hosts", false);
        for (String host : given == null ? List.<String>of() : given) {
            if (!HOST_NAME.matcher(host).matches() || host.contains("..")) {
                s.problem("allowed_hosts", "expected a host name or IP address without scheme or port (like"
                        + " phigate.example.org or [2001:db8::1]), got " + YamlNode.quote(host));
            } else {
                hosts.add(host.toLowerCase(Locale.ROOT));
            }
        }
        Path tokenFile = HttpConfig.defaults(baseDir).adminTokenFile();
        if (s.has("admin_token_file")) {
            // "off" (or false) leaves only bearer admins: for a read-only config folder, or no local CLI use.
            tokenFile = s.scalar("admin_token_file", false, null, "a path or off", text ->
                    text.strip().equals("off") || text.strip().equals("false") ? null
                            : s.resolve(Section.nonEmpty(text)));
        }
        List<Match> admins = s.has("admins") ? matches(s, "admins", "an HTTP API admin must name the issuer (an"
                + " entry matching every issuer would let any trusted token, an agent's too, end sessions and read"
                + " the audit trail)") : List.of();
        return new HttpConfig(hosts, tokenFile, admins);
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

    /** The document stores by name; {@code default_upstream} may be left out when there is only one. */
    private DocumentsConfig documents(Section s) {
        if (s == null) {
            return null;
        }
        YamlNode node = s.node("upstreams");
        if (node == null) {
            s.missing("upstreams");
            return null;
        }
        if (!(node instanceof YamlNode.Mapping mapping) || mapping.entries().isEmpty()) {
            s.problem("upstreams", "expected a mapping of document store name to settings (at least one), got "
                    + YamlNode.describe(node));
            return null;
        }
        Map<String, HostPort> upstreams = new LinkedHashMap<>();
        Map<String, DocumentCatalog> catalogs = new LinkedHashMap<>();
        Map<String, UpstreamTlsConfig> tls = new LinkedHashMap<>();
        Map<String, DocumentsConfig.Credentials> credentials = new LinkedHashMap<>();
        boolean complete = true;
        for (YamlNode.Entry entry : mapping.entries().values()) {
            String path = s.pathOf("upstreams") + "." + entry.key();
            Section u = entry.key().isBlank() ? null
                    : Section.open(entry.value(), path, entry.keyLine(), problems, baseDir, DOCUMENT_UPSTREAM_KEYS);
            HostPort address = u == null ? null : u.scalar("address", true, null, "host:port",
                    text -> Units.hostPort(text, false, MONGO_PORT));
            if (entry.key().isBlank()) {
                problems.add(entry.keyLine(), path, "a document store name must not be empty");
            }
            DocumentCatalog catalog = u == null ? null : collections(u);
            Section login = u == null ? null : u.section("credentials", false, DOCUMENT_CREDENTIALS_KEYS);
            DocumentsConfig.Credentials credential = login == null ? null : documentCredentials(login);
            if (address == null || catalog == null || login != null && credential == null) {
                complete = false;
            } else {
                upstreams.put(entry.key(), address);
                catalogs.put(entry.key(), catalog);
                // The PostgreSQL upstream's shape and checks: verify-full needs the CA that signed the store's cert.
                tls.put(entry.key(), upstreamTls(u.section("tls", false, UPSTREAM_TLS_KEYS)));
                if (credential != null) {
                    credentials.put(entry.key(), credential);
                }
            }
        }
        String only = mapping.entries().size() == 1 ? mapping.entries().keySet().iterator().next() : null;
        String chosen = s.string("default_upstream", only == null, only);
        if (chosen != null && !mapping.entries().containsKey(chosen)) {
            s.problem("default_upstream", "no document store named " + YamlNode.quote(chosen) + " under upstreams"
                    + " (known: " + String.join(", ", mapping.entries().keySet()) + ")");
            return null;
        }
        return complete && chosen != null ? new DocumentsConfig(upstreams, chosen, catalogs, tls, credentials)
                : null;
    }

    /**
     * The gateway's own login to a document store: a PostgreSQL upstream's user and secret, and the database the
     * user is defined in ({@code source}, {@code admin} unless said); null after a problem.
     */
    private DocumentsConfig.Credentials documentCredentials(Section s) {
        String user = s.string("user", true, null);
        SecretRef password = secret(s);
        String source = s.string("source", false, DocumentsConfig.DEFAULT_SOURCE);
        return user == null || password == null || source == null ? null
                : new DocumentsConfig.Credentials(user, password, source);
    }

    /**
     * A document store's PHI: {@code collections: {"db.collection": {field.path: phi_type}}}; null after a problem.
     * Paths reach into arrays as the server's do ({@code contacts.phone}, also spelt {@code contacts.$.phone}).
     */
    private DocumentCatalog collections(Section u) {
        YamlNode node = u.node("collections");
        if (node == null) {
            return DocumentCatalog.EMPTY;
        }
        if (!(node instanceof YamlNode.Mapping namespaces)) {
            u.problem("collections", "expected a mapping of \"database.collection\" to its PHI fields, got "
                    + YamlNode.describe(node));
            return null;
        }
        boolean ok = true;
        Map<String, Map<String, PhiType>> collections = new LinkedHashMap<>();
        for (YamlNode.Entry ns : namespaces.entries().values()) {
            String where = u.pathOf("collections") + "." + ns.key();
            int dot = ns.key().indexOf('.');
            if (dot <= 0 || dot == ns.key().length() - 1) {
                problems.add(ns.keyLine(), where, "expected database.collection, like clinic.patients");
                ok = false;
                continue;
            }
            if (!(ns.value() instanceof YamlNode.Mapping fields)) {
                problems.add(ns.keyLine(), where, "expected a mapping of field path to PHI type, got "
                        + YamlNode.describe(ns.value()));
                ok = false;
                continue;
            }
            Map<String, PhiType> paths = new LinkedHashMap<>();
            for (YamlNode.Entry f : fields.entries().values()) {
                String text = f.value() instanceof YamlNode.Scalar sc ? sc.text().strip() : "";
                PhiType type = PhiType.fromPolicyName(text).orElse(null);
                if (DocumentCatalog.normalise(f.key()).isEmpty()) {
                    problems.add(f.keyLine(), where + "." + f.key(), "not a field path (dotted names; an array's"
                            + " elements as contacts.phone or contacts.$.phone; no indexes, no other $ parts)");
                    ok = false;
                } else if (type == null) {
                    String hint = Suggest.nearest(text, java.util.Arrays.stream(PhiType.values())
                            .map(PhiType::policyName).toList());
                    problems.add(f.keyLine(), where + "." + f.key(), "unknown PHI type " + YamlNode.describe(
                            f.value()) + (hint == null ? "" : " (did you mean " + hint + "?)"));
                    ok = false;
                } else {
                    paths.put(f.key(), type);
                }
            }
            collections.put(ns.key(), paths);
        }
        return ok ? new DocumentCatalog(collections) : null;
    }

    private Map<String, UpstreamConfig> upstreams(Section root) {
        YamlNode node = root.node("upstreams");
        if (node == null) {
            root.missing("upstreams");
            return null;
        }
        if (!(node instanceof YamlNode.Mapping mapping)) {
            root.problem("upstreams", "expected a mapping of upstream name to settings, got " + YamlNode.describe(node));
            return null;
        }
        if (mapping.entries().isEmpty()) {
            root.problem("upstreams", "at least one upstream is required");
            return null;
        }
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        for (YamlNode.Entry entry : mapping.entries().values()) {
            String name = entry.key();
            String path = "upstreams." + name;
            if (name.isBlank()) {
                problems.add(entry.keyLine(), path, "an upstream name must not be empty");
                continue;
            }
            if (entry.value() instanceof YamlNode.Scalar sc && sc.kind() == YamlNode.Scalar.Kind.NULL) {
                problems.add(entry.keyLine(), path, "has no settings; at least address and credentials are required");
                continue;
            }
            Section s = Section.open(entry.value(), path, entry.keyLine(), problems, baseDir, UPSTREAM_KEYS);
            if (s != null) {
                upstreams.put(name, upstream(name, s));
            }
        }
        return Collections.unmodifiableMap(upstreams);
    }

    private UpstreamConfig upstream(String name, Section s) {
        HostPort address = s.scalar("address", true, null, "host:port", text -> Units.hostPort(text, false));
        String database = s.string("database", false, name);
        CredentialsConfig credentials = credentials(s.section("credentials", true, CREDENTIALS_KEYS));
        UpstreamTlsConfig tls = upstreamTls(s.section("tls", false, UPSTREAM_TLS_KEYS));
        return new UpstreamConfig(name, address, database, credentials, tls,
                startupParameters(s.section("startup_parameters", false, STARTUP_PARAMETERS_KEYS)));
    }

    /** Setting names as PostgreSQL reads them: case-insensitive, {@code -} for {@code _}. */
    private Set<String> startupParameters(Section s) {
        if (s == null) {
            return Set.of();
        }
        List<String> allow = s.strings("allow", true);
        Set<String> names = new java.util.LinkedHashSet<>();
        for (String raw : allow == null ? List.<String>of() : allow) {
            String name = raw.toLowerCase(Locale.ROOT).replace('-', '_');
            if (!SETTING_NAME.matcher(name).matches()) {
                s.problem("allow", "expected a setting name, got " + YamlNode.quote(raw));
            } else if (FIXED_STARTUP_SETTINGS.contains(name)) {
                s.problem("allow", name + " has a fixed rule for analysed sessions (see docs/configuration.md) that"
                        + " this list cannot widen");
            } else {
                names.add(name);
            }
        }
        return names;
    }

    private CredentialsConfig credentials(Section s) {
        if (s == null) {
            return null;
        }
        CredentialsConfig.Mode mode = s.scalar("mode", false, CredentialsConfig.Mode.STATIC, "a credentials mode",
                text -> enumValue(CredentialsConfig.Mode.class, text));
        String user = s.string("user", true, null);
        SecretRef password = secret(s);
        String group = s.string("group", false, null);
        if (mode == CredentialsConfig.Mode.EPHEMERAL && group == null && !s.has("group")) {
            problems.add(s.line, s.path, "mode ephemeral needs group: the least-privilege group role each session"
                    + " user joins (a policy role may name its own)");
        }
        if (mode == CredentialsConfig.Mode.STATIC && s.has("group")) {
            s.problem("group", "only mode ephemeral creates session users that join a group");
        }
        if (group != null && !ROLE_NAME.matcher(group).matches()) {
            s.problem("group", "expected a role name of letters, digits, _ and $ (at most 63), got " + YamlNode.quote(group));
        }
        return password == null ? null : new CredentialsConfig(mode, user, password, group);
    }

    private ConsoleConfig console(Section s) {
        if (s == null) {
            return null;
        }
        boolean local = s.bool("local_sign_in", true);
        Duration ttl = s.duration("session_ttl", ConsoleConfig.DEFAULT_SESSION_TTL, true);
        ConsoleConfig.Oidc oidc = null;
        Section o = s.section("oidc", false, CONSOLE_OIDC_KEYS);
        if (o != null) {
            String issuer = o.scalar("issuer", true, null, "a URL", text -> httpUrl(text).toString());
            String clientId = o.string("client_id", true, null);
            URI redirect = o.scalar("redirect_uri", true, null, "a URL", ConfigLoader::httpUrl);
            List<String> scopes = o.strings("scopes", false);
            if (scopes == null) {
                scopes = List.of("openid", "profile", "email");
            } else if (!scopes.contains("openid")) {
                o.problem("scopes", "scopes must include openid (the console signs in with the ID token)");
            }
            SecretRef secret = o.has("client_secret_env") || o.has("client_secret_file")
                    ? secret(o, "client_secret_env", "client_secret_file", "a public client (PKCE alone) sets neither")
                    : null;
            oidc = new ConsoleConfig.Oidc(issuer, clientId, secret, redirect, List.copyOf(scopes));
        }
        if (!local && oidc == null) {
            s.problem("local_sign_in", "with local_sign_in: false, console.oidc is required (otherwise nobody can sign in)");
        }
        Map<String, List<Match>> roles = new LinkedHashMap<>();
        Section r = s.section("roles", true, ConsoleConfig.ROLE_NAMES);
        if (r != null) {
            for (String name : r.keys()) {
                roles.put(name, matches(r, name, "a console role must name the issuer (a role matching every issuer"
                        + " would let any trusted token, an agent's too, into the console)"));
            }
        }
        return new ConsoleConfig(local, oidc, Map.copyOf(roles), ttl, cookieKeys(s));
    }

    /** {@code console.cookie_keys}: a list of {id, key_file | key_env}, ids unique; absent is an empty list. */
    private List<ConsoleConfig.CookieKey> cookieKeys(Section console) {
        YamlNode node = console.node("cookie_keys");
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq) || seq.items().isEmpty()) {
            console.problem("cookie_keys", "expected a list of keys (id with key_file or key_env), the first sealing"
                    + " new sign-ins, got " + YamlNode.describe(node));
            return List.of();
        }
        List<ConsoleConfig.CookieKey> keys = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section k = Section.open(item, "console.cookie_keys[" + i + "]", item.line(), problems, baseDir,
                    COOKIE_KEY_KEYS);
            if (k == null) {
                continue;
            }
            String id = k.scalar("id", true, null, "a key id", text -> {
                if (!COOKIE_KEY_ID.matcher(text.strip()).matches()) {
                    throw new IllegalArgumentException("expected 1 to 32 letters, digits, _ or -, got "
                            + YamlNode.quote(text));
                }
                return text.strip();
            });
            SecretRef secret = secret(k, "key_env", "key_file", "the key is never written in the config");
            if (id != null) {
                Integer first = seen.putIfAbsent(id, k.lineOf("id"));
                if (first != null) {
                    k.problem("id", "duplicate cookie key id " + YamlNode.quote(id) + " (first on line " + first + ")");
                    continue;
                }
            }
            if (id != null && secret != null) {
                keys.add(new ConsoleConfig.CookieKey(id, secret));
            }
        }
        return List.copyOf(keys);
    }

    /** One identity match or a list of them under {@code key}, each naming its issuer ({@code whyIssuer} if not). */
    private List<Match> matches(Section s, String key, String whyIssuer) {
        YamlNode node = s.node(key);
        List<YamlNode> items = node instanceof YamlNode.Sequence seq ? seq.items() : List.of(node);
        List<Match> matches = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            YamlNode item = items.get(i);
            Section m = Section.open(item, s.pathOf(key) + (node instanceof YamlNode.Sequence ? "[" + i + "]" : ""),
                    item.line(), problems, baseDir, PolicyLoader.MATCH_KEYS);
            Match match = PolicyLoader.match(m);
            if (match != null && match.issuer() == null) {
                m.problem("issuer", whyIssuer);
            } else if (match != null) {
                matches.add(match);
            }
        }
        return List.copyOf(matches);
    }

    /** {@code password_env} or {@code password_file}, exactly one; null (with the problem noted) otherwise. */
    private SecretRef secret(Section s) {
        return secret(s, "password_env", "password_file", "passwords are never written in the config");
    }

    private SecretRef secret(Section s, String envKey, String fileKey, String whyRequired) {
        String env = s.scalar(envKey, false, null, "an environment variable name", text -> {
            if (!ENV_NAME.matcher(text.strip()).matches()) {
                throw new IllegalArgumentException("expected an environment variable name (letters, digits, _), got " + YamlNode.quote(text));
            }
            return text.strip();
        });
        // Not checked for existence: the secret is read at each upstream connection, so a file mounted or
        // rotated after startup is still picked up.
        Path file = s.path(fileKey, false);
        boolean hasEnv = s.has(envKey);
        boolean hasFile = s.has(fileKey);
        if (hasEnv && hasFile) {
            s.problem(fileKey, "set only one of " + envKey + " or " + fileKey);
            return null;
        }
        if (!hasEnv && !hasFile) {
            problems.add(s.line, s.path, "one of " + envKey + " or " + fileKey + " is required (" + whyRequired + ")");
            return null;
        }
        if (env == null && file == null) {
            return null;
        }
        return new SecretRef(env, file);
    }

    private UpstreamTlsConfig upstreamTls(Section s) {
        if (s == null) {
            return UpstreamTlsConfig.DISABLED;
        }
        UpstreamTlsConfig.Mode mode = s.scalar("mode", false, UpstreamTlsConfig.Mode.DISABLE, "a TLS mode",
                text -> enumValue(UpstreamTlsConfig.Mode.class, text));
        Path ca = existingFile(s, "ca_file");
        if (mode == UpstreamTlsConfig.Mode.VERIFY_FULL && !s.has("ca_file")) {
            s.problem("ca_file", "required when mode is verify-full (the CA that signed the database's certificate)");
        }
        return new UpstreamTlsConfig(mode, ca);
    }

    private IdentityConfig identity(Section s) {
        if (s == null) {
            return null;
        }
        List<IssuerConfig> issuers = issuers(s);
        Duration clockSkew = s.duration("clock_skew", DEFAULT_CLOCK_SKEW, false);
        Duration grace = s.duration("session_grace", DEFAULT_SESSION_GRACE, false);
        IdentityConfig.Revoked revoked = IdentityConfig.Revoked.NONE;
        Section r = s.section("revoked", false, REVOKED_KEYS);
        if (r != null) {
            List<String> subjects = r.strings("subjects", false);
            List<String> keyIds = r.strings("key_ids", false);
            revoked = new IdentityConfig.Revoked(subjects == null ? java.util.Set.of() : java.util.Set.copyOf(subjects),
                    keyIds == null ? java.util.Set.of() : java.util.Set.copyOf(keyIds));
        }
        Duration ttl = s.duration("credential_ttl", IdentityConfig.DEFAULT_CREDENTIAL_TTL, true);
        Duration lifetime = s.duration("max_token_lifetime", IdentityConfig.DEFAULT_MAX_TOKEN_LIFETIME, true);
        return new IdentityConfig(issuers, clockSkew, grace, revoked, ttl, lifetime);
    }

    private List<IssuerConfig> issuers(Section identity) {
        YamlNode node = identity.node("issuers");
        if (node == null) {
            identity.missing("issuers");
            return null;
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            identity.problem("issuers", "expected a list of issuers, got " + YamlNode.describe(node));
            return null;
        }
        if (seq.items().isEmpty()) {
            identity.problem("issuers", "at least one issuer is required");
            return null;
        }
        List<IssuerConfig> issuers = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section s = Section.open(item, "identity.issuers[" + i + "]", item.line(), problems, baseDir, ISSUER_KEYS);
            if (s == null) {
                continue;
            }
            IssuerConfig issuer = issuer(s);
            if (issuer.issuer() != null) {
                Integer first = seen.putIfAbsent(issuer.issuer(), s.lineOf("issuer"));
                if (first != null) {
                    s.problem("issuer", "duplicate issuer " + YamlNode.quote(issuer.issuer()) + " (first on line " + first + ")");
                }
            }
            issuers.add(issuer);
        }
        return List.copyOf(issuers);
    }

    private IssuerConfig issuer(Section s) {
        String issuer = s.string("issuer", true, null);
        List<String> audiences = s.strings("audience", true);
        Path jwksFile = existingFile(s, "jwks_file");
        URI jwksUrl = s.scalar("jwks_url", false, null, "a URL", ConfigLoader::httpUrl);
        Boolean discovery = s.bool("discovery", false);
        int sources = (s.has("jwks_file") ? 1 : 0) + (s.has("jwks_url") ? 1 : 0) + (Boolean.TRUE.equals(discovery) ? 1 : 0);
        if (sources == 0) {
            problems.add(s.line, s.path, "one of jwks_file, jwks_url or discovery: true is required (where the issuer's public keys come from)");
        } else if (sources > 1) {
            problems.add(s.line, s.path, "set only one of jwks_file, jwks_url or discovery: true");
        }
        if (Boolean.TRUE.equals(discovery) && issuer != null) {
            // Discovery fetches <issuer>/.well-known/openid-configuration, so the issuer must be a URL.
            try {
                httpUrl(issuer);
            } catch (IllegalArgumentException e) {
                s.problem("discovery", "discovery needs the issuer to be an http(s) URL, got " + YamlNode.quote(issuer));
            }
        }
        List<String> algorithms = algorithms(s);
        return new IssuerConfig(issuer, audiences, jwksFile, jwksUrl, Boolean.TRUE.equals(discovery), algorithms);
    }

    private List<String> algorithms(Section s) {
        if (!s.has("algorithms")) {
            return IssuerConfig.DEFAULT_ALGORITHMS;
        }
        List<String> names = s.strings("algorithms", false);
        if (names == null) {
            return null;
        }
        List<String> kept = new ArrayList<>();
        for (String name : names) {
            if (name.equalsIgnoreCase("none")) {
                s.problem("algorithms", "\"none\" is refused: an unsigned token proves nothing");
            } else if (name.toUpperCase(Locale.ROOT).startsWith("HS")) {
                s.problem("algorithms", YamlNode.quote(name) + " is refused: HMAC keys are shared secrets, so whoever can verify a token can also forge one");
            } else if (!ALLOWED_ALGORITHMS.contains(name)) {
                String hint = Suggest.nearest(name, ALLOWED_ALGORITHMS.stream().sorted().toList());
                s.problem("algorithms", "unknown algorithm " + YamlNode.quote(name)
                        + (hint == null ? "; expected one of " + String.join(", ", ALLOWED_ALGORITHMS.stream().sorted().toList()) : "; did you mean \"" + hint + "\"?"));
            } else if (!kept.contains(name)) {
                kept.add(name);
            }
        }
        return List.copyOf(kept);
    }

    private AuditConfig audit(Section s) {
        if (s == null) {
            return null;
        }
        String store = s.string("store", true, null);
        Path sqlitePath = null;
        AuditConfig.Postgres postgres = null;
        if (store != null) {
            try {
                if (isPostgres(store)) {
                    postgres = postgres(store);
                } else {
                    sqlitePath = sqlitePath(s, store);
                }
            } catch (IllegalArgumentException e) {
                s.problem("store", e.getMessage());
            }
        }
        if (store != null && isPostgres(store)) {
            SecretRef password = secret(s);
            if (postgres != null) {
                postgres = password == null ? null : new AuditConfig.Postgres(postgres.host(), postgres.port(),
                        postgres.database(), postgres.user(), password);
            }
        } else {
            for (String key : List.of("password_env", "password_file")) {
                if (s.has(key)) {
                    s.problem(key, "only a postgres:// store has a password");
                }
            }
        }
        int capacity = orZero(s.integer("queue_capacity", DEFAULT_QUEUE_CAPACITY, 1, Integer.MAX_VALUE));
        Long queueBytes = s.scalar("queue_bytes", false, (long) AuditConfig.DEFAULT_QUEUE_BYTES, "a size", text -> {
            long n = Units.size(text);
            if (n < 1024 * 1024 || n > 1L << 30) {
                throw new IllegalArgumentException("must be from 1MiB to 1GiB, got " + Units.formatSize(n));
            }
            return n;
        });
        Duration write = s.duration("write_timeout", DEFAULT_WRITE_TIMEOUT, true);
        Duration busy = s.duration("busy_timeout", DEFAULT_BUSY_TIMEOUT, true);
        String replica = s.string("replica", false, AuditConfig.DEFAULT_REPLICA);
        if (s.has("replica_env")) {
            // One config for every pod of a Deployment: each takes its chain's name from its own environment
            // (the downward API's pod name), read when the config is loaded.
            String variable = s.string("replica_env", false, null);
            if (s.has("replica")) {
                s.problem("replica_env", "set only one of replica or replica_env");
            } else if (variable != null && System.getenv(variable) == null) {
                s.problem("replica_env", "environment variable " + variable + " is not set (in Kubernetes, set it"
                        + " from the pod name with the downward API: fieldRef metadata.name)");
            } else if (variable != null) {
                replica = System.getenv(variable);
            }
        }
        if (replica != null && !replica.matches("[A-Za-z0-9._:-]{1,128}")) {
            s.problem("replica", "expected 1 to 128 letters, digits, '.', '_', ':' or '-', got " + YamlNode.quote(replica));
        }
        AuditConfig.CheckpointConfig checkpoints = null;
        Section c = s.section("checkpoints", false, CHECKPOINT_KEYS);
        if (c != null) {
            Path key = existingFile(c, "key_file");
            Path file = c.path("file", false);
            if (file == null && sqlitePath != null) {
                file = sqlitePath.resolveSibling(sqlitePath.getFileName() + ".checkpoints");
            }
            if (file == null && postgres != null) {
                c.problem("file", "is required with a postgres:// store (there is no store file to put it beside)");
            }
            int every = orZero(c.integer("every", DEFAULT_CHECKPOINT_EVERY, 1, Integer.MAX_VALUE));
            Duration interval = c.duration("interval", DEFAULT_CHECKPOINT_INTERVAL, true);
            java.net.URI witness = null;
            String witnessText = c.string("witness_url", false, null);
            if (witnessText != null) {
                try {
                    witness = java.net.URI.create(witnessText);
                    if (!"https".equals(witness.getScheme()) && !"http".equals(witness.getScheme())) {
                        c.problem("witness_url", "expected an http(s) URL, got " + YamlNode.quote(witnessText));
                    }
                } catch (IllegalArgumentException e) {
                    c.problem("witness_url", "not a URL: " + YamlNode.quote(witnessText));
                }
            }
            checkpoints = new AuditConfig.CheckpointConfig(key, file, every, interval, witness);
        }
        Boolean record = s.bool("record_responses", true);
        Long cap = s.scalar("response_cap", false, (long) AuditConfig.DEFAULT_RESPONSE_CAP, "a size", text -> {
            long n = Units.size(text);
            if (n > 1L << 30) {
                throw new IllegalArgumentException("must be at most 1GiB, got " + Units.formatSize(n));
            }
            return n;
        });
        AuditConfig.Encryption encryption = null;
        Section e = s.section("encryption", false, ENCRYPTION_KEYS);
        if (e != null) {
            String keyId = e.string("key_id", true, null);
            Path keyFile = e.path("key_file", false);
            String keyEnv = e.string("key_env", false, null);
            if ((keyFile == null) == (keyEnv == null)) {
                e.problem("key_file", "give exactly one of key_file or key_env");
            }
            java.util.Map<String, SecretRef> previous = new java.util.LinkedHashMap<>();
            Section prev = e.section("previous", false, null);
            if (prev != null) {
                for (String id : prev.keys()) {
                    Path p = prev.path(id, true);
                    if (p != null) {
                        previous.put(id, new SecretRef(null, p));
                    }
                }
            }
            if (keyId != null && (keyFile != null) != (keyEnv != null)) {
                encryption = new AuditConfig.Encryption(keyId, new SecretRef(keyEnv, keyFile), java.util.Map.copyOf(previous));
            }
        }
        // On by default for SQLite (beside the file); for PostgreSQL only when asked for, with a folder named:
        // a shared store's durability is what the operator chose, and a gateway's local disk may not match it.
        Path journalDir = s.path("journal_dir", false);
        Boolean journal = s.bool("journal", postgres == null || journalDir != null);
        if (Boolean.TRUE.equals(journal) && journalDir == null) {
            if (sqlitePath != null) {
                journalDir = AuditConfig.defaultJournalDir(sqlitePath, replica);
            } else if (postgres != null) {
                s.problem("journal", "with a postgres:// store the journal needs journal_dir (a folder on a disk "
                        + "that outlives the gateway)");
            }
        }
        if (Boolean.FALSE.equals(journal)) {
            journalDir = null;
        }
        Long journalMax = s.scalar("journal_max_bytes", false, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES, "a size", text -> {
            long n = Units.size(text);
            if (n < 1024 * 1024) {
                throw new IllegalArgumentException("must be at least 1MiB, got " + Units.formatSize(n));
            }
            return n;
        });
        Duration linger = s.scalar("async_linger", false, AuditConfig.DEFAULT_ASYNC_LINGER, "a duration", text -> {
            Duration d = Units.duration(text);
            if (d.compareTo(Duration.ofSeconds(1)) > 0) {
                // Past a second the records a crash can lose stop being "in flight" and start being a backlog.
                throw new IllegalArgumentException("must be at most 1s, got " + text.strip());
            }
            return d;
        });
        return new AuditConfig(store, sqlitePath, capacity, write, busy, replica, checkpoints,
                Boolean.FALSE.equals(record) || cap == null ? 0 : (int) (long) cap, postgres, encryption,
                s.duration("retention", AuditConfig.DEFAULT_RETENTION, true),
                queueBytes == null ? AuditConfig.DEFAULT_QUEUE_BYTES : (int) (long) queueBytes, journalDir,
                journalMax == null ? AuditConfig.DEFAULT_JOURNAL_MAX_BYTES : journalMax,
                linger == null ? AuditConfig.DEFAULT_ASYNC_LINGER : linger);
    }

    private static boolean isPostgres(String store) {
        String lower = store.toLowerCase(Locale.ROOT);
        return lower.startsWith("postgres://") || lower.startsWith("postgresql://");
    }

    /** {@code postgres://user@host:port/db}; the password is never part of it (password_env or password_file). */
    private static AuditConfig.Postgres postgres(String store) {
        java.net.URI uri;
        try {
            uri = new java.net.URI(store);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("expected postgres://user@host:port/database, got an invalid URI");
        }
        String user = uri.getRawUserInfo();
        if (user != null && user.contains(":")) {
            // Not quoted back: the text after the colon is a password.
            throw new IllegalArgumentException("a password does not belong in the store URI; use password_env or password_file");
        }
        if (user == null || user.isEmpty() || uri.getHost() == null) {
            // Not quoted back: a malformed URI may still hold a password.
            throw new IllegalArgumentException("expected postgres://user@host:port/database");
        }
        String path = uri.getPath();
        if (path == null || path.length() < 2 || path.indexOf('/', 1) >= 0) {
            throw new IllegalArgumentException("expected a database name after the host, like postgres://user@host:5432/phigate");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("the store URI takes no ?options or #fragment");
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
        return new AuditConfig.Postgres(host, uri.getPort() == -1 ? 5432 : uri.getPort(),
                java.net.URLDecoder.decode(path.substring(1), java.nio.charset.StandardCharsets.UTF_8),
                java.net.URLDecoder.decode(user, java.nio.charset.StandardCharsets.UTF_8), null);
    }

    private static Path sqlitePath(Section s, String store) {
        String lower = store.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("sqlite:")) {
            throw new IllegalArgumentException("expected sqlite:PATH or postgres://user@host:port/database, got " + YamlNode.quote(store));
        }
        String path = store.substring("sqlite:".length());
        if (path.isBlank()) {
            throw new IllegalArgumentException("sqlite: needs a file path, like sqlite:audit.db");
        }
        return s.resolve(path);
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
        return new LimitsConfig(sessions, frame == null ? 0 : (int) (long) frame, startup, rate, burst, handshakes,
                drain, platform);
    }

    private ClientTlsConfig clientTls(Section s) {
        if (s == null) {
            return new ClientTlsConfig(ClientTlsConfig.Mode.REQUIRE, null, null, true);
        }
        ClientTlsConfig.Mode mode = s.scalar("mode", false, ClientTlsConfig.Mode.REQUIRE, "a TLS mode",
                text -> enumValue(ClientTlsConfig.Mode.class, text));
        boolean useCert = mode != ClientTlsConfig.Mode.DISABLE;
        // Only check the files when they will be used: mode disable with a cert left in place is harmless.
        Path cert = useCert ? existingFile(s, "cert_file") : s.path("cert_file", false);
        Path key = useCert ? existingFile(s, "key_file") : s.path("key_file", false);
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

    /** A path that must name an existing regular file now, because the gateway reads it at startup. */
    private static Path existingFile(Section s, String key) {
        Path path = s.path(key, false);
        if (path != null && !Files.isRegularFile(path)) {
            s.problem(key, (Files.exists(path) ? "not a regular file: " : "file not found: ") + path);
            return null;
        }
        return path;
    }

    private static URI httpUrl(String text) {
        try {
            URI uri = new URI(text.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
                throw new IllegalArgumentException("expected an http(s) URL, got " + YamlNode.quote(text));
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("expected an http(s) URL, got " + YamlNode.quote(text));
        }
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
    private static int orZero(Integer value) {
        return value == null ? 0 : value;
    }
}
