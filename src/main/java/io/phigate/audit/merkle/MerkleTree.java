package io.phigate.audit.merkle;

import io.phigate.audit.merkle.MerkleException.Reason;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 9162 §2.1 computations over a list of leaf hashes held in memory: the root (MTH), inclusion paths
 * (PATH) and consistency proofs (PROOF). Each call hashes O(n) times, which is what a verifier that has
 * read the leaves anyway can afford; the writer keeps a {@link CompactRange} instead.
 *
 * <p>Leaf hashes are {@link MerkleHash#leafHash} of the entries, not the entries themselves.
 */
public final class MerkleTree {

    private MerkleTree() {}

    /** The root of the tree of all {@code leafHashes}; SHA-256("") when the list is empty. */
    public static byte[] rootOf(List<byte[]> leafHashes) {
        checkLeaves(leafHashes, sizeOf(leafHashes));
        return mth(leafHashes, 0, leafHashes.size());
    }

    /** The inclusion proof for leaf {@code index} in the tree of the first {@code treeSize} leaves. */
    public static InclusionProof inclusionProof(List<byte[]> leafHashes, long index, long treeSize) {
        int n = prefix(leafHashes, treeSize);
        if (index < 0 || index >= n) {
            throw new MerkleException(Reason.INDEX_OUT_OF_RANGE,
                    "leaf index " + index + " is not in a tree of size " + treeSize);
        }
        List<byte[]> out = new ArrayList<>();
        path((lo, hi) -> mth(leafHashes, (int) lo, (int) hi), index, 0, n, out);
        return new InclusionProof(index, treeSize, out);
    }

    /**
     * The inclusion proof for leaf {@code index} in the tree of the first {@code treeSize} leaves, when the first
     * {@code prunedSize} leaves are gone (archived) and known only by their frontier (as {@link
     * CompactRange#frontier()} gave it at that size), and {@code leavesAfter} are the leaves from {@code prunedSize}
     * on. Every sibling on the path of a leaf at or after the cut is either a frontier subtree or is built from
     * leaves after it (and frontier subtrees), so the proof is the same as with every leaf at hand.
     */
    public static InclusionProof inclusionProof(long prunedSize, List<byte[]> frontier, List<byte[]> leavesAfter,
                                                long index, long treeSize) {
        if (frontier.size() != Long.bitCount(prunedSize)) {
            throw new MerkleException(Reason.WRONG_PATH_LENGTH, "a tree of " + prunedSize + " leaves has "
                    + Long.bitCount(prunedSize) + " subtree roots, not " + frontier.size());
        }
        if (treeSize < prunedSize || treeSize - prunedSize > sizeOf(leavesAfter)) {
            throw new MerkleException(Reason.SIZE_OUT_OF_RANGE, "tree size " + treeSize + " is not between "
                    + prunedSize + " and the " + (prunedSize + leavesAfter.size()) + " leaves known");
        }
        if (index < prunedSize || index >= treeSize) {
            throw new MerkleException(Reason.INDEX_OUT_OF_RANGE, "leaf index " + index + " is not between "
                    + prunedSize + " (the first leaf kept) and the tree size " + treeSize);
        }
        checkLeaves(leavesAfter, (int) (treeSize - prunedSize));
        // The frontier's subtrees, keyed by their first leaf: one per set bit of prunedSize, largest first.
        java.util.Map<Long, byte[]> subtrees = new java.util.HashMap<>();
        long start = 0;
        int i = 0;
        for (int bit = 62; bit >= 0; bit--) {
            if ((prunedSize & (1L << bit)) != 0) {
                byte[] h = frontier.get(i++);
                MerkleHash.check(h, "subtree root " + (i - 1));
                subtrees.put(start, h);
                start += 1L << bit;
            }
        }
        Subtrees hashes = new Subtrees() {
            @Override
            public byte[] mth(long lo, long hi) {
                if (lo >= prunedSize) {
                    return MerkleTree.mth(leavesAfter, (int) (lo - prunedSize), (int) (hi - prunedSize));
                }
                if (hi <= prunedSize) {
                    byte[] h = subtrees.get(lo);
                    if (h == null || Long.highestOneBit(prunedSize - lo) != hi - lo) {
                        throw new MerkleException(Reason.INDEX_OUT_OF_RANGE, "leaves " + lo + " to " + hi
                                + " are pruned and not a frontier subtree");
                    }
                    return h.clone();
                }
                long k = split(hi - lo);
                return MerkleHash.node(mth(lo, lo + k), mth(lo + k, hi));
            }
        };
        List<byte[]> out = new ArrayList<>();
        path(hashes, index, 0, treeSize, out);
        return new InclusionProof(index, treeSize, out);
    }

    /**
     * The consistency proof that the tree of the first {@code newSize} leaves extends the tree of the
     * first {@code oldSize}; {@code 1 <= oldSize <= newSize}. Equal sizes give an empty proof.
     */
    public static ConsistencyProof consistencyProof(List<byte[]> leafHashes, long oldSize, long newSize) {
        int n = prefix(leafHashes, newSize);
        if (oldSize < 1 || oldSize > newSize) {
            throw new MerkleException(Reason.SIZE_OUT_OF_RANGE,
                    "old size " + oldSize + " must be between 1 and the new size " + newSize);
        }
        List<byte[]> out = new ArrayList<>();
        if (oldSize < newSize) {
            subproof(leafHashes, (int) oldSize, 0, n, true, out);
        }
        return new ConsistencyProof(oldSize, newSize, out);
    }

    /** MTH(D[lo:hi]). */
    private static byte[] mth(List<byte[]> d, int lo, int hi) {
        int n = hi - lo;
        if (n == 0) {
            return MerkleHash.emptyRoot();
        }
        if (n == 1) {
            return d.get(lo).clone();
        }
        int k = split(n);
        return MerkleHash.node(mth(d, lo, lo + k), mth(d, lo + k, hi));
    }

    /** MTH over the leaves [lo, hi) of a tree, however its hashes are known. */
    private interface Subtrees {
        byte[] mth(long lo, long hi);
    }

    /** PATH(m, D[lo:hi]), nearest sibling first. */
    private static void path(Subtrees d, long m, long lo, long hi, List<byte[]> out) {
        long n = hi - lo;
        if (n <= 1) {
            return;
        }
        long k = split(n);
        if (m < k) {
            path(d, m, lo, lo + k, out);
            out.add(d.mth(lo + k, hi));
        } else {
            path(d, m - k, lo + k, hi, out);
            out.add(d.mth(lo, lo + k));
        }
    }

    /** SUBPROOF(m, D[lo:hi], b). */
    private static void subproof(List<byte[]> d, int m, int lo, int hi, boolean whole, List<byte[]> out) {
        int n = hi - lo;
        if (m == n) {
            if (!whole) {
                out.add(mth(d, lo, hi));
            }
            return;
        }
        int k = split(n);
        if (m <= k) {
            subproof(d, m, lo, lo + k, whole, out);
            out.add(mth(d, lo + k, hi));
        } else {
            subproof(d, m - k, lo + k, hi, false, out);
            out.add(mth(d, lo, lo + k));
        }
    }

    /** The largest power of two smaller than n (n > 1). */
    private static int split(int n) {
        return Integer.highestOneBit(n - 1);
    }

    private static long split(long n) {
        return Long.highestOneBit(n - 1);
    }

    private static int sizeOf(List<byte[]> leafHashes) {
        if (leafHashes == null) {
            throw new MerkleException(Reason.MALFORMED_HASH, "leaf hash list is null");
        }
        return leafHashes.size();
    }

    /** Checks that treeSize leaves are at hand and well formed; returns treeSize as an int. */
    private static int prefix(List<byte[]> leafHashes, long treeSize) {
        int available = sizeOf(leafHashes);
        if (treeSize < 0 || treeSize > available) {
            throw new MerkleException(Reason.SIZE_OUT_OF_RANGE,
                    "tree size " + treeSize + " is not between 0 and the " + available + " leaves given");
        }
        checkLeaves(leafHashes, (int) treeSize);
        return (int) treeSize;
    }

    private static void checkLeaves(List<byte[]> leafHashes, int n) {
        for (int i = 0; i < n; i++) {
            MerkleHash.check(leafHashes.get(i), "leaf hash " + i);
        }
    }
}
