package io.phigate.mask;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys the masking operators use, each derived from one master secret so that a deployment manages one
 * secret, and so that a token key leaking says nothing about the FF1 key (distinct HMAC labels). Rotating the
 * master changes every token, ciphertext and date shift, which is the point of rotating it.
 *
 * @param tokenKey HMAC-SHA-256 key of the {@code token} operator
 * @param ff1Key   AES-256 key of the {@code fpe} operator
 * @param shiftKey HMAC-SHA-256 key that picks a {@code date_shift} offset
 */
public record MaskingKeys(byte[] tokenKey, byte[] ff1Key, byte[] shiftKey) {
    /** Shorter masters than this would make the derived 256-bit keys weaker than they look. */
    public static final int MIN_MASTER_BYTES = 32;

    public MaskingKeys {
        tokenKey = checked(tokenKey, "tokenKey");
        ff1Key = checked(ff1Key, "ff1Key");
        shiftKey = checked(shiftKey, "shiftKey");
    }

    /** Derives the three keys as HMAC-SHA-256(master, label) with a distinct, versioned label each. */
    public static MaskingKeys derive(byte[] master) {
        if (master == null || master.length < MIN_MASTER_BYTES) {
            throw new IllegalArgumentException("masking master secret must be at least " + MIN_MASTER_BYTES + " bytes");
        }
        return new MaskingKeys(
                hmac(master, "phigate mask token v1"),
                hmac(master, "phigate mask ff1 v1"),
                hmac(master, "phigate mask date-shift v1"));
    }

    @Override
    public byte[] tokenKey() {
        return tokenKey.clone();
    }

    @Override
    public byte[] ff1Key() {
        return ff1Key.clone();
    }

    @Override
    public byte[] shiftKey() {
        return shiftKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MaskingKeys k && Arrays.equals(tokenKey, k.tokenKey) && Arrays.equals(ff1Key, k.ff1Key)
                && Arrays.equals(shiftKey, k.shiftKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokenKey);
    }

    @Override
    public String toString() {
        return "MaskingKeys[redacted]";
    }

    private static byte[] checked(byte[] key, String name) {
        if (key == null || key.length != 32) {
            throw new IllegalArgumentException(name + " must be 32 bytes");
        }
        return key.clone();
    }

    static byte[] hmac(byte[] key, String label) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(label.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
