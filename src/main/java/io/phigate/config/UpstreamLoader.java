package io.phigate.config;

import io.phigate.mask.SecretRef;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code upstreams} section: each PostgreSQL database, its login, its TLS and the startup settings it lets
 * through. A document store's TLS has the same shape and is read here too.
 */
final class UpstreamLoader {
    private static final List<String> UPSTREAM_KEYS = List.of("address", "database", "credentials", "tls",
            "startup_parameters");
    private static final List<String> STARTUP_PARAMETERS_KEYS = List.of("allow");
    private static final Pattern SETTING_NAME = Pattern.compile("[a-z_][a-z0-9_.]*");
    /** Settings whose startup rule for analysed sessions is fixed: a config entry cannot widen it. */
    private static final Set<String> FIXED_STARTUP_SETTINGS = Set.of("client_encoding", "standard_conforming_strings",
            "search_path", "role", "session_authorization");
    private static final List<String> CREDENTIALS_KEYS = List.of("mode", "user", "password_env", "password_file", "group");
    static final List<String> UPSTREAM_TLS_KEYS = List.of("mode", "ca_file");

    private final Problems problems;
    private final Path baseDir;

    UpstreamLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    Map<String, UpstreamConfig> upstreams(Section root) {
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
        UpstreamTlsConfig tls = tls(s.section("tls", false, UPSTREAM_TLS_KEYS));
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
                text -> ConfigLoader.enumValue(CredentialsConfig.Mode.class, text));
        String user = s.string("user", true, null);
        SecretRef password = s.password();
        String group = s.string("group", false, null);
        if (mode == CredentialsConfig.Mode.EPHEMERAL && group == null && !s.has("group")) {
            problems.add(s.line, s.path, "mode ephemeral needs group: the least-privilege group role each session"
                    + " user joins (a policy role may name its own)");
        }
        if (mode == CredentialsConfig.Mode.STATIC && s.has("group")) {
            s.problem("group", "only mode ephemeral creates session users that join a group");
        }
        if (group != null && !ConfigLoader.ROLE_NAME.matcher(group).matches()) {
            s.problem("group", "expected a role name of letters, digits, _ and $ (at most 63), got " + YamlNode.quote(group));
        }
        return password == null ? null : new CredentialsConfig(mode, user, password, group);
    }

    /** An upstream's TLS: a PostgreSQL upstream's and a document store's have the same shape and checks. */
    static UpstreamTlsConfig tls(Section s) {
        if (s == null) {
            return UpstreamTlsConfig.DISABLED;
        }
        UpstreamTlsConfig.Mode mode = s.scalar("mode", false, UpstreamTlsConfig.Mode.DISABLE, "a TLS mode",
                text -> ConfigLoader.enumValue(UpstreamTlsConfig.Mode.class, text));
        Path ca = s.existingFile("ca_file");
        if (mode == UpstreamTlsConfig.Mode.VERIFY_FULL && !s.has("ca_file")) {
            s.problem("ca_file", "required when mode is verify-full (the CA that signed the database's certificate)");
        }
        return new UpstreamTlsConfig(mode, ca);
    }
}
