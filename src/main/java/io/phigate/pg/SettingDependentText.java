package io.phigate.pg;

import java.util.function.IntFunction;

/**
 * Whether the server could read a statement's text differently under another {@code client_encoding} or
 * {@code standard_conforming_strings} than the gateway reads it (UTF-8, standard strings). Every client encoding the
 * server accepts reads bytes below 0x80 as ASCII (the second byte of an SJIS, BIG5, GBK, UHC or GB18030 character
 * can be 0x5C, but only after a first byte of 0x80 or more), and standard_conforming_strings changes only what a
 * backslash means. So a text with neither a backslash nor a character beyond ASCII reads the same under every value
 * of both; any other text may not. The server decodes the names in Parse, Bind, Describe, Execute and Close, and
 * text-format values, by client_encoding too (but never parses them, so a backslash there is only a character):
 * one with a byte of 0x80 or more may stand for other characters after the encoding changed (decision 0063). Pure.
 */
final class SettingDependentText {
    private SettingDependentText() {
    }

    static boolean of(String text) {
        if (text == null) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c >= 0x80) {
                return true;
            }
        }
        return false;
    }

    /** True when a name (as the gateway decoded it; a malformed byte became U+FFFD) has a character beyond ASCII. */
    static boolean nonAscii(String name) {
        return name != null && !name.chars().allMatch(c -> c < 0x80);
    }

    /** True when a text-format value (format 0) among {@code values} has a byte of 0x80 or more. */
    static boolean nonAsciiText(byte[][] values, IntFunction<Short> format) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null && format.apply(i) == 0 && nonAscii(values[i])) {
                return true;
            }
        }
        return false;
    }

    /** True when a text-format value among {@code values} is not well-formed UTF-8. */
    static boolean malformedText(byte[][] values, IntFunction<Short> format) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null && format.apply(i) == 0 && !ClientText.wellFormed(values[i])) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code value} has a byte of 0x80 or more. */
    static boolean nonAscii(byte[] value) {
        for (byte b : value) {
            if (b < 0) {
                return true;
            }
        }
        return false;
    }
}
