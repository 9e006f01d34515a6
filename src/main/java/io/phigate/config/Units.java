package io.phigate.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value syntaxes the config accepts beyond plain YAML types: durations, byte sizes, host:port and http(s) URLs.
 * Each parser throws IllegalArgumentException whose message is ready to show the operator.
 */
public final class Units {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([A-Za-z]+)?");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");
    // Hostnames and IPv4 literals; IPv6 literals are checked separately inside their brackets.
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?");

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;

    /** The port a database is assumed to listen on when an upstream address leaves it out. */
    static final int POSTGRES_PORT = 5432;

    private Units() {
    }

    /**
     * {@code 250ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 2d}; a bare integer is seconds. The command line
     * takes durations in the same forms ({@code --ttl}, {@code --since 7d}).
     */
    public static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a duration like 250ms, 10s, 5m, 1h or 2d, got " + YamlNode.quote(text));
        }
        try {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> throw new IllegalStateException(unit);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("duration is too large: " + YamlNode.quote(text));
        }
    }

    /**
     * Plain bytes or {@code KiB}/{@code MiB}/{@code GiB}. The 1000-based KB/MB/GB are refused rather than
     * guessed at, because "64MB" means 64,000,000 to some readers and 67,108,864 to others.
     */
    static long size(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a size like 65536, 64KiB, 64MiB or 1GiB, got " + YamlNode.quote(text));
        }
        long unit;
        String suffix = m.group(2);
        if (suffix == null) {
            unit = 1;
        } else {
            unit = switch (suffix) {
                case "B" -> 1;
                case "KiB" -> KIB;
                case "MiB" -> MIB;
                case "GiB" -> GIB;
                default -> throw new IllegalArgumentException("unknown size unit " + YamlNode.quote(suffix)
                        + "; use plain bytes or KiB, MiB, GiB (1024-based)");
            };
        }
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("size is too large: " + YamlNode.quote(text));
        }
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code :port}. A listener ({@code listen} true) may use
     * {@code :port} for all interfaces and port 0 for "any free port"; an upstream may leave the port out.
     */
    static HostPort hostPort(String text, boolean listen) {
        return hostPort(text, listen, POSTGRES_PORT);
    }

    /** As {@link #hostPort(String, boolean)}, an upstream without a port being at {@code defaultPort}. */
    static HostPort hostPort(String text, boolean listen, int defaultPort) {
        String s = text.strip();
        String expected = listen ? "expected host:port, got " : "expected host:port or host, got ";
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(expected + YamlNode.quote(text) + " (missing ']')");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (rest.isEmpty()) {
                port = null;
            } else if (rest.startsWith(":")) {
                port = rest.substring(1);
            } else {
                throw new IllegalArgumentException(expected + YamlNode.quote(text));
            }
            if (!IPV6.matcher(host).matches() || !host.contains(":")) {
                throw new IllegalArgumentException("not an IPv6 address inside [ ]: " + YamlNode.quote(host));
            }
        } else {
            int colon = s.indexOf(':');
            if (colon >= 0 && s.indexOf(':', colon + 1) >= 0) {
                throw new IllegalArgumentException(expected + YamlNode.quote(text) + " (write IPv6 addresses in brackets, like [::1]:5432)");
            }
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
            if (host.isEmpty()) {
                if (!listen) {
                    throw new IllegalArgumentException(expected + YamlNode.quote(text) + " (the host is missing)");
                }
                host = "0.0.0.0";
            } else if (!HOST.matcher(host).matches()) {
                throw new IllegalArgumentException(expected + YamlNode.quote(text) + " (not a valid host name)");
            }
        }
        if (port == null) {
            if (listen) {
                throw new IllegalArgumentException(expected + YamlNode.quote(text));
            }
            return new HostPort(host, defaultPort);
        }
        if (!PORT.matcher(port).matches()) {
            throw new IllegalArgumentException(expected + YamlNode.quote(text) + " (the port must be a number)");
        }
        int n = Integer.parseInt(port);
        int min = listen ? 0 : 1;
        if (n < min || n > 65535) {
            throw new IllegalArgumentException("port must be between " + min + " and 65535, got " + n);
        }
        return new HostPort(host, n);
    }

    /** A byte count as the docs write it: 64 MiB rather than 67108864. */
    static String formatSize(long bytes) {
        if (bytes % GIB == 0) {
            return bytes / GIB + "GiB";
        }
        if (bytes % MIB == 0) {
            return bytes / MIB + "MiB";
        }
        if (bytes % KIB == 0) {
            return bytes / KIB + "KiB";
        }
        return Long.toString(bytes);
    }

    /** An absolute http or https URL with a host. */
    static URI httpUrl(String text) {
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
}
