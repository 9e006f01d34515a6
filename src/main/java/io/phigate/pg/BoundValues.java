package io.phigate.pg;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntFunction;

/** Bound values (a Bind's parameters, a FunctionCall's arguments) as the audit store keeps them. Pure. */
final class BoundValues {
    private BoundValues() {
    }

    /**
     * Text as sent, binary as \x hex, NULL as null; approvals are bound to these. A text value starting with a
     * backslash gets one more, so that no text value reads as a binary one: the text {@code \x45} and the byte 0x45
     * are different values to the server (decision 0065).
     */
    static List<String> render(byte[][] values, IntFunction<Short> format) {
        if (values.length == 0) {
            return List.of();
        }
        List<String> out = new ArrayList<>(values.length);
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i];
            if (v == null) {
                out.add(null);
            } else if (format.apply(i) == 0) {
                String text = new String(v, StandardCharsets.UTF_8);
                out.add(text.startsWith("\\") ? "\\" + text : text);
            } else {
                out.add("\\x" + hex.formatHex(v));
            }
        }
        return Collections.unmodifiableList(out);
    }
}
