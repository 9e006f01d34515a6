package io.phigate.audit.merkle;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.StringJoiner;

/** Helpers the two proof records share: copying, comparing and printing lists of hashes. */
final class HashLists {

    private HashLists() {}

    /** Deep, unmodifiable copy; a null list or element is malformed input. Lengths are checked on verify. */
    static List<byte[]> copy(List<byte[]> path) {
        if (path == null) {
            throw new MerkleException(MerkleException.Reason.MALFORMED_HASH, "proof path is null");
        }
        List<byte[]> copy = new ArrayList<>(path.size());
        for (int i = 0; i < path.size(); i++) {
            byte[] h = path.get(i);
            if (h == null) {
                throw new MerkleException(MerkleException.Reason.MALFORMED_HASH, "proof path element " + i + " is null");
            }
            copy.add(h.clone());
        }
        return Collections.unmodifiableList(copy);
    }

    static List<byte[]> cloneEach(List<byte[]> path) {
        return path.stream().map(byte[]::clone).toList();
    }

    static void checkEach(List<byte[]> path) {
        for (int i = 0; i < path.size(); i++) {
            MerkleHash.check(path.get(i), "proof path element " + i);
        }
    }

    static boolean equal(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    static int hash(List<byte[]> path) {
        int h = 1;
        for (byte[] e : path) {
            h = 31 * h + Arrays.hashCode(e);
        }
        return h;
    }

    static String hex(List<byte[]> path) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        path.forEach(e -> j.add(HexFormat.of().formatHex(e)));
        return j.toString();
    }

    /** Constant-time comparison, so that how far a forged root matches is not observable. */
    static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }
}
