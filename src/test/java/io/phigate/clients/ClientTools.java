package io.phigate.clients;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Finds Debian's psql and pgbench (the versioned binaries; /usr/bin's pg_wrapper wants a cluster). Tests that need
 * them skip when absent, unless PHIGATE_REQUIRE_CLIENTS is set, as CI does, where absence is a failure.
 */
public final class ClientTools {
    private ClientTools() {
    }

    public static Path find(String tool) {
        Path found = null;
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib/postgresql"))) {
            found = dirs.map(d -> d.resolve("bin").resolve(tool)).filter(Files::isExecutable)
                    .max(Comparator.comparingInt(p -> Integer.parseInt(p.getParent().getParent().getFileName().toString())))
                    .orElse(null);
        } catch (IOException | NumberFormatException e) {
            // not installed the Debian way
        }
        if (found == null) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                Path p = Path.of(dir, tool);
                if (Files.isExecutable(p)) {
                    found = p;
                    break;
                }
            }
        }
        if (found == null && System.getenv("PHIGATE_REQUIRE_CLIENTS") != null) {
            throw new IllegalStateException(tool + " is required (PHIGATE_REQUIRE_CLIENTS is set) but not installed");
        }
        assumeTrue(found != null, tool + " not installed");
        return found;
    }

    public record Result(int exitCode, String output) {
    }

    public static Result run(Map<String, String> env, Path workDir, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.directory(workDir.toFile());
        Path log = Files.createTempFile(workDir, "tool", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish");
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
