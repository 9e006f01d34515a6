package io.phigate.audit.merkle;

import java.util.ArrayList;
import java.util.List;

/**
 * The growing log's frontier: the roots of the perfect subtrees that together cover leaves [0, size),
 * largest first (one per set bit of size). Appending a leaf merges equal-sized subtrees like a binary
 * counter carries; the root of the whole tree folds them from right to left. Memory is O(log n) and each
 * operation hashes O(log n) times, so the audit writer can append every record's hash as it commits and
 * take a root for a checkpoint whenever it likes.
 *
 * <p>Not thread-safe: it belongs to the one audit writer thread.
 */
public final class CompactRange {

    private final List<byte[]> subtreeRoots = new ArrayList<>();
    private long size;

    /** Number of leaves appended so far. */
    public long size() {
        return size;
    }

    /** Appends the next leaf's hash ({@link MerkleHash#leafHash} of the record). */
    public void append(byte[] leafHash) {
        MerkleHash.check(leafHash, "leaf hash " + size);
        byte[] carry = leafHash.clone();
        for (long n = size; (n & 1) == 1; n >>>= 1) {
            carry = MerkleHash.node(subtreeRoots.removeLast(), carry);
        }
        subtreeRoots.add(carry);
        size++;
    }

    /** The RFC 9162 root of the tree of all leaves appended so far. */
    public byte[] root() {
        if (subtreeRoots.isEmpty()) {
            return MerkleHash.emptyRoot();
        }
        byte[] root = subtreeRoots.getLast();
        for (int i = subtreeRoots.size() - 2; i >= 0; i--) {
            root = MerkleHash.node(subtreeRoots.get(i), root);
        }
        return root.clone();
    }
}
