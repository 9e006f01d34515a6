package io.phigate.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads YAML into {@link YamlNode}s in one streaming pass, noting the line of every key and value. Syntax
 * errors and duplicate keys become problems rather than exceptions so they are reported with the rest.
 */
final class YamlReader {
    private static final YAMLFactory FACTORY = YAMLFactory.builder().build();

    private final String yaml;
    private final JsonParser parser;
    private final Problems problems;

    private YamlReader(String yaml, JsonParser parser, Problems problems) {
        this.yaml = yaml;
        this.parser = parser;
        this.problems = problems;
    }

    /** Returns the document's root, or null when there is none worth validating (a problem says why). */
    static YamlNode read(String yaml, Problems problems) {
        try (JsonParser parser = FACTORY.createParser(yaml)) {
            YamlReader reader = new YamlReader(yaml, parser, problems);
            if (parser.nextToken() == null) {
                problems.add(1, "", "the file is empty");
                return null;
            }
            YamlNode root = reader.value("");
            if (parser.nextToken() != null) {
                problems.add(reader.line(), "", "only one YAML document is allowed");
            }
            return root;
        } catch (StreamReadException e) {
            problems.add(syntaxErrorLine(e), "", "YAML syntax error: " + summary(e.getOriginalMessage()));
            return null;
        } catch (IOException e) {
            problems.add(0, "", "cannot read YAML: " + e.getMessage());
            return null;
        }
    }

    /** Reads the value the parser is positioned on, and everything inside it. */
    private YamlNode value(String path) throws IOException {
        int line = line();
        JsonToken token = parser.currentToken();
        return switch (token) {
            case START_OBJECT -> mapping(path, line);
            case START_ARRAY -> sequence(path, line);
            case VALUE_STRING -> {
                if (isBlankPlainScalar()) {
                    yield new YamlNode.Scalar(null, YamlNode.Scalar.Kind.NULL, line);
                }
                if (sourceStartsWith('*')) {
                    // Jackson hands an alias over as its name; using "l" where *l was meant would mislead.
                    problems.add(line, path, "YAML aliases (*" + parser.getText() + ") are not supported; write the value out");
                    yield new YamlNode.Scalar(null, YamlNode.Scalar.Kind.NULL, line);
                }
                yield new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Kind.STRING, line);
            }
            case VALUE_NUMBER_INT -> new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Kind.INTEGER, line);
            case VALUE_NUMBER_FLOAT -> new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Kind.FLOAT, line);
            case VALUE_TRUE, VALUE_FALSE -> new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Kind.BOOLEAN, line);
            case VALUE_NULL -> new YamlNode.Scalar(null, YamlNode.Scalar.Kind.NULL, line);
            // Anything else (an embedded binary, say) has no place in this config; show it as text.
            default -> new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Kind.STRING, line);
        };
    }

    private YamlNode mapping(String path, int line) throws IOException {
        Map<String, YamlNode.Entry> entries = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            int keyLine = line();
            parser.nextToken();
            String childPath = path.isEmpty() ? key : path + "." + key;
            YamlNode child = value(childPath);
            YamlNode.Entry previous = entries.get(key);
            if (previous != null) {
                // YAML says keys are unique; silently keeping the last one would hide an operator's mistake.
                problems.add(keyLine, childPath, "duplicate key (first set on line " + previous.keyLine() + ")");
            } else {
                entries.put(key, new YamlNode.Entry(key, keyLine, child));
            }
        }
        return new YamlNode.Mapping(Collections.unmodifiableMap(entries), line);
    }

    private YamlNode sequence(String path, int line) throws IOException {
        List<YamlNode> items = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            items.add(value(path + "[" + items.size() + "]"));
        }
        return new YamlNode.Sequence(List.copyOf(items), line);
    }

    /**
     * YAML reads {@code http:} with nothing after it as null, but Jackson reports an empty string. Only a
     * quoted {@code ""} is an empty string, so look at the source where the scalar starts.
     */
    private boolean isBlankPlainScalar() throws IOException {
        if (!parser.getText().isEmpty()) {
            return false;
        }
        return !sourceStartsWith('"') && !sourceStartsWith('\'');
    }

    private boolean sourceStartsWith(char c) {
        JsonLocation where = parser.currentTokenLocation();
        long offset = where == null ? -1 : where.getCharOffset();
        return offset >= 0 && offset < yaml.length() && yaml.charAt((int) offset) == c;
    }

    /** SnakeYAML's problem mark is where the fault is; Jackson's location is sometimes the enclosing context. */
    private static int syntaxErrorLine(StreamReadException e) {
        if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
            return marked.getProblemMark().getLine() + 1;
        }
        JsonLocation where = e.getLocation();
        return where == null ? 0 : where.getLineNr();
    }

    private int line() {
        JsonLocation where = parser.currentTokenLocation();
        return where == null ? 0 : where.getLineNr();
    }

    /** SnakeYAML's messages span several lines with a caret drawing; the first line and the problem suffice. */
    private static String summary(String message) {
        if (message == null) {
            return "unreadable YAML";
        }
        if (message.startsWith("Expected a field name")) {
            return "keys must be plain strings, not lists or mappings";
        }
        List<String> kept = new ArrayList<>();
        for (String part : message.split("\\R")) {
            String trimmed = part.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("in ") || trimmed.startsWith("^") || part.startsWith("    ")) {
                continue;
            }
            kept.add(trimmed);
        }
        return kept.isEmpty() ? message.strip() : String.join(" ", kept);
    }
}
