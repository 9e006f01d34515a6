package io.phigate.config;

import java.util.List;
import java.util.Map;

/**
 * A YAML value with the line it was written on. Jackson's JsonNode forgets locations, and an operator needs
 * "line 12" more than any other detail, so the loader builds this small tree instead (see {@link YamlReader}).
 */
sealed interface YamlNode {
    int line();

    /** Keys in file order; {@code keyLine} is where the key was written, which is what errors about it cite. */
    record Mapping(Map<String, Entry> entries, int line) implements YamlNode {
    }

    record Entry(String key, int keyLine, YamlNode value) {
    }

    record Sequence(List<YamlNode> items, int line) implements YamlNode {
    }

    /** {@code text} is the scalar as written (null for a YAML null); {@code kind} is how YAML typed it. */
    record Scalar(String text, Kind kind, int line) implements YamlNode {
        enum Kind { STRING, INTEGER, FLOAT, BOOLEAN, NULL }
    }

    /** How a value reads in an error message: "a list", "a mapping", or the scalar itself. */
    static String describe(YamlNode node) {
        return switch (node) {
            case Mapping m -> "a mapping";
            case Sequence s -> "a list";
            case Scalar s when s.kind() == Scalar.Kind.NULL -> "nothing";
            case Scalar s when s.kind() == Scalar.Kind.STRING -> quote(s.text());
            case Scalar s -> s.text();
        };
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
