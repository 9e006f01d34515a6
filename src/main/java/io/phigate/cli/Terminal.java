package io.phigate.cli;

/**
 * Makes recorded text safe to print. Statement text and parameters come from agents: an escape sequence in
 * them must not repaint or retitle the auditor's terminal, so control characters are shown as a backslash, u and four hex digits.
 */
final class Terminal {
    private Terminal() {
    }

    /** Control characters other than newline and tab escaped. */
    static String safe(String text) {
        if (text == null) {
            return "";
        }
        var b = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if ((Character.isISOControl(c) && c != '\n' && c != '\t') || c == 0x2028 || c == 0x2029
                    || Character.getType(c) == Character.FORMAT) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    /** On one line (runs of whitespace become one space), cut to {@code max} characters with an ellipsis. */
    static String oneLine(String text, int max) {
        String s = safe(text).replaceAll("\\s+", " ").strip();
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
