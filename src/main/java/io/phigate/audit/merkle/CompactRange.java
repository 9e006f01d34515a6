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

    /**
     * A range of {@code size} leaves whose subtree roots are {@code frontier} (largest first), as
     * {@link #frontier()} gave them: lets the tree go on growing after the leaves themselves are gone (archived).
     */
    public static CompactRange restore(long size, List<byte[]> frontier) {
        if (size < 0) {
            throw new IllegalArgumentException("a tree size cannot be negative: " + size);
        }
        if (frontier.size() != Long.bitCount(size)) {
            throw new IllegalArgumentException("a tree of " + size + " leaves has " + Long.bitCount(size)
                    + " subtree roots, not " + frontier.size());
        }
        CompactRange range = new CompactRange();
        for (int i = 0; i < frontier.size(); i++) {
            MerkleHash.check(frontier.get(i), "subtree root " + i);
            range.subtreeRoots.add(frontier.get(i).clone());
        }
        range.size = size;
        return range;
    }

    /** Copies of the roots of the perfect subtrees covering the leaves so far, largest first. */
    public List<byte[]> frontier() {
        return subtreeRoots.stream().map(byte[]::clone).toList();
    }

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
