package io.phigate.audit;

import java.util.List;

/**
 * A statement's parameters as a JSON array of strings and nulls, written by hand: this runs for every statement with
 * parameters, on the session's thread, where Jackson's generator, serializer provider and buffers cost more than the
 * text they produce. The output is character for character what Jackson's default {@code ObjectMapper} writes for a
 * {@code List<String>} (a test holds it to that), so a record reads the same whichever wrote it.
 */
final class JsonArray {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private JsonArray() {
    }

    static String ofStrings(List<String> values) {
        int size = 2;
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            size += (v == null ? 4 : v.length() + 2) + 1;
        }
        StringBuilder out = new StringBuilder(size);
        out.append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            String v = values.get(i);
            if (v == null) {
                out.append("null");
            } else {
                quote(out, v);
            }
        }
        return out.append(']').toString();
    }

    /**
     * A record's detail object when every value is a string, a list of strings or a map of strings to strings (a
     * statement request's justification, tables and PHI columns), written as Jackson writes the same {@code Map}: in
     * its iteration order, no spaces, null values as {@code null}. Null when some value is of another kind, so the
     * caller renders it with Jackson. In an analysed session every statement's request record carries its tables:
     * Jackson's generator cost 5 µs per record there, cold, on the session's thread (decision 0083).
     */
    static String ofStringFields(java.util.Map<String, Object> fields) {
        StringBuilder out = new StringBuilder(64);
        out.append('{');
        boolean first = true;
        for (java.util.Map.Entry<String, Object> e : fields.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            quote(out, e.getKey());
            out.append(':');
            if (!value(out, e.getValue())) {
                return null;
            }
        }
        return out.append('}').toString();
    }

    private static boolean value(StringBuilder out, Object v) {
        switch (v) {
            case null -> out.append("null");
            case String s -> quote(out, s);
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    Object item = list.get(i);
                    if (item != null && !(item instanceof String)) {
                        return false;
                    }
                    value(out, item);
                }
                out.append(']');
            }
            case java.util.Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (java.util.Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getKey() instanceof String key) || e.getValue() != null && !(e.getValue() instanceof String)) {
                        return false;
                    }
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    quote(out, key);
                    out.append(':');
                    value(out, e.getValue());
                }
                out.append('}');
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Escapes as Jackson does by default: the two-character forms it knows, {@code \\u00XX} for other controls. */
    private static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
