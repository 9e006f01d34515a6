package io.phigate.mask;

import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA-256 under one key, one initialised {@link Mac} per thread: a Mac is not thread-safe, and keying one
 * per value would cost more than the hash. Sessions run on long-lived virtual threads, so the per-thread
 * instance is made once per session thread.
 */
final class KeyedHash {
    private final ThreadLocal<Mac> macs;

    KeyedHash(byte[] key) {
        SecretKeySpec spec = new SecretKeySpec(key, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(spec);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    /** This thread's Mac, reset; {@code doFinal} resets it again for the next use. */
    Mac mac() {
        Mac mac = macs.get();
        mac.reset();
        return mac;
    }

    static void updateLong(Mac mac, long x) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            mac.update((byte) (x >>> shift));
        }
    }

    static long firstLong(byte[] digest) {
        long x = 0;
        for (int i = 0; i < 8; i++) {
            x = (x << 8) | (digest[i] & 0xff);
        }
        return x;
    }
}
