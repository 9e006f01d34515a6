package io.phigate.sql;

import java.nio.charset.StandardCharsets;

/**
 * Identifiers as PostgreSQL keeps them: the lexer cuts a name longer than 63 bytes (NAMEDATALEN - 1) to its first 63,
 * at a character boundary, in DDL and in every query alike. A name written longer anywhere else (the policy file)
 * names the relation or column the server keeps under the cut name (decision 0065).
 */
public final class Identifiers {
    /** NAMEDATALEN - 1. */
    public static final int MAX_BYTES = 63;

    private Identifiers() {
    }

    /** {@code name} cut to at most 63 UTF-8 bytes, whole characters only, as the server's lexer cuts it. */
    public static String cut(String name) {
        if (name.length() * 3 <= MAX_BYTES || name.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES) {
            return name;
        }
        int bytes = 0;
        int end = 0;
        while (end < name.length()) {
            int cp = name.codePointAt(end);
            int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + size > MAX_BYTES) {
                break;
            }
            bytes += size;
            end += Character.charCount(cp);
        }
        return name.substring(0, end);
    }

    /**
     * A dotted name or pattern ({@code schema.table}, {@code *.table}) with each part that holds no {@code *} cut as
     * {@link #cut} does; a pattern part is matched against names already cut.
     */
    public static String cutEach(String dotted) {
        String[] parts = dotted.split("\\.", -1);
        for (int i = 0; i < parts.length; i++) {
            parts[i] = parts[i].contains("*") ? parts[i] : cut(parts[i]);
        }
        return String.join(".", parts);
    }
}
