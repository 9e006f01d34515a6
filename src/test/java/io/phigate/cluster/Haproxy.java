package io.phigate.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.phigate.ChildGateway;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's HAProxy in front of gateway replicas: TCP mode, round robin, a health check per server, and a stats
 * page whose per-server connection counts say which replica a connection was sent to.
 */
final class Haproxy implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Process process;
    final int port;
    private final int statsPort;

    private Haproxy(Process process, int port, int statsPort) {
        this.process = process;
        this.port = port;
        this.statsPort = statsPort;
    }

    static Path binary() {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin")) {
            Path p = Path.of(dir, "haproxy");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        if (System.getenv("PHIGATE_REQUIRE_CLIENTS") != null) {
            throw new IllegalStateException("haproxy is required (PHIGATE_REQUIRE_CLIENTS is set) but not installed");
        }
        assumeTrue(false, "haproxy not installed (apt-get install haproxy)");
        return null;
    }

    /** Round robin over {@code servers} (name to PostgreSQL port), in that order. */
    static Haproxy start(Path dir, Map<String, Integer> servers) throws Exception {
        int port = ChildGateway.freePort();
        int stats = ChildGateway.freePort();
        StringBuilder backend = new StringBuilder();
        servers.forEach((name, p) -> backend.append("  server ").append(name).append(" 127.0.0.1:").append(p)
                .append(" check inter 500ms fall 2 rise 2\n"));
        Path config = dir.resolve("haproxy.cfg");
        Files.writeString(config, """
                global
                  maxconn 512
                defaults
                  mode tcp
                  timeout connect 2s
                  timeout client 120s
                  timeout server 120s
                frontend postgres
                  bind 127.0.0.1:%d
                  default_backend replicas
                backend replicas
                  balance roundrobin
                %s
                listen stats
                  mode http
                  bind 127.0.0.1:%d
                  stats enable
                  stats uri /stats
                """.formatted(port, backend, stats));
        Process p = new ProcessBuilder(binary().toString(), "-db", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("haproxy exited: " + Files.readString(dir.resolve("haproxy.log")));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return new Haproxy(p, port, stats);
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("haproxy did not listen on " + port);
    }

    /** Connections HAProxy has sent to each server so far (the stats' {@code stot}). */
    Map<String, Long> connectionsPerServer() throws Exception {
        String csv = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/stats;csv"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Long> out = new HashMap<>();
        List<String> header = null;
        for (String line : csv.split("\n")) {
            List<String> cells = List.of(line.replaceFirst("^# ", "").split(",", -1));
            if (line.startsWith("# ")) {
                header = cells;
            } else if (header != null && cells.size() > 1 && cells.get(0).equals("replicas")
                    && !cells.get(1).equals("BACKEND")) {
                out.put(cells.get(1), Long.parseLong(cells.get(header.indexOf("stot"))));
            }
        }
        return out;
    }

    /** Whether HAProxy's health check takes {@code server} for up. */
    boolean up(String server) throws Exception {
        String csv = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/stats;csv"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : csv.split("\n")) {
            if (line.startsWith("replicas," + server + ",")) {
                return line.contains(",UP,");
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
