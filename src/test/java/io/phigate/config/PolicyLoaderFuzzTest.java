package io.phigate.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Any policy text gives a policy or a {@link ConfigException} naming the line, never another failure. */
class PolicyLoaderFuzzTest extends FuzzTarget {
    private static final Path BASE = Path.of(System.getProperty("java.io.tmpdir"));

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws ConfigException {
        PolicyLoader.parse(new String(input, StandardCharsets.UTF_8), BASE, "fuzz-policy.yaml");
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(ConfigException.class);
    }
}
