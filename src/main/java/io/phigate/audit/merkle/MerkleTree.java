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
        path(leafHashes, (int) index, 0, n, out);
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

    /** PATH(m, D[lo:hi]), nearest sibling first. */
    private static void path(List<byte[]> d, int m, int lo, int hi, List<byte[]> out) {
        int n = hi - lo;
        if (n <= 1) {
            return;
        }
        int k = split(n);
        if (m < k) {
            path(d, m, lo, lo + k, out);
            out.add(mth(d, lo + k, hi));
        } else {
            path(d, m - k, lo + k, hi, out);
            out.add(mth(d, lo, lo + k));
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
