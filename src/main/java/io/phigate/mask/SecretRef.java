package io.phigate.mask;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a secret lives: an environment variable or a file. The value is read when it is needed (so a rotated
 * file is picked up by the next connection) and never kept in the config or printed.
 */
public record SecretRef(String env, Path file) {
    public SecretRef {
        if ((env == null) == (file == null)) {
            throw new IllegalArgumentException("exactly one of env or file must be set");
        }
    }

    /** Reads the secret now; a trailing newline in a file is not part of it. */
    public String read() throws IOException {
        if (env != null) {
            String value = System.getenv(env);
            if (value == null) {
                throw new IOException("environment variable " + env + " is not set");
            }
            return value;
        }
        String value = Files.readString(file, StandardCharsets.UTF_8);
        return value.strip();
    }

    @Override
    public String toString() {
        return env != null ? "env:" + env : "file:" + file;
    }
}
