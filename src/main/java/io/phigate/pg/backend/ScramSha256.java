package io.phigate.pg.backend;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel binding, and an empty
 * user name in the exchange because the server takes the user from the startup message. Whatever the server
 * sends, failures are {@link GeneralSecurityException}s only, which the caller maps to a refused connection.
 */
final class ScramSha256 {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] password;
    private final String clientNonce;
    private final String clientFirstBare;
    private String authMessage;
    private byte[] saltedPassword;

    ScramSha256(String password) {
        this(password, randomNonce());
    }

    ScramSha256(String password, String clientNonce) {
        this("", password, clientNonce);
    }

    /**
     * With a user name in the exchange. PostgreSQL ignores it, so the gateway always passes ""; a non-empty name
     * exists so the RFC 7677 test vector, which names user "user", can be checked.
     */
    ScramSha256(String user, String password, String clientNonce) {
        // RFC 4013 SASLprep is not applied; PostgreSQL falls back to the raw bytes for passwords it cannot
        // normalise, and gateway-held passwords are generated ASCII in practice.
        this.password = password.getBytes(StandardCharsets.UTF_8);
        this.clientNonce = clientNonce;
        // RFC 5802 saslname: ',' and '=' are escaped so the name cannot forge attributes.
        this.clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
    }

    String clientFirstMessage() {
        return "n,," + clientFirstBare;
    }

    /** Answers the server-first-message with the client-final-message. */
    String clientFinalMessage(String serverFirst) throws GeneralSecurityException {
        String nonce = attribute(serverFirst, 'r');
        byte[] salt = base64(attribute(serverFirst, 's'), "salt");
        int iterations;
        try {
            iterations = Integer.parseInt(attribute(serverFirst, 'i'));
        } catch (NumberFormatException e) {
            throw new GeneralSecurityException("SCRAM iteration count is not a number");
        }
        if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
            throw new GeneralSecurityException("SCRAM server nonce does not extend the client nonce");
        }
        if (iterations < 1 || iterations > 10_000_000) {
            throw new GeneralSecurityException("SCRAM iteration count " + iterations + " out of range");
        }
        if (password.length == 0) {
            // HMAC refuses an empty key with IllegalArgumentException; PostgreSQL never accepts one anyway.
            throw new GeneralSecurityException("SCRAM needs a non-empty password");
        }
        saltedPassword = hi(password, salt, iterations);
        String clientFinalWithoutProof = "c=biws,r=" + nonce;
        authMessage = clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof;
        byte[] clientKey = hmac(saltedPassword, "Client Key");
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
        byte[] signature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        return clientFinalWithoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    /** Checks the server's signature, proving the server knew the password too. */
    void verifyServerFinal(String serverFinal) throws GeneralSecurityException {
        if (serverFinal.startsWith("e=")) {
            throw new GeneralSecurityException("SCRAM server error: " + serverFinal.substring(2));
        }
        if (saltedPassword == null) {
            throw new GeneralSecurityException("SCRAM server-final-message before the server-first-message");
        }
        byte[] expected = hmac(hmac(saltedPassword, "Server Key"), authMessage);
        byte[] actual = base64(attribute(serverFinal, 'v'), "server signature");
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new GeneralSecurityException("SCRAM server signature does not match");
        }
    }

    private static String attribute(String message, char name) throws GeneralSecurityException {
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
                return part.substring(2);
            }
        }
        throw new GeneralSecurityException("SCRAM message lacks attribute " + name);
    }

    private static byte[] base64(String value, String what) throws GeneralSecurityException {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("SCRAM " + what + " is not valid base64");
        }
    }

    private static byte[] hi(byte[] password, byte[] salt, int iterations) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(password, "HmacSHA256"));
        mac.update(salt);
        byte[] u = mac.doFinal(new byte[]{0, 0, 0, 1});
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    private static byte[] hmac(byte[] key, String data) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    private static String randomNonce() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }
}
