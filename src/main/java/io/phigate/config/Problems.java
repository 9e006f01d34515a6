package io.phigate.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Collects every configuration problem so an operator fixes them in one pass instead of one per restart.
 * Each reads {@code source:line: key.path: message}, sorted by line.
 */
final class Problems {
    private record Problem(int line, String path, String message) {
    }

    private final String source;
    private final List<Problem> problems = new ArrayList<>();
    /** Another file's problems (the policy file's), already formatted with that file's name and lines. */
    private final List<String> included = new ArrayList<>();

    Problems(String source) {
        this.source = source;
    }

    void add(int line, String path, String message) {
        problems.add(new Problem(line, path, message));
    }

    /** Adds the problems another file's loader found, as that loader formatted them. */
    void include(ConfigException fromOtherFile) {
        included.add(fromOtherFile.getMessage());
    }

    boolean isEmpty() {
        return problems.isEmpty() && included.isEmpty();
    }

    void throwIfAny() throws ConfigException {
        if (isEmpty()) {
            return;
        }
        List<String> lines = new ArrayList<>(problems.stream()
                .sorted(Comparator.comparingInt(Problem::line))
                .map(this::format)
                .toList());
        lines.addAll(included);
        throw new ConfigException(String.join("\n", lines));
    }

    private String format(Problem p) {
        String where = p.line() > 0 ? source + ":" + p.line() + ": " : source + ": ";
        return p.path().isEmpty() ? where + p.message() : where + p.path() + ": " + p.message();
    }
}
