package io.phigate.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts the PHI-bearing payloads of audit records at rest (bound parameters and recorded responses) with
 * AES-256-GCM. Every value names the key that sealed it, so keys rotate: new records use the current key, older
 * ones still open with the previous keys kept for reading. The column name is authenticated with the value, so a
 * ciphertext cannot be moved to another column; moving it to another record breaks that record's chain hash.
 * The chain covers ciphertext, so {@code audit verify} needs no key.
 */
public final class PayloadCipher {
    private static final String TEXT_PREFIX = "enc:v1:";
    private static final byte[] BLOB_MAGIC = "PGE1".getBytes(StandardCharsets.US_ASCII);
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final String currentId;
    private final Map<String, SecretKeySpec> keys;
    private final SecureRandom random = new SecureRandom();

    /** {@code keys} maps key ids to 32-byte keys; {@code currentId} is the one new values are sealed with. */
    public PayloadCipher(String currentId, Map<String, byte[]> keys) {
        if (!keys.containsKey(currentId)) {
            throw new IllegalArgumentException("no key for the current key id " + currentId);
        }
        Map<String, SecretKeySpec> k = new LinkedHashMap<>();
        keys.forEach((id, raw) -> {
            if (raw.length != 32) {
                throw new IllegalArgumentException("audit encryption key " + id + " must be 32 bytes, not " + raw.length);
            }
            if (!id.matches("[A-Za-z0-9._-]{1,32}")) {
                throw new IllegalArgumentException("audit encryption key id " + id + " must be 1-32 of A-Z a-z 0-9 . _ -");
            }
            k.put(id, new SecretKeySpec(raw, "AES"));
        });
        this.currentId = currentId;
        this.keys = Map.copyOf(k);
    }

    /** Reads a key as written by {@code audit datakey}: 32 bytes, base64, surrounding whitespace ignored. */
    public static byte[] decodeKey(String text) throws IOException {
        try {
            return Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IOException("an audit encryption key is 32 bytes in base64");
        }
    }

    public static String newKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    public static boolean isSealed(String value) {
        return value != null && value.startsWith(TEXT_PREFIX);
    }

    public String sealText(String plain, String column) {
        if (plain == null) {
            return null;
        }
        byte[] iv = new byte[IV_BYTES];
        random.nextBytes(iv);
        byte[] ct = crypt(Cipher.ENCRYPT_MODE, currentId, iv, plain.getBytes(StandardCharsets.UTF_8), column);
        return TEXT_PREFIX + currentId + ":" + Base64.getEncoder().encodeToString(iv) + ":"
                + Base64.getEncoder().encodeToString(ct);
    }

    /** Opens a value sealed by {@link #sealText}; throws {@link GeneralSecurityException} naming an unknown key. */
    public String openText(String sealed, String column) throws GeneralSecurityException {
        if (!isSealed(sealed)) {
            return sealed;
        }
        String[] parts = sealed.substring(TEXT_PREFIX.length()).split(":");
        if (parts.length != 3) {
            throw new GeneralSecurityException("malformed sealed value");
        }
        try {
            byte[] plain = crypt(Cipher.DECRYPT_MODE, parts[0], Base64.getDecoder().decode(parts[1]),
                    Base64.getDecoder().decode(parts[2]), column);
            return new String(plain, StandardCharsets.UTF_8);
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new GeneralSecurityException(e.getMessage());
        }
    }

    /** A cipher from the configuration, reading its keys now. */
    public static PayloadCipher from(AuditConfig.Encryption e) throws IOException {
        Map<String, byte[]> keys = new LinkedHashMap<>();
        for (var previous : e.previous().entrySet()) {
            keys.put(previous.getKey(), decodeKey(previous.getValue().read()));
        }
        keys.put(e.keyId(), decodeKey(e.key().read()));
        try {
            return new PayloadCipher(e.keyId(), keys);
        } catch (IllegalArgumentException bad) {
            throw new IOException(bad.getMessage());
        }
    }

    public byte[] sealBytes(byte[] plain, String column) {
        if (plain == null) {
            return null;
        }
        byte[] iv = new byte[IV_BYTES];
        random.nextBytes(iv);
        byte[] ct = crypt(Cipher.ENCRYPT_MODE, currentId, iv, plain, column);
        byte[] id = currentId.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(BLOB_MAGIC.length + 1 + id.length + IV_BYTES + ct.length)
                .put(BLOB_MAGIC).put((byte) id.length).put(id).put(iv).put(ct).array();
    }

    public static boolean isSealed(byte[] value) {
        return value != null && value.length > BLOB_MAGIC.length
                && java.util.Arrays.equals(value, 0, BLOB_MAGIC.length, BLOB_MAGIC, 0, BLOB_MAGIC.length);
    }

    public byte[] openBytes(byte[] sealed, String column) throws GeneralSecurityException {
        if (!isSealed(sealed)) {
            return sealed;
        }
        try {
            return openSealedBytes(sealed, column);
        } catch (IllegalStateException | java.nio.BufferUnderflowException e) {
            throw new GeneralSecurityException(e.getMessage() == null ? "malformed sealed value" : e.getMessage());
        }
    }

    private byte[] openSealedBytes(byte[] sealed, String column) {
        ByteBuffer b = ByteBuffer.wrap(sealed, BLOB_MAGIC.length, sealed.length - BLOB_MAGIC.length);
        byte[] id = new byte[b.get() & 0xFF];
        b.get(id);
        byte[] iv = new byte[IV_BYTES];
        b.get(iv);
        byte[] ct = new byte[b.remaining()];
        b.get(ct);
        return crypt(Cipher.DECRYPT_MODE, new String(id, StandardCharsets.US_ASCII), iv, ct, column);
    }

    private byte[] crypt(int mode, String keyId, byte[] iv, byte[] input, String column) {
        SecretKeySpec key = keys.get(keyId);
        if (key == null) {
            throw new IllegalStateException("audit encryption key " + keyId + " is not configured");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(mode, key, new GCMParameterSpec(TAG_BITS, iv));
            c.updateAAD(("phigate-audit:" + column).getBytes(StandardCharsets.US_ASCII));
            return c.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("audit payload under key " + keyId + " does not open: "
                    + e.getClass().getSimpleName(), e);
        }
    }

    @Override
    public String toString() {
        return "PayloadCipher[current=" + currentId + ", keys=" + keys.keySet() + "]";
    }
}
