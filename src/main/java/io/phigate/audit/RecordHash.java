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
        MessageDigest sha = sha256();
        sha.update(FORMAT.getBytes(StandardCharsets.US_ASCII));
        sha.update((byte) '\n');
        for (int i = 0; i < values.length; i++) {
            sha.update(COLUMNS[i].getBytes(StandardCharsets.US_ASCII));
            if (values[i] == null) {
                sha.update("=-\n".getBytes(StandardCharsets.US_ASCII));
            } else {
                byte[] v = values[i].getBytes(StandardCharsets.UTF_8);
                sha.update(("=" + v.length + ":").getBytes(StandardCharsets.US_ASCII));
                sha.update(v);
                sha.update((byte) '\n');
            }
        }
        return sha.digest();
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
