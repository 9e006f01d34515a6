package io.phigate.audit.merkle;

import io.phigate.audit.merkle.MerkleException.Reason;
import java.util.List;

/**
 * RFC 9162 §2.1.4 consistency proof: the hashes that show the tree of the first {@code newSize} leaves
 * extends the tree of the first {@code oldSize} leaves, i.e. the log only grew. Immutable; equal by
 * content. Any values are accepted; {@link #verify} judges them.
 *
 * @throws MerkleException MALFORMED_HASH if {@code path} or one of its elements is null
 */
public record ConsistencyProof(long oldSize, long newSize, List<byte[]> path) {

    public ConsistencyProof {
        path = HashLists.copy(path);
    }

    /** A copy of the path; the record's own arrays never leave it. */
    @Override
    public List<byte[]> path() {
        return HashLists.cloneEach(path);
    }

    /**
     * Checks that the tree with root {@code newRoot} extends the one with root {@code oldRoot}
     * (RFC 9162 §2.1.4.2). Returns normally when it does. An old size of zero is refused: every tree
     * extends the empty one, so such a proof would say nothing (the upstream test vectors agree).
     *
     * @throws MerkleException with the reason the proof fails: MALFORMED_HASH, SIZE_OUT_OF_RANGE,
     *     WRONG_PATH_LENGTH or ROOT_MISMATCH
     */
    public void verify(byte[] oldRoot, byte[] newRoot) {
        MerkleHash.check(oldRoot, "old root");
        MerkleHash.check(newRoot, "new root");
        if (oldSize < 1) {
            throw new MerkleException(Reason.SIZE_OUT_OF_RANGE,
                    "old size " + oldSize + ": a consistency proof needs a non-empty old tree");
        }
        if (newSize < oldSize) {
            throw new MerkleException(Reason.SIZE_OUT_OF_RANGE,
                    "new size " + newSize + " is smaller than old size " + oldSize);
        }
        HashLists.checkEach(path);
        int expected = expectedLength(oldSize, newSize);
        if (path.size() != expected) {
            throw new MerkleException(Reason.WRONG_PATH_LENGTH, "consistency proof from " + oldSize + " to "
                    + newSize + " has " + path.size() + " hashes, needs " + expected);
        }
        if (oldSize == newSize) {
            if (!HashLists.same(oldRoot, newRoot)) {
                throw new MerkleException(Reason.ROOT_MISMATCH, "two different roots for tree size " + oldSize);
            }
            return;
        }
        walk(oldRoot, newRoot);
    }

    /** The RFC 9162 §2.1.4.2 walk, on a path whose length is already known to be right. */
    private void walk(byte[] oldRoot, byte[] newRoot) {
        List<byte[]> p = path;
        int start = 0;
        byte[] seed;
        if (Long.bitCount(oldSize) == 1) {
            // The old tree is a perfect subtree of the new one: its root is the first hash of the walk.
            seed = oldRoot;
        } else {
            seed = p.getFirst();
            start = 1;
        }
        long fn = oldSize - 1;
        long sn = newSize - 1;
        while ((fn & 1) == 1) {
            fn >>>= 1;
            sn >>>= 1;
        }
        byte[] fr = seed;
        byte[] sr = seed;
        for (int i = start; i < p.size(); i++) {
            byte[] c = p.get(i);
            if ((fn & 1) == 1 || fn == sn) {
                fr = MerkleHash.node(c, fr);
                sr = MerkleHash.node(c, sr);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>>= 1;
                    sn >>>= 1;
                }
            } else {
                sr = MerkleHash.node(sr, c);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        if (!HashLists.same(fr, oldRoot)) {
            throw new MerkleException(Reason.ROOT_MISMATCH,
                    "consistency proof from " + oldSize + " to " + newSize + " does not lead to the old root");
        }
        if (!HashLists.same(sr, newRoot)) {
            throw new MerkleException(Reason.ROOT_MISMATCH,
                    "consistency proof from " + oldSize + " to " + newSize + " does not lead to the new root");
        }
    }

    /**
     * The inclusion path length of the old tree's last leaf in the new tree, less the levels inside the
     * old tree's rightmost perfect subtree (whose root stands in for them), plus that root itself unless
     * the whole old tree is perfect and the verifier already holds it.
     */
    static int expectedLength(long oldSize, long newSize) {
        if (oldSize == newSize) {
            return 0;
        }
        int shift = Long.numberOfTrailingZeros(oldSize);
        int length = InclusionProof.expectedLength(oldSize - 1, newSize) - shift;
        return (oldSize >>> shift) == 1 ? length : length + 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConsistencyProof other
                && oldSize == other.oldSize && newSize == other.newSize && HashLists.equal(path, other.path);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(oldSize) + Long.hashCode(newSize)) + HashLists.hash(path);
    }

    @Override
    public String toString() {
        return "ConsistencyProof[oldSize=" + oldSize + ", newSize=" + newSize + ", path=" + HashLists.hex(path) + "]";
    }
}
