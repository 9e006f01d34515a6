package io.phigate.config;

import io.phigate.mask.SecretRef;
import io.phigate.policy.Match;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code console} and {@code http} sections: who may sign in to the console and with which cookie keys, and
 * which hosts and admins the HTTP API answers. Both name people by identity matches that must name their issuer.
 */
final class ConsoleLoader {
    static final List<String> HTTP_KEYS = List.of("allowed_hosts", "admin_token_file", "admins");
    /** A Host header name as a person writes it: a DNS name or an IP address, without port or scheme. */
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\\[[0-9A-Fa-f:.]{2,45}]");
    static final List<String> CONSOLE_KEYS = List.of("local_sign_in", "session_ttl", "oidc", "roles",
            "cookie_keys");
    private static final List<String> COOKIE_KEY_KEYS = List.of("id", "key_file", "key_env");
    /** A cookie key's id is written into every cookie it seals: short and plain. */
    private static final Pattern COOKIE_KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final List<String> CONSOLE_OIDC_KEYS = List.of("issuer", "client_id", "client_secret_env",
            "client_secret_file", "redirect_uri", "scopes");

    private final Problems problems;
    private final Path baseDir;

    ConsoleLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    HttpConfig http(Section s) {
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

    ConsoleConfig console(Section s) {
        if (s == null) {
            return null;
        }
        boolean local = s.bool("local_sign_in", true);
        Duration ttl = s.duration("session_ttl", ConsoleConfig.DEFAULT_SESSION_TTL, true);
        ConsoleConfig.Oidc oidc = null;
        Section o = s.section("oidc", false, CONSOLE_OIDC_KEYS);
        if (o != null) {
            String issuer = o.scalar("issuer", true, null, "a URL", text -> Units.httpUrl(text).toString());
            String clientId = o.string("client_id", true, null);
            URI redirect = o.scalar("redirect_uri", true, null, "a URL", Units::httpUrl);
            List<String> scopes = o.strings("scopes", false);
            if (scopes == null) {
                scopes = List.of("openid", "profile", "email");
            } else if (!scopes.contains("openid")) {
                o.problem("scopes", "scopes must include openid (the console signs in with the ID token)");
            }
            SecretRef secret = o.has("client_secret_env") || o.has("client_secret_file")
                    ? o.secret("client_secret_env", "client_secret_file", "a public client (PKCE alone) sets neither")
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
            SecretRef secret = k.secret("key_env", "key_file", "the key is never written in the config");
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
}
