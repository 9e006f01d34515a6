package io.phigate.config;

import io.phigate.mask.SecretRef;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One YAML mapping being turned into a record: typed reads that record a problem (with the key's line) instead
 * of throwing, so that a single pass finds every mistake. A read that fails returns null; the loader throws
 * before any record built from a null escapes.
 */
final class Section {
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Reads a scalar's text into a value, throwing IllegalArgumentException with an operator-ready message. */
    @FunctionalInterface
    interface Parser<T> {
        T parse(String text);
    }

    final String path;
    final int line;
    private final Map<String, YamlNode.Entry> entries;
    private final Problems problems;
    private final Path baseDir;

    private Section(YamlNode.Mapping mapping, String path, int line, Problems problems, Path baseDir, List<String> known) {
        this.path = path;
        this.line = line;
        this.entries = mapping.entries();
        this.problems = problems;
        this.baseDir = baseDir;
        for (YamlNode.Entry entry : entries.values()) {
            // A null list means the keys are names the operator chooses (key ids), not settings.
            if (known != null && !known.contains(entry.key())) {
                String hint = Suggest.nearest(entry.key(), known);
                problems.add(entry.keyLine(), pathOf(entry.key()),
                        "unknown key" + (hint == null ? " (known keys: " + String.join(", ", known) + ")" : "; did you mean \"" + hint + "\"?"));
            }
        }
    }

    /** The keys present, in file order. */
    java.util.Set<String> keys() {
        return entries.keySet();
    }

    /** Opens {@code node} as a section, or records that it is not a mapping and returns null. */
    static Section open(YamlNode node, String path, int line, Problems problems, Path baseDir, List<String> known) {
        if (node instanceof YamlNode.Mapping mapping) {
            return new Section(mapping, path, line, problems, baseDir, known);
        }
        problems.add(node.line(), path, "expected a mapping, got " + YamlNode.describe(node));
        return null;
    }

    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The key's line when it is present, else the section's own line (where a missing key belongs). */
    int lineOf(String key) {
        YamlNode.Entry entry = entries.get(key);
        return entry == null ? line : entry.keyLine();
    }

    /** The key's value, or null when the key is absent or explicitly empty. */
    YamlNode node(String key) {
        YamlNode.Entry entry = entries.get(key);
        if (entry == null || entry.value() instanceof YamlNode.Scalar s && s.kind() == YamlNode.Scalar.Kind.NULL) {
            return null;
        }
        return entry.value();
    }

    boolean has(String key) {
        return node(key) != null;
    }

    void problem(String key, String message) {
        problems.add(lineOf(key), pathOf(key), message);
    }

    void missing(String key) {
        problems.add(lineOf(key), pathOf(key), entries.containsKey(key) ? "has no value, but one is required" : "required key is missing");
    }

    /** A nested section; null (with a problem if {@code required}) when absent or not a mapping. */
    Section section(String key, boolean required, List<String> known) {
        YamlNode node = node(key);
        if (node == null) {
            if (required) {
                missing(key);
            }
            return null;
        }
        return open(node, pathOf(key), lineOf(key), problems, baseDir, known);
    }

    /** The value parsed by {@code parser}; {@code fallback} when absent, a problem when absent and required. */
    <T> T scalar(String key, boolean required, T fallback, String expected, Parser<T> parser) {
        YamlNode node = node(key);
        if (node == null) {
            if (required) {
                missing(key);
            }
            return fallback;
        }
        if (!(node instanceof YamlNode.Scalar scalar)) {
            problem(key, "expected " + expected + ", got " + YamlNode.describe(node));
            return null;
        }
        try {
            return parser.parse(scalar.text());
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return null;
        }
    }

    String string(String key, boolean required, String fallback) {
        return scalar(key, required, fallback, "a string", Section::nonEmpty);
    }

    Integer integer(String key, int fallback, int min, int max) {
        return scalar(key, false, fallback, "an integer", text -> {
            long n;
            try {
                n = Long.parseLong(text.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected an integer, got " + YamlNode.quote(text));
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max + ", got " + n);
            }
            return (int) n;
        });
    }

    Boolean bool(String key, boolean fallback) {
        YamlNode node = node(key);
        if (node == null) {
            return fallback;
        }
        if (node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Scalar.Kind.BOOLEAN) {
            return Boolean.parseBoolean(s.text().strip().toLowerCase(Locale.ROOT));
        }
        problem(key, "expected true or false, got " + YamlNode.describe(node));
        return null;
    }

    Duration duration(String key, Duration fallback, boolean positive) {
        return scalar(key, false, fallback, "a duration", text -> {
            Duration d = Units.duration(text);
            if (positive && d.isZero()) {
                throw new IllegalArgumentException("must be longer than zero");
            }
            return d;
        });
    }

    /** A path resolved against the config file's folder, so the config means the same from any working directory. */
    Path path(String key, boolean required) {
        return scalar(key, required, null, "a path", text -> resolve(nonEmpty(text)));
    }

    Path resolve(String text) {
        try {
            return baseDir.resolve(text).normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("not a valid path: " + YamlNode.quote(text));
        }
    }

    /** {@code password_env} or {@code password_file}, exactly one; null (with the problem noted) otherwise. */
    SecretRef password() {
        return secret("password_env", "password_file", "passwords are never written in the config");
    }

    /** A secret named by an environment variable or a file, exactly one; null (with the problem noted) otherwise. */
    SecretRef secret(String envKey, String fileKey, String whyRequired) {
        String env = scalar(envKey, false, null, "an environment variable name", text -> {
            if (!ENV_NAME.matcher(text.strip()).matches()) {
                throw new IllegalArgumentException("expected an environment variable name (letters, digits, _), got " + YamlNode.quote(text));
            }
            return text.strip();
        });
        // Not checked for existence: the secret is read at each upstream connection, so a file mounted or
        // rotated after startup is still picked up.
        Path file = path(fileKey, false);
        boolean hasEnv = has(envKey);
        boolean hasFile = has(fileKey);
        if (hasEnv && hasFile) {
            problem(fileKey, "set only one of " + envKey + " or " + fileKey);
            return null;
        }
        if (!hasEnv && !hasFile) {
            problems.add(line, path, "one of " + envKey + " or " + fileKey + " is required (" + whyRequired + ")");
            return null;
        }
        if (env == null && file == null) {
            return null;
        }
        return new SecretRef(env, file);
    }

    /** A path that must name an existing regular file now, because the gateway reads it at startup. */
    Path existingFile(String key) {
        Path file = path(key, false);
        if (file != null && !Files.isRegularFile(file)) {
            problem(key, (Files.exists(file) ? "not a regular file: " : "file not found: ") + file);
            return null;
        }
        return file;
    }

    /** A string or a list of strings, for keys where one value is the common case. */
    List<String> strings(String key, boolean required) {
        YamlNode node = node(key);
        if (node == null) {
            if (required) {
                missing(key);
            }
            return null;
        }
        List<YamlNode> items = node instanceof YamlNode.Sequence seq ? seq.items() : List.of(node);
        if (items.isEmpty()) {
            problem(key, "must list at least one value");
            return null;
        }
        List<String> values = new ArrayList<>();
        boolean ok = true;
        for (YamlNode item : items) {
            if (item instanceof YamlNode.Scalar s && s.kind() != YamlNode.Scalar.Kind.NULL && !s.text().isBlank()) {
                values.add(s.text().strip());
            } else {
                problems.add(item.line(), pathOf(key), "expected a non-empty string, got " + YamlNode.describe(item));
                ok = false;
            }
        }
        return ok ? List.copyOf(values) : null;
    }

    static String nonEmpty(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("must not be empty");
        }
        return text.strip();
    }
}
