package io.phigate.identity;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What an {@link Identity} keeps of a verified token's claims. */
final class IdentityClaims {
    private IdentityClaims() {
    }

    /** SHA-256 of the payload bytes exactly as the issuer signed them, so a record can be matched to a token later. */
    static String digest(SignedJWT jwt) {
        try {
            byte[] payload = jwt.getParsedParts()[1].decode();
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /**
     * The claims policy rules match on, flattened to strings. Kubernetes projected service-account tokens nest
     * them under {@code kubernetes.io}; see the TokenRequest API's {@code BoundObjectReference}.
     */
    static Map<String, String> attributes(JWTClaimsSet claims) {
        Map<String, String> out = new TreeMap<>();
        Map<String, Object> k8s = object(claims.getClaim("kubernetes.io"));
        if (k8s != null) {
            put(out, "kubernetes.namespace", k8s.get("namespace"));
            Map<String, Object> sa = object(k8s.get("serviceaccount"));
            if (sa != null) {
                put(out, "kubernetes.serviceaccount", sa.get("name"));
                put(out, "kubernetes.serviceaccount_uid", sa.get("uid"));
            }
            Map<String, Object> pod = object(k8s.get("pod"));
            if (pod != null) {
                put(out, "kubernetes.pod", pod.get("name"));
                put(out, "kubernetes.pod_uid", pod.get("uid"));
            }
        }
        Object groups = claims.getClaim("groups");
        if (groups instanceof String g) {
            groups = List.of(g);
        }
        if (groups instanceof List<?> list) {
            List<String> names = new ArrayList<>();
            for (Object g : list) {
                // A group name with a comma would read as two groups once joined, which could grant a
                // membership the issuer never stated; such names are left out.
                if (g instanceof String s && !s.isEmpty() && s.indexOf(',') < 0) {
                    names.add(s);
                }
            }
            if (!names.isEmpty()) {
                out.put("groups", String.join(",", names));
            }
        }
        put(out, "azp", claims.getClaim("azp"));
        put(out, "client_id", claims.getClaim("client_id"));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Refuses an identity string holding a control character: C0 and C1 controls (newline, carriage return, NEL
     * U+0085 among them), DEL, and the Unicode line and paragraph separators. Subjects and claims are written into
     * audit records, logs, approval notices and console pages, where such a character could forge a line or
     * field. The value itself is not repeated in the message.
     */
    static void requirePrintable(String claim, String value) throws TokenRejectedException {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            int type = Character.getType(c);
            if (type == Character.CONTROL || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR) {
                throw new TokenRejectedException("token claim " + claim + " contains a control character (U+"
                        + String.format("%04X", (int) c) + ")");
            }
        }
    }

    private static void put(Map<String, String> out, String key, Object value) {
        if (value instanceof String s && !s.isEmpty()) {
            out.put(key, s);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        return value instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }
}
