package io.phigate.audit.merkle;

import io.phigate.audit.merkle.MerkleException.Reason;
import java.util.List;

/**
 * RFC 9162 §2.1.3 inclusion proof: the sibling hashes on the way from leaf {@code index} up to the root of
 * the tree of the first {@code treeSize} leaves, nearest sibling first. Immutable; equal by content.
 * Any values are accepted (a proof may come from an untrusted file); {@link #verify} judges them.
 *
 * @throws MerkleException MALFORMED_HASH if {@code path} or one of its elements is null
 */
public record InclusionProof(long index, long treeSize, List<byte[]> path) {

    public InclusionProof {
        path = HashLists.copy(path);
    }

    /** A copy of the path; the record's own arrays never leave it. */
    @Override
    public List<byte[]> path() {
        return HashLists.cloneEach(path);
    }

    /**
     * Checks that {@code leafHash} is leaf {@code index} of the tree whose root is {@code root}
     * (RFC 9162 §2.1.3.2). Returns normally when it is.
     *
     * @throws MerkleException with the reason the proof fails: MALFORMED_HASH, SIZE_OUT_OF_RANGE,
     *     INDEX_OUT_OF_RANGE, WRONG_PATH_LENGTH or ROOT_MISMATCH
     */
    public void verify(byte[] leafHash, byte[] root) {
        MerkleHash.check(leafHash, "leaf hash");
        MerkleHash.check(root, "root");
        if (treeSize < 0) {
            throw new MerkleException(Reason.SIZE_OUT_OF_RANGE, "tree size " + treeSize + " is negative");
        }
        if (index < 0 || index >= treeSize) {
            throw new MerkleException(Reason.INDEX_OUT_OF_RANGE,
                    "leaf index " + index + " is not in a tree of size " + treeSize);
        }
        HashLists.checkEach(path);
        int expected = expectedLength(index, treeSize);
        if (path.size() != expected) {
            throw new MerkleException(Reason.WRONG_PATH_LENGTH, "inclusion proof for leaf " + index + " of "
                    + treeSize + " has " + path.size() + " hashes, needs " + expected);
        }
        byte[] r = rootFrom(leafHash);
        if (!HashLists.same(r, root)) {
            throw new MerkleException(Reason.ROOT_MISMATCH,
                    "inclusion proof for leaf " + index + " of " + treeSize + " does not lead to the given root");
        }
    }

    /** The RFC 9162 §2.1.3.2 walk, on a path whose length is already known to be right. */
    private byte[] rootFrom(byte[] leafHash) {
        long fn = index;
        long sn = treeSize - 1;
        byte[] r = leafHash;
        for (byte[] p : path) {
            if ((fn & 1) == 1 || fn == sn) {
                r = MerkleHash.node(p, r);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>>= 1;
                    sn >>>= 1;
                }
            } else {
                r = MerkleHash.node(r, p);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        return r;
    }

    /**
     * Siblings below the point where the leaf's path and the last leaf's path split (one per level), plus
     * one left sibling per set bit above it, where the path runs along the tree's right border.
     */
    static int expectedLength(long index, long treeSize) {
        int inner = 64 - Long.numberOfLeadingZeros(index ^ (treeSize - 1));
        int border = Long.bitCount(index >>> inner);
        return inner + border;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InclusionProof other
                && index == other.index && treeSize == other.treeSize && HashLists.equal(path, other.path);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(index) + Long.hashCode(treeSize)) + HashLists.hash(path);
    }

    @Override
    public String toString() {
        return "InclusionProof[index=" + index + ", treeSize=" + treeSize + ", path=" + HashLists.hex(path) + "]";
    }
}
