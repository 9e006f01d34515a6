package io.phigate.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Any config text gives a configuration or a {@link ConfigException} naming the line: never a parser crash, a
 * NullPointerException from a half-read section, or a number that overflows.
 */
class ConfigLoaderFuzzTest extends FuzzTarget {
    private static final Path BASE = Path.of(System.getProperty("java.io.tmpdir"));

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws ConfigException {
        ConfigLoader.parse(new String(input, StandardCharsets.UTF_8), BASE, "fuzz.yaml");
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(ConfigException.class);
    }
}
