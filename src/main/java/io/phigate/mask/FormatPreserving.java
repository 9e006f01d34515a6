package io.phigate.mask;

import io.phigate.mask.WireValues.Kind;
import java.nio.charset.StandardCharsets;
import org.bouncycastle.crypto.fpe.FPEFF1Engine;
import org.bouncycastle.crypto.params.FPEParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * {@code fpe}: NIST SP 800-38G FF1 (Bouncy Castle's engine, AES-256 key from {@link MaskingKeys}), reversible
 * by whoever holds the key, keeping the value's shape for downstream validators.
 * <ul>
 *   <li>Text: the ASCII digits are encrypted together (radix 10) and put back in their places; every other
 *       character stays. FF1 needs a domain of at least a million, so a value with fewer than 6 digits is
 *       redacted whole. Upper-case and lower-case ASCII letters are each encrypted as one radix-26 string when
 *       there are at least 5 of them (26^5 &gt; 10^6); shorter letter runs (prefixes such as {@code MRN}) stay.</li>
 *   <li>Integers: the decimal digits of the absolute value, same digit count and sign. A ciphertext with a
 *       leading zero or above the type's maximum is encrypted again (cycle walking), which keeps the mapping a
 *       permutation of the n-digit values that fit, so it stays reversible. Fewer than 6 digits: NULL.</li>
 *   <li>Other types: NULL.</li>
 * </ul>
 * The tweak is the PHI type's label, so the same digits under two types encrypt differently.
 */
final class FormatPreserving extends ValueOperator {
    static final int MIN_DIGITS = 6, MIN_LETTERS = 5;

    private final ThreadLocal<Engines> engines;

    /** FF1 engines are stateful after init; one set per thread, initialised once. */
    private record Engines(FPEFF1Engine digits, FPEFF1Engine upper, FPEFF1Engine lower) {
    }

    FormatPreserving(OperatorSpec spec, PhiType type, MaskingKeys keys) {
        super(spec, type);
        KeyParameter key = new KeyParameter(keys.ff1Key());
        String label = type.policyName();
        this.engines = ThreadLocal.withInitial(() -> new Engines(
                engine(key, 10, label + "/digits"), engine(key, 26, label + "/upper"), engine(key, 26, label + "/lower")));
    }

    private static FPEFF1Engine engine(KeyParameter key, int radix, String tweak) {
        FPEFF1Engine engine = new FPEFF1Engine();
        engine.init(true, new FPEParameters(key, radix, tweak.getBytes(StandardCharsets.US_ASCII)));
        return engine;
    }

    @Override
    byte[] mask(byte[] value, ValueType type, RowContext context) {
        Kind kind = WireValues.kind(type.oid());
        return switch (kind) {
            case TEXT -> text(value);
            case INTEGER -> integer(value, type);
            default -> null;
        };
    }

    private byte[] text(byte[] value) {
        int digits = 0, upper = 0, lower = 0;
        for (byte b : value) {
            if (b >= '0' && b <= '9') {
                digits++;
            } else if (b >= 'A' && b <= 'Z') {
                upper++;
            } else if (b >= 'a' && b <= 'z') {
                lower++;
            }
        }
        if (digits < MIN_DIGITS) {
            throw WireValues.unreadable();
        }
        Engines e = engines.get();
        byte[] out = value.clone();
        encryptClass(e.digits(), out, digits, '0', '9');
        if (upper >= MIN_LETTERS) {
            encryptClass(e.upper(), out, upper, 'A', 'Z');
        }
        if (lower >= MIN_LETTERS) {
            encryptClass(e.lower(), out, lower, 'a', 'z');
        }
        return out;
    }

    /** Encrypts the characters in [first, last] of {@code out} as one FF1 string, in place. */
    private static void encryptClass(FPEFF1Engine engine, byte[] out, int count, char first, char last) {
        byte[] symbols = new byte[count];
        int n = 0;
        for (byte b : out) {
            if (b >= first && b <= last) {
                symbols[n++] = (byte) (b - first);
            }
        }
        byte[] cipher = new byte[count];
        engine.processBlock(symbols, 0, count, cipher, 0);
        n = 0;
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= first && out[i] <= last) {
                out[i] = (byte) (cipher[n++] + first);
            }
        }
    }

    private byte[] integer(byte[] value, ValueType type) {
        long x = WireValues.readInteger(value, type);
        if (x == Long.MIN_VALUE) {
            return null;
        }
        long abs = Math.abs(x);
        int n = WireValues.digitCount(abs);
        if (n < MIN_DIGITS) {
            return null;
        }
        byte[] symbols = new byte[n];
        for (int i = n - 1; i >= 0; i--) {
            symbols[i] = (byte) (abs % 10);
            abs /= 10;
        }
        FPEFF1Engine engine = engines.get().digits();
        long max = WireValues.maxInteger(type.oid());
        byte[] cipher = new byte[n];
        long result;
        do {
            engine.processBlock(symbols, 0, n, cipher, 0);
            byte[] swap = symbols;
            symbols = cipher;
            cipher = swap;
            result = unsignedValue(symbols);
        } while (symbols[0] == 0 || Long.compareUnsigned(result, max) > 0);
        return WireValues.writeInteger(x < 0 ? -result : result, type);
    }

    /** Up to 19 decimal digits fit an unsigned long (10^19 - 1 &lt; 2^64). */
    private static long unsignedValue(byte[] digits) {
        long v = 0;
        for (byte d : digits) {
            v = v * 10 + d;
        }
        return v;
    }
}
