package io.phigate.mongo;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.phigate.clients.ClientTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * mongosh as the client tests run it: from target/node-clients (where {@code .ci/run} installs it), with a home of
 * its own in the test's folder, so it writes no history or logs elsewhere, and a user config that turns off
 * telemetry, logging and the update check (none of which a test may reach the network for). A test that needs it
 * skips when it is absent, unless PHIGATE_REQUIRE_CLIENTS is set, as CI does.
 */
public final class MongoshClient {
    private MongoshClient() {
    }

    public static Path find() {
        Path mongosh = Path.of(System.getenv().getOrDefault("PHIGATE_NODE_MODULES", "target/node-clients/node_modules"))
                .toAbsolutePath().resolve(".bin/mongosh");
        boolean present = Files.isExecutable(mongosh);
        if (!present && System.getenv("PHIGATE_REQUIRE_CLIENTS") != null) {
            throw new IllegalStateException("mongosh is required but not installed at " + mongosh
                    + " (npm install --prefix target/node-clients mongosh@2)");
        }
        assumeTrue(present, "mongosh is not installed at " + mongosh);
        return mongosh;
    }

    /** Runs {@code mongosh args...} in {@code dir}; stdout and stderr together. */
    public static ClientTools.Result run(Path mongosh, Path dir, List<String> args) throws Exception {
        Path home = dir.resolve("mongosh-home");
        Path config = Files.createDirectories(home.resolve(".mongodb/mongosh")).resolve("config");
        Files.writeString(config, "{\"enableTelemetry\": false, \"disableLogging\": true, \"updateURL\": \"\"}");
        List<String> command = new ArrayList<>(List.of(mongosh.toString()));
        command.addAll(args);
        return ClientTools.run(Map.of("HOME", home.toString()), dir, command.toArray(String[]::new));
    }
}
