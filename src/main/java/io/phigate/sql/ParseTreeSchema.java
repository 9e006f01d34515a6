package io.phigate.sql;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * libpg_query's {@code pg_query.proto}, read into the tables {@link ParseResultDecoder} needs: per message, each
 * field number's JSON name (the proto's {@code json_name}, the names libpg_query's JSON output uses), kind, and
 * message or enum type; per enum, each number's name (the strings the JSON output writes).
 *
 * <p>The schema is the library's own file, bundled as a resource rather than turned into Java source: the tables
 * cannot drift from it, and {@code ParseResultDecoderTest} compares it byte for byte with the one the installed
 * {@code libpg-query-dev} ships, so a library upgrade fails the build until the new file is copied in. The
 * library's file name pins its version ({@link PgGrammar}'s {@code libpg_query.so.1504.0}). The parser accepts
 * only the shapes this file uses (messages, enums, one level of {@code oneof}, scalar, enum and message fields)
 * and fails on anything else, so a new construct in a newer schema cannot be skipped quietly.
 */
final class ParseTreeSchema {

    static final String RESOURCE = "pg_query.proto";

    /** How a field's value is encoded and what it becomes in the tree. */
    enum Kind { INT32, UINT32, INT64, UINT64, BOOL, STRING, DOUBLE, ENUM, MESSAGE }

    /** One message: its fields indexed by field number (null where the number is unused). */
    static final class Message {
        final String name;
        String[] names = new String[0];
        Kind[] kinds = new Kind[0];
        boolean[] repeated = new boolean[0];
        Message[] messages = new Message[0];
        String[][] enums = new String[0][];
        /** Fields libpg_query's JSON output writes even when zero or empty, with the value it writes then. */
        String[] always = new String[0];
        com.fasterxml.jackson.databind.JsonNode[] alwaysValues = new com.fasterxml.jackson.databind.JsonNode[0];

        Message(String name) {
            this.name = name;
        }
    }

    private static final Pattern BLOCK = Pattern.compile("(message|enum)\\s+(\\w+)\\s*(\\{)?");
    private static final Pattern FIELD = Pattern.compile(
            "(repeated\\s+)?(\\w+)\\s+(\\w+)\\s*=\\s*(\\d+)\\s*(?:\\[json_name=\"(\\w+)\"])?\\s*;");
    private static final Pattern ENUM_VALUE = Pattern.compile("(\\w+)\\s*=\\s*(-?\\d+)\\s*;");
    private static final Pattern ONEOF = Pattern.compile("oneof\\s+\\w+\\s*\\{");
    private static final Map<String, Kind> SCALARS = Map.of("int32", Kind.INT32, "uint32", Kind.UINT32,
            "int64", Kind.INT64, "uint64", Kind.UINT64, "bool", Kind.BOOL, "string", Kind.STRING,
            "double", Kind.DOUBLE);

    private final Map<String, Message> messages;

    private ParseTreeSchema(Map<String, Message> messages) {
        this.messages = messages;
    }

    /** The schema bundled with the gateway. */
    static ParseTreeSchema bundled() {
        try (InputStream in = ParseTreeSchema.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the build");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Message message(String name) {
        Message m = messages.get(name);
        if (m == null) {
            throw new IllegalArgumentException("no message " + name + " in " + RESOURCE);
        }
        return m;
    }

    /** Every message name, in the schema's order. */
    List<String> messageNames() {
        return List.copyOf(messages.keySet());
    }

    record RawField(boolean repeated, String type, String name, int number, String jsonName) {
    }

    static ParseTreeSchema parse(String text) {
        String plain = text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", "");
        Map<String, List<RawField>> rawMessages = new LinkedHashMap<>();
        Map<String, Map<Integer, String>> rawEnums = new LinkedHashMap<>();
        String openKind = null;
        String open = null;
        boolean inOneof = false;
        boolean awaitingBrace = false;
        for (String line : plain.split("\n")) {
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("syntax ") || s.startsWith("package ")) {
                continue;
            }
            Matcher m;
            if (open == null && (m = BLOCK.matcher(s)).matches()) {
                openKind = m.group(1);
                open = m.group(2);
                awaitingBrace = m.group(3) == null;
                if (openKind.equals("message")) {
                    rawMessages.put(open, new ArrayList<>());
                } else {
                    rawEnums.put(open, new HashMap<>());
                }
            } else if (open != null && awaitingBrace && s.equals("{")) {
                awaitingBrace = false;
            } else if (open != null && s.equals("}")) {
                if (inOneof) {
                    inOneof = false;
                } else {
                    open = null;
                }
            } else if (open != null && openKind.equals("message") && !inOneof && ONEOF.matcher(s).matches()) {
                inOneof = true;
            } else if (open != null && openKind.equals("message") && (m = FIELD.matcher(s)).matches()) {
                String json = m.group(5) != null ? m.group(5) : lowerCamel(m.group(3));
                rawMessages.get(open).add(new RawField(m.group(1) != null, m.group(2), m.group(3),
                        Integer.parseInt(m.group(4)), json));
            } else if (open != null && openKind.equals("enum") && (m = ENUM_VALUE.matcher(s)).matches()) {
                rawEnums.get(open).putIfAbsent(Integer.parseInt(m.group(2)), m.group(1));
            } else {
                throw new IllegalArgumentException(RESOURCE + ": cannot read line: " + s);
            }
        }
        if (open != null) {
            throw new IllegalArgumentException(RESOURCE + ": " + open + " is not closed");
        }
        Map<String, String[]> enums = new HashMap<>();
        rawEnums.forEach((name, values) -> {
            int max = values.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
            String[] byNumber = new String[max + 1];
            values.forEach((n, v) -> {
                if (n >= 0) {
                    byNumber[n] = v;
                }
            });
            enums.put(name, byNumber);
        });
        Map<String, Message> messages = new LinkedHashMap<>();
        rawMessages.keySet().forEach(name -> messages.put(name, new Message(name)));
        rawMessages.forEach((name, fields) -> link(messages.get(name), fields, messages, enums));
        return new ParseTreeSchema(messages);
    }

    private static void link(Message m, List<RawField> fields, Map<String, Message> messages,
                             Map<String, String[]> enums) {
        int max = fields.stream().mapToInt(RawField::number).max().orElse(0);
        m.names = new String[max + 1];
        m.kinds = new Kind[max + 1];
        m.repeated = new boolean[max + 1];
        m.messages = new Message[max + 1];
        m.enums = new String[max + 1][];
        for (RawField f : fields) {
            int n = f.number();
            if (m.names[n] != null) {
                throw new IllegalArgumentException(RESOURCE + ": " + m.name + " uses field number " + n + " twice");
            }
            m.names[n] = f.jsonName();
            m.repeated[n] = f.repeated();
            Kind scalar = SCALARS.get(f.type());
            if (scalar != null) {
                m.kinds[n] = scalar;
            } else if (messages.containsKey(f.type())) {
                m.kinds[n] = Kind.MESSAGE;
                m.messages[n] = messages.get(f.type());
            } else if (enums.containsKey(f.type())) {
                m.kinds[n] = Kind.ENUM;
                m.enums[n] = enums.get(f.type());
            } else {
                throw new IllegalArgumentException(RESOURCE + ": " + m.name + "." + f.name() + " has unknown type "
                        + f.type());
            }
        }
    }

    /** protoc's default JSON name: {@code keyword_kind} becomes {@code keywordKind}. */
    static String lowerCamel(String name) {
        StringBuilder b = new StringBuilder(name.length());
        boolean upper = false;
        for (char c : name.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                b.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return b.toString();
    }
}
