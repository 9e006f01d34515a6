package io.phigate.http;

import io.javalin.http.Context;
import io.phigate.config.HostPort;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Closes the two ways a web page open in an operator's browser could reach this listener with the browser's
 * own standing (decision 0027), before any route runs:
 * <ul>
 *   <li><b>DNS rebinding.</b> A page from {@code evil.example} whose name is made to resolve to 127.0.0.1 reaches
 *       a loopback listener as "same origin", but its requests still carry {@code Host: evil.example}. Only the
 *       names this gateway is reached by are answered: loopback names, the listen address (with a wildcard
 *       listener, any address of this host's interfaces) and {@code http.allowed_hosts}; anything else gets 421.
 *       An IP literal cannot be rebound, so the addresses are safe to allow.</li>
 *   <li><b>Cross-site form posts.</b> A form on any site can POST to any URL with a "simple" content type
 *       (form-urlencoded, multipart, text/plain) and no preflight. API writes must say
 *       {@code Content-Type: application/json}, which a cross-site page cannot send without a CORS preflight
 *       this server never grants; console forms carry the sign-in's CSRF token instead (checked by the console).
 *       Anything else gets 415.</li>
 * </ul>
 */
final class BrowserGuard {
    private static final Set<String> WRITES = Set.of("POST", "PUT", "PATCH", "DELETE");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]*:[0-9a-f:.]*");
    /** Longer than any name a person configures; a longer Host is not echoed back whole. */
    private static final int MAX_ECHO = 80;

    private final Set<String> names;
    private final boolean wildcard;

    BrowserGuard(HostPort listen, List<String> allowedHosts) {
        Set<String> n = new HashSet<>(Set.of("localhost", "127.0.0.1", "[::1]"));
        String host = listen.host().toLowerCase(Locale.ROOT);
        n.add(host.contains(":") ? "[" + host + "]" : host);
        n.addAll(allowedHosts);
        this.names = Set.copyOf(n);
        this.wildcard = host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    /** The before-handler: answers and stops the request when either check fails. */
    void check(Context ctx) throws Exception {
        String host = hostName(ctx.header("Host"));
        if (host == null || !allows(host)) {
            AuditApi.error(ctx, 421, "this gateway does not answer to Host " + echo(ctx.header("Host"))
                    + "; reach it by one of its own names, or add the name to http.allowed_hosts");
            ctx.skipRemainingHandlers();
            return;
        }
        if (WRITES.contains(ctx.method().name()) && !ctx.path().startsWith("/console/") && !json(ctx.contentType())) {
            AuditApi.error(ctx, 415, "send API requests that change state with Content-Type: application/json"
                    + " (a cross-site form cannot)");
            ctx.skipRemainingHandlers();
        }
    }

    boolean allows(String host) {
        if (names.contains(host)) {
            return true;
        }
        return wildcard && isLocalAddress(host);
    }

    /** The Host header's name, lower case, without its port; null when absent or malformed. */
    static String hostName(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            return close < 0 ? null : h.substring(0, close + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    /** Whether an IP literal is an address of this host now (interfaces change; names never pass here). */
    private static boolean isLocalAddress(String host) {
        String literal = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (!IPV4.matcher(literal).matches() && !IPV6.matcher(literal).matches()) {
            return false;
        }
        try {
            // A literal is parsed, never looked up in DNS.
            InetAddress address = InetAddress.getByName(literal);
            return address.isLoopbackAddress() || NetworkInterface.getByInetAddress(address) != null;
        } catch (UnknownHostException | SocketException e) {
            return false;
        }
    }

    private static boolean json(String contentType) {
        if (contentType == null) {
            return false;
        }
        String type = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return type.equals("application/json");
    }

    private static String echo(String host) {
        if (host == null) {
            return "(none)";
        }
        String printable = host.replaceAll("[^\\x20-\\x7e]", "?");
        return "\"" + (printable.length() > MAX_ECHO ? printable.substring(0, MAX_ECHO) + "..." : printable) + "\"";
    }
}
