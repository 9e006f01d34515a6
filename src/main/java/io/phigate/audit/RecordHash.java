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
        Encoder head = new Encoder(256);
        head.column(0, replica);
        head.column(1, chainSeq);
        head.column(2, prevHash);
        sha.update(head.bytes, 0, head.size);
        sha.update(tail);
        return sha.digest();
    }

    /**
     * The canonical encoding of {@code values} from column {@code from} on (values aligned with {@link #COLUMNS}):
     * each column as {@code name=-\n} for NULL or {@code name=LENGTH:VALUE\n}, LENGTH in UTF-8 bytes.
     */
    static byte[] tail(String[] values, int from) {
        Encoder e = new Encoder(512);
        for (int i = from; i < values.length; i++) {
            e.column(i, values[i]);
        }
        return java.util.Arrays.copyOf(e.bytes, e.size);
    }

    private static final byte[] PREFIX = (FORMAT + "\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[][] NAMES = java.util.Arrays.stream(COLUMNS)
            .map(c -> c.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);

    /** A growing byte buffer for the encoding; no per-column strings or arrays beyond the value's own bytes. */
    private static final class Encoder {
        byte[] bytes;
        int size;

        Encoder(int capacity) {
            bytes = new byte[capacity];
        }

        void column(int index, String value) {
            put(NAMES[index]);
            if (value == null) {
                put((byte) '=');
                put((byte) '-');
                put((byte) '\n');
                return;
            }
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            put((byte) '=');
            putDecimal(v.length);
            put((byte) ':');
            put(v);
            put((byte) '\n');
        }

        /** The length in ASCII decimal, written in place (this runs for every column of every record). */
        private void putDecimal(int n) {
            int digits = 1;
            for (int p = 10; p <= n && digits < 10; p *= 10) {
                digits++;
            }
            room(digits);
            for (int i = size + digits - 1; i >= size; i--) {
                bytes[i] = (byte) ('0' + n % 10);
                n /= 10;
            }
            size += digits;
        }

        private void put(byte b) {
            room(1);
            bytes[size++] = b;
        }

        private void put(byte[] b) {
            room(b.length);
            System.arraycopy(b, 0, bytes, size, b.length);
            size += b.length;
        }

        private void room(int n) {
            if (size + n > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + n));
            }
        }
    }

    static String hex(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
