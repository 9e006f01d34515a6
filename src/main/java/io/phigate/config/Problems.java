package io.phigate.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Collects every configuration problem so an operator fixes them in one pass instead of one per restart.
 * Each reads {@code source:line: key.path: message}, sorted by line.
 */
final class Problems {
    private record Problem(int line, String path, String message) {
    }

    private final String source;
    private final List<Problem> problems = new ArrayList<>();

    Problems(String source) {
        this.source = source;
    }

    void add(int line, String path, String message) {
        problems.add(new Problem(line, path, message));
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    void throwIfAny() throws ConfigException {
        if (problems.isEmpty()) {
            return;
        }
        String text = problems.stream()
                .sorted(Comparator.comparingInt(Problem::line))
                .map(this::format)
                .collect(Collectors.joining("\n"));
        throw new ConfigException(text);
    }

    private String format(Problem p) {
        String where = p.line() > 0 ? source + ":" + p.line() + ": " : source + ": ";
        return p.path().isEmpty() ? where + p.message() : where + p.path() + ": " + p.message();
    }
}
