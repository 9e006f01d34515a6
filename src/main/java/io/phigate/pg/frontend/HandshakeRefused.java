package io.phigate.pg.frontend;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import java.util.function.Function;

/** The handshake ends without a session; the client is told why with {@code sqlState}. */
public final class HandshakeRefused extends Exception {
    private final String sqlState;
    private final String upstream;
    private final transient String presentedToken;

    public HandshakeRefused(String sqlState, String message, String upstream) {
        this(sqlState, message, upstream, null);
    }

    /** A refused token; kept only so the refusal can name the claimed issuer and subject, never printed. */
    public HandshakeRefused(String sqlState, String message, String upstream, String presentedToken) {
        super(message);
        this.sqlState = sqlState;
        this.upstream = upstream;
        this.presentedToken = presentedToken;
    }

    public String presentedToken() {
        return presentedToken;
    }

    /** The issuer the refused token claimed, unverified, so a failed attempt names who it claimed to be; or null. */
    public String claimedIssuer() {
        return claim(JWTClaimsSet::getIssuer);
    }

    /** The subject the refused token claimed, unverified; or null. */
    public String claimedSubject() {
        return claim(JWTClaimsSet::getSubject);
    }

    private String claim(Function<JWTClaimsSet, String> which) {
        if (presentedToken == null) {
            return null;
        }
        try {
            return recordable(which.apply(JWTParser.parse(presentedToken).getJWTClaimsSet()));
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * An unverified claim as the refusal record keeps it: at most 256 characters, control and line-separator
     * characters written as {@code \\uXXXX}, so a forged subject cannot break a log line or pose as two records.
     */
    private static String recordable(String s) {
        if (s == null) {
            return null;
        }
        String cut = s.length() <= 256 ? s : s.substring(0, 256);
        StringBuilder out = new StringBuilder(cut.length());
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    public String sqlState() {
        return sqlState;
    }

    public String upstream() {
        return upstream;
    }
}
