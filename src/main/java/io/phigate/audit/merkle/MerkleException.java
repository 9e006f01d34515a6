package io.phigate.audit.merkle;

/**
 * Why a Merkle proof could not be made or did not verify.
 *
 * <p>Every public method of this package reports bad input and failed verification with this one type,
 * never with a bare {@link IllegalArgumentException} or {@link NullPointerException}: proofs and hashes
 * come from outside (a store being verified, a file an auditor checks), and the verifier must be able to
 * say which rule failed. It is unchecked so that a caller that forgets to handle it stops (fails closed)
 * rather than treating an unverified proof as good.
 */
public final class MerkleException extends RuntimeException {

    /** The rule that was broken. */
    public enum Reason {
        /** A hash is null or not {@value MerkleHash#SIZE} bytes, or a list of hashes is null. */
        MALFORMED_HASH,
        /** A leaf index is negative or not below the tree size. */
        INDEX_OUT_OF_RANGE,
        /** A tree size is negative, larger than the leaves at hand, zero where a tree is required, or sizes are out of order. */
        SIZE_OUT_OF_RANGE,
        /** The proof has more or fewer hashes than the index and sizes require. */
        WRONG_PATH_LENGTH,
        /** The proof is well formed but does not lead to the expected root. */
        ROOT_MISMATCH
    }

    private final Reason reason;

    MerkleException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
