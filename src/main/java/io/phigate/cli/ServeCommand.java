package io.phigate.cli;

import io.phigate.Gateway;
import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import io.phigate.config.GatewayConfig;
import io.phigate.config.UpstreamConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code phigate serve --config FILE}: runs the gateway until interrupted. The config and the policy file it names
 * are checked first, all problems at once ({@code file:line: path: message}, exit 2). At start it prints every
 * address it listens on and warns about what would otherwise first show up as an agent's failed connection: an
 * upstream it cannot reach, a credential variable or file that is not there.
 */
@Command(name = "serve", description = "Run the gateway.")
final class ServeCommand implements Callable<Integer> {
    private static final int REACH_TIMEOUT_MILLIS = 2_000;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The YAML configuration file.")
    Path config;

    @Override
    public Integer call() throws Exception {
        GatewayConfig cfg;
        try {
            cfg = ConfigLoader.loadToServe(config);
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(cfg);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            System.err.println("phigate serve: cannot start: " + e.getMessage());
            return e.getCause() instanceof ConfigException ? 2 : 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM (an orchestrator stopping the pod) and Ctrl-C drain: sessions get limits.drain_grace to finish.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.drain();
            stopped.countDown();
        }, "phigate-shutdown"));
        listening(gateway, System.out);
        for (String warning : warnings(cfg)) {
            System.err.println("phigate serve: warning: " + warning);
        }
        stopped.await();
        return 0;
    }

    /** Every address the gateway listens on, one line each. */
    static void listening(Gateway gateway, PrintStream out) {
        out.println("phigate listening for PostgreSQL clients on " + address(gateway.postgresAddress()));
        InetSocketAddress http = gateway.httpAddress();
        if (http != null) {
            out.println("phigate HTTP API on http://" + address(http) + "/api/v1 (liveness: /livez, readiness: /readyz,"
                    + " metrics: /metrics)");
            if (gateway.config().console() != null) {
                out.println("phigate web console on http://" + address(http) + "/console");
            }
        }
    }

    private static String address(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** What will fail an agent's first connection, said now: unreachable upstreams, unset credentials. */
    static List<String> warnings(GatewayConfig cfg) {
        List<String> out = new ArrayList<>();
        for (UpstreamConfig u : cfg.upstreams().values()) {
            var secret = u.credentials() == null ? null : u.credentials().password();
            if (secret != null && secret.env() != null && System.getenv(secret.env()) == null) {
                out.add("upstream " + u.name() + ": environment variable " + secret.env()
                        + " is not set; sessions to it will fail until the gateway is restarted with it");
            } else if (secret != null && secret.file() != null && !Files.isReadable(secret.file())) {
                out.add("upstream " + u.name() + ": password file " + secret.file() + " cannot be read");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(u.address().host(), u.address().port()), REACH_TIMEOUT_MILLIS);
            } catch (IOException e) {
                out.add("upstream " + u.name() + ": cannot reach " + u.address().host() + ":" + u.address().port()
                        + " (" + e.getMessage() + "); sessions to it will fail until it is up");
            }
        }
        if (cfg.documents() != null) {
            cfg.documents().credentials().forEach((store, login) -> {
                if (login.password().env() != null && System.getenv(login.password().env()) == null) {
                    out.add("document store " + store + ": environment variable " + login.password().env()
                            + " is not set; sessions to it will fail until the gateway is restarted with it");
                }
            });
        }
        return out;
    }
}
