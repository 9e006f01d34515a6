package io.phigate.pg;

/**
 * Whether the server could read a statement's text differently under another {@code client_encoding} or
 * {@code standard_conforming_strings} than the gateway reads it (UTF-8, standard strings). Every client encoding the
 * server accepts reads bytes below 0x80 as ASCII (the second byte of an SJIS, BIG5, GBK, UHC or GB18030 character
 * can be 0x5C, but only after a first byte of 0x80 or more), and standard_conforming_strings changes only what a
 * backslash means. So a text with neither a backslash nor a character beyond ASCII reads the same under every value
 * of both; any other text may not. Pure.
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
}
