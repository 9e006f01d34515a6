package io.phigate.session;

/**
 * Reads an encoding name as PostgreSQL does ({@code pg_char_to_encoding}: case and every character that is not a
 * letter or digit are ignored, so {@code 'utf-8'}, {@code UTF8}, {@code "Unicode"} and {@code u_t_f_8} are all one
 * name). Only UTF8 is of interest: an analysed session's statements are read as UTF-8, so the server must read them
 * so too.
 */
public final class ClientEncoding {
    /** The setting's name, which PostgreSQL also reports in ParameterStatus. */
    public static final String SETTING = "client_encoding";
    /** What the gateway sends upstream for an analysed session that names no encoding. */
    public static final String UTF8 = "UTF8";

    private ClientEncoding() {
    }

    /** True for every spelling PostgreSQL's encoding name table maps to UTF8 ({@code utf8} and {@code unicode}). */
    public static boolean isUtf8(String name) {
        if (name == null) {
            return false;
        }
        StringBuilder clean = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x80 && Character.isLetterOrDigit(c)) {
                clean.append(Character.toLowerCase(c));
            }
        }
        String n = clean.toString();
        return n.equals("utf8") || n.equals("unicode");
    }
}
