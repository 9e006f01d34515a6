package io.phigate.audit.merkle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The RFC 9162 §2.1.1 hashes: SHA-256 with a one-byte prefix that separates leaves from interior nodes,
 * so that a leaf can never be passed off as a node (second-preimage protection).
 */
public final class MerkleHash {

    /** Length in bytes of every hash in the tree. */
    public static final int SIZE = 32;

    private static final byte LEAF_PREFIX = 0x00;
    private static final byte NODE_PREFIX = 0x01;
    private static final byte[] EMPTY_ROOT = sha256().digest();

    private MerkleHash() {}

    /** SHA-256(0x00 || entry). */
    public static byte[] leafHash(byte[] entry) {
        if (entry == null) {
            throw new MerkleException(MerkleException.Reason.MALFORMED_HASH, "leaf entry is null");
        }
        MessageDigest d = sha256();
        d.update(LEAF_PREFIX);
        d.update(entry);
        return d.digest();
    }

    /** SHA-256(0x01 || left || right); both children must be {@value #SIZE}-byte hashes. */
    public static byte[] nodeHash(byte[] left, byte[] right) {
        check(left, "left child");
        check(right, "right child");
        return node(left, right);
    }

    /** The root of the empty tree, SHA-256 of the empty string. */
    public static byte[] emptyRoot() {
        return EMPTY_ROOT.clone();
    }

    /** Node hash without argument checks, for callers that already checked. */
    static byte[] node(byte[] left, byte[] right) {
        MessageDigest d = sha256();
        d.update(NODE_PREFIX);
        d.update(left);
        d.update(right);
        return d.digest();
    }

    static void check(byte[] hash, String what) {
        if (hash == null) {
            throw new MerkleException(MerkleException.Reason.MALFORMED_HASH, what + " is null");
        }
        if (hash.length != SIZE) {
            throw new MerkleException(MerkleException.Reason.MALFORMED_HASH,
                    what + " is " + hash.length + " bytes, not " + SIZE);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }
}
