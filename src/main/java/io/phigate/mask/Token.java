package io.phigate.mask;

import java.nio.charset.StandardCharsets;
import javax.crypto.Mac;

/**
 * {@code token}: HMAC-SHA-256(token key, type label, value kind, canonical value), so equal values give equal
 * tokens and joins and GROUP BY on token columns keep working, and nobody without the key can reverse or
 * confirm a guess. The canonical value does not depend on the transfer format (an int4 read as text or binary
 * hashes the same 8-byte integer; bpchar padding is dropped), so a client gets one token per value.
 * <ul>
 *   <li>text types: {@code ssn_} + 16 lower-case base32 characters (80 bits); json/jsonb: that as a JSON string;</li>
 *   <li>int2/int4/int8: a non-negative integer of the same type (15, 31, 63 bits: int2 tokens collide often);</li>
 *   <li>uuid: a version-8 UUID from the digest;</li>
 *   <li>other types: NULL.</li>
 * </ul>
 */
final class Token extends ValueOperator {
    private static final byte[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".getBytes(StandardCharsets.US_ASCII);
    static final int TOKEN_CHARS = 16;

    private final byte[] label;
    private final byte[] prefix;
    private final KeyedHash hash;

    Token(OperatorSpec spec, PhiType type, MaskingKeys keys) {
        super(spec, type);
        this.label = type.policyName().getBytes(StandardCharsets.US_ASCII);
        this.prefix = (type.policyName() + "_").getBytes(StandardCharsets.US_ASCII);
        this.hash = new KeyedHash(keys.tokenKey());
    }

    @Override
    byte[] mask(byte[] value, ValueType type, RowContext context) {
        return switch (WireValues.kind(type.oid())) {
            case TEXT -> text(digest('s', value, 0, WireValues.textEnd(value, type.oid())));
            case JSON -> {
                int start = WireValues.jsonStart(value, type);
                yield WireValues.jsonString(text(digest('s', value, start, value.length - start)), type);
            }
            case INTEGER -> integer(WireValues.readInteger(value, type), type);
            case UUID -> uuid(value, type);
            default -> null;
        };
    }

    private Mac start(char kind) {
        Mac mac = hash.mac();
        mac.update(label);
        mac.update((byte) 0);
        mac.update((byte) kind);
        return mac;
    }

    private byte[] digest(char kind, byte[] value, int from, int length) {
        Mac mac = start(kind);
        mac.update(value, from, length);
        return mac.doFinal();
    }

    private byte[] text(byte[] digest) {
        byte[] out = new byte[prefix.length + TOKEN_CHARS];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        // 16 characters of 5 bits: the first 80 bits of the digest
        int buffer = 0, bits = 0, next = 0;
        for (int i = 0; i < TOKEN_CHARS; i++) {
            if (bits < 5) {
                buffer = (buffer << 8) | (digest[next++] & 0xff);
                bits += 8;
            }
            out[prefix.length + i] = BASE32[(buffer >>> (bits - 5)) & 31];
            bits -= 5;
        }
        return out;
    }

    private byte[] integer(long x, ValueType type) {
        Mac mac = start('i');
        KeyedHash.updateLong(mac, x);
        long h = KeyedHash.firstLong(mac.doFinal()) & Long.MAX_VALUE;
        long max = WireValues.maxInteger(type.oid());
        return WireValues.writeInteger(max == Long.MAX_VALUE ? h : h % (max + 1), type);
    }

    private byte[] uuid(byte[] value, ValueType type) {
        byte[] raw = new byte[16];
        WireValues.readUuid(value, type, raw);
        Mac mac = start('u');
        mac.update(raw);
        byte[] digest = mac.doFinal();
        System.arraycopy(digest, 0, raw, 0, 16);
        raw[6] = (byte) ((raw[6] & 0x0f) | 0x80); // version 8: custom
        raw[8] = (byte) ((raw[8] & 0x3f) | 0x80); // RFC 9562 variant
        return type.binary() ? raw : WireValues.uuidText(raw);
    }
}
