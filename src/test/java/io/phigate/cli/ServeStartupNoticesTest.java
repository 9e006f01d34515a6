package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.TestConfigs;
import io.phigate.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What serve says at start so an operator does not learn it from the first agent: every address it listens on,
 * and an upstream it cannot reach or a credential it cannot read.
 */
class ServeStartupNoticesTest {
    @TempDir
    Path dir;

    @Test
    void warnsAboutAnUnreachableUpstreamAndAnUnsetPasswordVariable() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path config = TestConfigs.write(dir, "store: sqlite:audit.db\n");
        Files.writeString(config, Files.readString(config)
                .replace("address: 127.0.0.1", "address: 127.0.0.1:" + closed)
                .replace("CLINICAL_DB_PASSWORD", "PHIGATE_TEST_SURELY_UNSET_VARIABLE"));
        var warnings = ServeCommand.warnings(ConfigLoader.load(config));
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("upstream clinical")
                .contains("PHIGATE_TEST_SURELY_UNSET_VARIABLE is not set"));
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("cannot reach 127.0.0.1:" + closed));
    }

    @Test
    void printsEveryAddressItListensOn() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withConsole(GatewayHarness.withHttp(c),
                new io.phigate.config.ConsoleConfig(true, null, java.util.Map.of(), java.time.Duration.ofHours(1))))) {
            var bytes = new ByteArrayOutputStream();
            ServeCommand.listening(gw.gateway(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
            String out = bytes.toString(StandardCharsets.UTF_8);
            int http = gw.gateway().httpAddress().getPort();
            assertThat(out).contains("PostgreSQL clients on 127.0.0.1:" + gw.port())
                    .contains("HTTP API on http://127.0.0.1:" + http + "/api/v1")
                    .contains("web console on http://127.0.0.1:" + http + "/console");
            assertThat(ServeCommand.warnings(gw.config())).as("a reachable upstream, a readable password").isEmpty();
        }
    }
}
