package io.phigate.approval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What an approval is bound to: SHA-256 (hex) over the statement's text, with surrounding whitespace and trailing
 * semicolons removed, and its parameters, each length-prefixed (a NULL parameter is length -1), so that no two
 * different (text, parameters) pairs share an encoding.
 */
public final class StatementHash {
    private StatementHash() {
    }

    public static String of(String text, List<String> parameters) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            put(d, normalise(text));
            List<String> params = parameters == null ? List.of() : parameters;
            d.update(int32(params.size()));
            for (String p : params) {
                put(d, p);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String normalise(String text) {
        if (text == null) {
            return null;
        }
        String t = text.strip();
        while (t.endsWith(";")) {
            t = t.substring(0, t.length() - 1).stripTrailing();
        }
        return t;
    }

    private static void put(MessageDigest d, String s) {
        if (s == null) {
            d.update(int32(-1));
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.update(int32(b.length));
        d.update(b);
    }

    private static byte[] int32(int v) {
        return new byte[]{(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
}
