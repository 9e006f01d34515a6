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

    /** Starts {@code serve --config config} with a 256 MiB heap and waits until it listens on {@code port}. */
    public static ChildGateway start(Path config, int port, Path log) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(javaBin, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "io.phigate.cli.Main", "serve", "--config", config.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ChildGateway g = new ChildGateway(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
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

    public boolean isAlive() {
        return process.isAlive();
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
