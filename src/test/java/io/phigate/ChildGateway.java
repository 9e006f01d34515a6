package io.phigate;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway in its own JVM, started from the test classpath with {@code phigate serve}: for tests that cap its
 * heap or kill it with SIGKILL.
 */
public final class ChildGateway implements AutoCloseable {
    private final Process process;

    private ChildGateway(Process process) {
        this.process = process;
    }

    /** A free loopback port to write into a config (bind-then-release; the race is acceptable in tests). */
    public static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    /**
     * Writes {@code dir/phigate.yaml} for a gateway on {@code port} in front of the shared test database, trusting
     * the harness issuer with {@code dir/keys/jwks.json} and auditing to {@code dir/audit.db}; {@code auditExtra}
     * is appended under {@code audit:} (indented two spaces), for replica and checkpoint settings.
     */
    public static Path writeConfig(Path dir, int port, String auditExtra) throws IOException {
        TestDatabase db = TestDatabase.get();
        return writeConfig(dir, port, db.port(), db.user(), db.passwordFile(), auditExtra, "");
    }

    /**
     * As {@link #writeConfig(Path, int, String)}, in front of the PostgreSQL at {@code upstreamPort} as
     * {@code user}, with {@code extra} appended at the top level (a {@code limits:} section, say).
     */
    public static Path writeConfig(Path dir, int port, int upstreamPort, String user, Path passwordFile,
                                   String auditExtra, String extra) throws IOException {
        Path config = dir.resolve("phigate.yaml");
        java.nio.file.Files.writeString(config, """
                listen:
                  postgres: 127.0.0.1:%d
                upstreams:
                  clinical:
                    address: 127.0.0.1:%d
                    database: clinical
                    credentials:
                      user: %s
                      password_file: %s
                identity:
                  issuers:
                    - issuer: %s
                      audience: %s
                      jwks_file: keys/jwks.json
                audit:
                  store: sqlite:audit.db
                """.formatted(port, upstreamPort, user, passwordFile, GatewayHarness.ISSUER,
                GatewayHarness.AUDIENCE) + auditExtra.indent(2) + extra + eventLoopIfAsked(extra));
        return config;
    }

    /** Starts {@code serve --config config} with a 256 MiB heap and waits until it listens on {@code port}. */
    /** {@code -Dphigate.test.eventLoop=plain}: the child's plain sessions run on event loops too (decision 0097). */
    private static String eventLoopIfAsked(String extra) {
        String mode = System.getProperty(GatewayHarness.EVENT_LOOP_PROPERTY, "off");
        return mode.equals("off") || extra.contains("limits:") ? "" : "limits:\n  event_loop: " + mode + "\n";
    }

    public static ChildGateway start(Path config, int port, Path log) throws Exception {
        return start(config, port, log, List.of("-Xmx256m"));
    }

    /**
     * Starts {@code serve --config config} with {@code jvmArgs} (heap size, GC, quick-start flags) and waits until
     * it listens on {@code port}.
     */
    public static ChildGateway start(Path config, int port, Path log, List<String> jvmArgs) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(javaBin));
        command.addAll(jvmArgs);
        command.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.phigate.cli.Main", "serve", "--config", config.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ChildGateway g = new ChildGateway(p);
        // Generous: a child JVM on a loaded two-core machine took over 30 s to open its listener (seen once).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("gateway exited with " + p.exitValue());
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return g;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        g.close();
        throw new IllegalStateException("gateway did not listen on " + port);
    }

    public long pid() {
        return process.pid();
    }

    /** Resident set size now, from /proc (Linux). */
    public long rssBytes() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for " + process.pid());
    }

    /** Heap in use right after a full collection, asked of the child with jcmd. */
    public long heapUsedAfterGc() throws Exception {
        jcmd("GC.run");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("heap\\s+total.*?used (\\d+)K").matcher(jcmd("GC.heap_info"));
        if (!m.find()) {
            throw new IOException("unexpected GC.heap_info output");
        }
        return Long.parseLong(m.group(1)) * 1024;
    }

    private String jcmd(String command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * What a restart does to the audit store of a killed gateway, without starting one: opens the store its
     * config names, which replays the journal's acknowledged records into it (decision 0021), and closes it.
     */
    public static void recoverAudit(Path config) throws Exception {
        new io.phigate.audit.AuditStore(io.phigate.config.ConfigLoader.load(config).audit()).close();
    }

    /** SIGTERM, as an orchestrator stops a pod: the gateway drains (limits.drain_grace) and exits. */
    public void sigterm() {
        process.destroy();
    }

    /** Waits for the process to exit; true when it did within {@code timeout}. */
    public boolean awaitExit(java.time.Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGKILL: no shutdown hook, no flush. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
