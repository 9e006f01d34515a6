package io.phigate.cli;

import io.phigate.Gateway;
import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import io.phigate.config.GatewayConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate serve --config FILE}: runs the gateway until interrupted. */
@Command(name = "serve", description = "Run the gateway.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "The YAML configuration file.")
    Path config;

    @Override
    public Integer call() throws Exception {
        GatewayConfig cfg;
        try {
            cfg = ConfigLoader.load(config);
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        Gateway gateway = Gateway.start(cfg);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            stopped.countDown();
        }, "phigate-shutdown"));
        System.out.println("phigate listening for PostgreSQL clients on " + gateway.postgresAddress());
        stopped.await();
        return 0;
    }
}
