package io.phigate.console;

import io.phigate.config.ConsoleConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals a console sign-in into its cookie and opens it again: AES-256-GCM, so the browser holds the sign-in but can
 * neither read it (it names the person and their claims) nor change a bit of it. Every replica configured with the
 * same {@code console.cookie_keys} opens what any of them sealed, and so does the same replica after a restart.
 *
 * <p>Cookie: {@code v1.KEYID.BASE64URL(nonce || ciphertext || tag)}, with {@code v1.KEYID} as associated data. The
 * first key seals; every listed key opens, so a key is rotated by putting a new one first and dropping the old one
 * once the session TTL has passed. An AES key is derived from each configured secret (HMAC-SHA256 under a fixed
 * label), so the secret may be any text of at least 32 characters ({@code openssl rand -base64 32}).
 */
final class CookieSeal {
    static final int MIN_SECRET_CHARS = 32;
    private static final String VERSION = "v1";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final byte[] LABEL = "phigate console cookie v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The key that seals new cookies, by id; every key opens. */
    private final String sealingId;
    private final Map<String, SecretKey> keys;

    private CookieSeal(String sealingId, Map<String, SecretKey> keys) {
        this.sealingId = sealingId;
        this.keys = Map.copyOf(keys);
    }

    /** Reads the configured secrets now; throws, naming the key (never its value), when one cannot be used. */
    static CookieSeal of(List<ConsoleConfig.CookieKey> configured) throws IOException {
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        for (ConsoleConfig.CookieKey k : configured) {
            String secret = k.secret().read();
            if (secret.length() < MIN_SECRET_CHARS) {
                throw new IOException("console cookie key " + k.id() + " (" + k.secret() + ") is shorter than "
                        + MIN_SECRET_CHARS + " characters; make one with: openssl rand -base64 32");
            }
            keys.put(k.id(), derive(secret.getBytes(StandardCharsets.UTF_8)));
        }
        return new CookieSeal(configured.getFirst().id(), keys);
    }

    /** A key of this process only: sign-ins end with the process and work on no other replica. */
    static CookieSeal ephemeral() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return new CookieSeal("process", Map.of("process", derive(secret)));
    }

    String seal(byte[] plaintext) {
        try {
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, keys.get(sealingId), new GCMParameterSpec(TAG_BITS, nonce));
            gcm.updateAAD(header(sealingId));
            byte[] sealed = gcm.doFinal(plaintext);
            byte[] out = ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).array();
            return VERSION + "." + sealingId + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /** The plaintext, or null when the cookie is malformed, names a key not configured, or fails authentication. */
    byte[] open(String cookie) {
        if (cookie == null) {
            return null;
        }
        String[] parts = cookie.split("\\.", -1);
        if (parts.length != 3 || !VERSION.equals(parts[0])) {
            return null;
        }
        SecretKey key = keys.get(parts[1]);
        if (key == null) {
            return null;
        }
        try {
            byte[] raw = Base64.getUrlDecoder().decode(parts[2]);
            if (raw.length < NONCE_BYTES + TAG_BITS / 8) {
                return null;
            }
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 0, NONCE_BYTES));
            gcm.updateAAD(header(parts[1]));
            return gcm.doFinal(raw, NONCE_BYTES, raw.length - NONCE_BYTES);
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return null; // tampered, truncated or sealed under another key with the same id
        }
    }

    private static byte[] header(String keyId) {
        return (VERSION + "." + keyId).getBytes(StandardCharsets.US_ASCII);
    }

    private static SecretKey derive(byte[] secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return new SecretKeySpec(mac.doFinal(LABEL), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
