package io.phigate.credentials;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ClientKey and ServerKey a SCRAM-SHA-256 login derives from the password, kept for the next login to the same
 * server (RFC 5802 section 5.1 lets a client keep them). Deriving them is PBKDF2 over {@code i} iterations (4096 on
 * PostgreSQL): about 400 KB of garbage and 8,192 HMACs per upstream login, every session alike while the password
 * (the gateway's static upstream login) and the server's salt stay the same; measured as half of what opening a
 * session allocated (bench/idle.sh, decision 0061). A rotated password or a new salt is another entry. The keys are
 * as good as the password to that server, which the gateway holds anyway; the password itself is kept only as a
 * SHA-256 digest inside the entry's name. At most {@link #CAPACITY} entries (an ephemeral session user's password
 * is used once: its entries only pass through).
 */
final class ScramKeys {
    static final int CAPACITY = 64;

    /** The two keys of one (preparation, password, salt, iterations). */
    record Keys(byte[] client, byte[] server) {
        @Override
        public String toString() {
            return "Keys[redacted]";
        }
    }

    private static final Map<String, Keys> KEPT = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Keys> eldest) {
            return size() > CAPACITY;
        }
    };

    private static final AtomicLong DERIVED = new AtomicLong();

    private ScramKeys() {
    }

    /**
     * The keys for {@code password} under the server's {@code salt} (base64, as sent) and {@code iterations}.
     * Throws IllegalArgumentException where {@code preparation} refuses the password, as the library does.
     */
    static Keys of(StringPreparation preparation, String password, String salt, int iterations) {
        String name = preparation.name() + ':' + salt + ':' + iterations + ':' + digest(password);
        synchronized (KEPT) {
            Keys kept = KEPT.get(name);
            if (kept != null) {
                return kept;
            }
        }
        DERIVED.incrementAndGet();
        byte[] salted = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256, preparation,
                password.toCharArray(), Base64.getDecoder().decode(salt), iterations);
        Keys derived = new Keys(ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, salted),
                ScramFunctions.serverKey(ScramMechanism.SCRAM_SHA_256, salted));
        synchronized (KEPT) {
            KEPT.put(name, derived);
        }
        return derived;
    }

    /** Keys derived so far rather than found kept (tests). */
    static long derivations() {
        return DERIVED.get();
    }

    private static String digest(String password) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                    .digest(password.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }
}
