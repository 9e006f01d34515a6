package io.phigate.mongo.masking;

/**
 * A role's {@code row_limit} over one cursor (or one command answering its documents inline): how many documents
 * it has delivered, across {@code firstBatch} and every getMore's {@code nextBatch}. {@link ReplyMasker} cuts a batch
 * at what is left and, once the limit is reached, tells the client the cursor is exhausted ({@code id: 0}) so the
 * driver stops; the caller kills the server's cursor (decision 0096). Mutable; owned by the connection's thread.
 */
public final class DocumentBudget {
    private final long limit;
    private long delivered;
    private boolean cut;
    private boolean serverCursorLeftOpen;

    /** @param limit the role's row_limit, at least 1 */
    public DocumentBudget(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a budget needs a limit of at least one document");
        }
        this.limit = limit;
    }

    public long limit() {
        return limit;
    }

    /** Documents this cursor may still deliver. */
    long remaining() {
        return limit - delivered;
    }

    /**
     * One reply's count, after it was written: {@code seen} documents in its batches, of which the first
     * {@link #remaining} were delivered; {@code serverCursor} the id the server gave (0: it has nothing more).
     */
    void delivered(long seen, long serverCursor) {
        long kept = Math.min(seen, remaining());
        boolean reached = kept == remaining();
        if (seen > kept || reached && serverCursor != 0) {
            cut = true;
        }
        serverCursorLeftOpen = reached && serverCursor != 0;
        delivered += kept;
    }

    /** True once the limit is reached: the client was told the cursor is exhausted. */
    public boolean reached() {
        return delivered >= limit;
    }

    /** Documents delivered so far. */
    public long deliveredSoFar() {
        return delivered;
    }

    /** The limit withheld documents or ended a cursor the server still held open. */
    public boolean cut() {
        return cut;
    }

    /** The last reply ended a cursor the server still holds: the gateway must kill it. */
    public boolean serverCursorLeftOpen() {
        return serverCursorLeftOpen;
    }
}
