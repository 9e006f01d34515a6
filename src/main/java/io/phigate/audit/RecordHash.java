package io.phigate.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The hash that chains audit records. It covers every stored column of a record, including its replica, its place
 * in the chain and the previous record's hash, in one fixed order, each value length-prefixed so no two different
 * records can encode alike. The writer and the verifier both hash the column values as stored, so verification
 * needs nothing but the store.
 */
final class RecordHash {
    /** The hashed columns, in hashing order. Adding one is a format change: bump {@link #FORMAT}. */
    static final String[] COLUMNS = {"replica", "chain_seq", "prev_hash", "time", "kind", "session_id", "statement_id",
            "client_address", "upstream", "issuer", "subject", "protocol", "statement", "parameters", "prepared_name",
            "portal", "outcome", "sqlstate", "command_tag", "row_count", "duration_us", "detail", "response_bytes",
            "response_digest", "response_truncated", "response_sha256"};

    /**
     * The SELECT list that yields {@link #COLUMNS} through {@link #valuesFrom}: every hashed column as stored, except
     * the last, {@code response_sha256}, which is not stored but computed from the recorded response blob.
     */
    static final String SELECT_LIST = String.join(", ", java.util.Arrays.copyOf(COLUMNS, COLUMNS.length - 1))
            + ", response";

    /** Reads {@link #COLUMNS} values from a row selected with {@link #SELECT_LIST} starting at {@code first}. */
    static String[] valuesFrom(java.sql.ResultSet rs, int first) throws java.sql.SQLException {
        String[] values = new String[COLUMNS.length];
        for (int i = 0; i < values.length - 1; i++) {
            values[i] = rs.getString(first + i);
        }
        values[values.length - 1] = blobDigest(rs.getBytes(first + values.length - 1));
        return values;
    }

    /** The value of {@code response_sha256}: hex SHA-256 of the stored blob, or null without one. */
    static String blobDigest(byte[] blob) {
        return blob == null ? null : hex(sha256().digest(blob));
    }
    static final String FORMAT = "phigate-audit-record-v1";
    /** The previous hash of a chain's first record. */
    static final String GENESIS = "0".repeat(64);

    private RecordHash() {
    }

    /** SHA-256 over the canonical encoding of {@code values}, aligned with {@link #COLUMNS}; null is SQL NULL. */
    static byte[] of(String[] values) {
        if (values.length != COLUMNS.length) {
            throw new IllegalArgumentException("expected " + COLUMNS.length + " values, got " + values.length);
        }
        return of(sha256(), values[0], values[1], values[2], tail(values, CHAIN_COLUMNS));
    }

    /** How many leading {@link #COLUMNS} place a record in its chain (replica, chain_seq, prev_hash). */
    static final int CHAIN_COLUMNS = 3;

    /**
     * The same hash as {@link #of(String[])}, from the chain columns and the {@link #tail} of the rest. The writer
     * uses this: the tail is encoded on the producer's thread, so the one writer thread only hashes bytes.
     */
    static byte[] of(MessageDigest sha, String replica, String chainSeq, String prevHash, byte[] tail) {
        sha.reset();
        sha.update(PREFIX);
        sha.update(encode(new String[]{replica, chainSeq, prevHash}, 0));
        sha.update(tail);
        return sha.digest();
    }

    /**
     * The canonical encoding of {@code values} from column {@code from} on (values aligned with {@link #COLUMNS}):
     * each column as {@code name=-\n} for NULL or {@code name=LENGTH:VALUE\n}, LENGTH in UTF-8 bytes.
     */
    static byte[] tail(String[] values, int from) {
        return encode(values, from);
    }

    /** Each value in UTF-8 (null stays null): what {@link #tail(byte[][], int)} and the journal's frame body share. */
    static byte[][] utf8(String[] values) {
        byte[][] utf8 = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                utf8[i] = values[i].getBytes(StandardCharsets.UTF_8);
            }
        }
        return utf8;
    }

    /** {@link #tail(String[], int)} of values already in UTF-8 ({@link #utf8}). */
    static byte[] tail(byte[][] utf8, int from) {
        return encode(utf8, from);
    }

    /**
     * Encodes {@code values} (aligned with {@link #COLUMNS}) from column {@code from} on into an array of exactly the
     * encoding's size: measured first, so nothing is grown or copied (this runs for every record on the session's
     * thread, and for its chain columns again on the writer's).
     */
    private static byte[] encode(String[] values, int from) {
        return encode(utf8(values), from);
    }

    private static byte[] encode(byte[][] utf8, int from) {
        int size = 0;
        for (int i = from; i < utf8.length; i++) {
            size += NAMES[i].length + 3; // '=' and '\n', and ':' or '-'
            if (utf8[i] != null) {
                size += digits(utf8[i].length) + utf8[i].length;
            }
        }
        byte[] out = new byte[size];
        int at = 0;
        for (int i = from; i < utf8.length; i++) {
            byte[] name = NAMES[i];
            System.arraycopy(name, 0, out, at, name.length);
            at += name.length;
            out[at++] = '=';
            byte[] v = utf8[i];
            if (v == null) {
                out[at++] = '-';
            } else {
                int digits = digits(v.length);
                for (int d = at + digits - 1, n = v.length; d >= at; d--, n /= 10) {
                    out[d] = (byte) ('0' + n % 10); // the length in ASCII decimal, in place: no string per column
                }
                at += digits;
                out[at++] = ':';
                System.arraycopy(v, 0, out, at, v.length);
                at += v.length;
            }
            out[at++] = '\n';
        }
        return out;
    }

    private static int digits(int n) {
        int digits = 1;
        for (int p = 10; p <= n && digits < 10; p *= 10) {
            digits++;
        }
        return digits;
    }

    private static final byte[] PREFIX = (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[][] NAMES = java.util.Arrays.stream(COLUMNS)
            .map(c -> c.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);

    static String hex(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }

    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** {@link #hex(byte[])} of a 32-byte hash into {@code out}'s 64 bytes, as ASCII: no string. */
    static void hex(byte[] hash, byte[] out) {
        for (int i = 0; i < 32; i++) {
            out[2 * i] = HEX_DIGITS[(hash[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX_DIGITS[hash[i] & 0xf];
        }
    }

    /**
     * The chain's hash of record after record on one thread (the journal writer), with no allocation per record: the
     * same value as {@link #of(MessageDigest, String, String, String, byte[])}, the chain columns encoded into a
     * reused array and the previous hash kept as its 64 ASCII hex digits.
     */
    static final class Chain {
        private final MessageDigest sha = sha256();
        /** {@code PREFIX} and the replica column, the same for every record. */
        private final byte[] head;
        private final byte[] place = new byte[64 + 2 * 32];

        Chain(String replica) {
            byte[] replicaColumn = encode(new String[]{replica, null, null}, 0);
            // encode wrote the chain_seq and prev_hash columns as NULL after the replica; keep only the replica's.
            int replicaEnd = replicaColumn.length - (NAMES[1].length + 3) - (NAMES[2].length + 3);
            head = new byte[PREFIX.length + replicaEnd];
            System.arraycopy(PREFIX, 0, head, 0, PREFIX.length);
            System.arraycopy(replicaColumn, 0, head, PREFIX.length, replicaEnd);
        }

        /** Writes into {@code out} (32 bytes) the hash of the record at {@code seq} after {@code prevHex}. */
        void hash(long seq, byte[] prevHex, byte[] tail, byte[] out) {
            if (seq < 0 || prevHex.length != 64) {
                throw new IllegalArgumentException("a chain place is a sequence number and a 64-digit hash");
            }
            int at = put(place, 0, NAMES[1]);
            place[at++] = '=';
            int digits = digits(seq);
            at = putDecimal(place, at, digits);
            place[at++] = ':';
            at = putDecimal(place, at, seq, digits);
            place[at++] = '\n';
            at = put(place, at, NAMES[2]);
            place[at++] = '=';
            place[at++] = '6';
            place[at++] = '4';
            place[at++] = ':';
            at = put(place, at, prevHex);
            place[at++] = '\n';
            sha.reset();
            sha.update(head);
            sha.update(place, 0, at);
            sha.update(tail);
            try {
                sha.digest(out, 0, 32);
            } catch (java.security.DigestException e) {
                throw new IllegalStateException("SHA-256 is 32 bytes", e);
            }
        }

        private static int put(byte[] to, int at, byte[] from) {
            System.arraycopy(from, 0, to, at, from.length);
            return at + from.length;
        }

        private static int putDecimal(byte[] to, int at, long value) {
            return putDecimal(to, at, value, digits(value));
        }

        private static int putDecimal(byte[] to, int at, long value, int digits) {
            for (int d = at + digits - 1; d >= at; d--, value /= 10) {
                to[d] = (byte) ('0' + value % 10);
            }
            return at + digits;
        }

        private static int digits(long n) {
            int digits = 1;
            for (long p = 10; p <= n && digits < 19; p *= 10) {
                digits++;
            }
            return digits;
        }
    }

    /**
     * A fresh SHA-256 digest. {@code getInstance} looks the algorithm up among the providers and builds the digest by
     * reflection on every call (4 % of the response pump's CPU in a recording session, decision 0083); a clone of an
     * unused one copies its initial state. {@link #UNUSED} is never updated, so cloning it from any thread is safe.
     */
    static MessageDigest sha256() {
        try {
            return (MessageDigest) UNUSED.clone();
        } catch (CloneNotSupportedException e) {
            return newSha256();
        }
    }

    private static final MessageDigest UNUSED = newSha256();

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
