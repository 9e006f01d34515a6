package io.phigate.pg;

import io.phigate.pg.message.BackendMessage.CommandComplete;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;

/**
 * A role's {@code row_limit}: the most rows one result may deliver. Rows past it are read from the server and
 * dropped; at the end of the result the client is told so in a notice, and the command tag counts what it
 * received. DataRows and the row frames of a {@code COPY ... TO STDOUT} count alike ({@link CopyRows}).
 *
 * <p>Run by the response pump only.
 */
final class RowLimit {
    /** 0 for no limit. */
    private final long limit;
    private final String roleName;
    private final CopyRows copyRows = new CopyRows();
    private long rowsInResult;
    private boolean withheld;
    /** Rows the last withheld result delivered, for its tag. */
    private long delivered;

    RowLimit(long limit, String roleName) {
        this.limit = limit;
        this.roleName = roleName;
    }

    /** At CopyOutResponse: which of the CopyData frames that follow are rows. */
    void copyStarts(byte[] copyOutResponse, ResultShape shape) {
        copyRows.start(copyOutResponse, shape);
    }

    /** True when the row or COPY data frame {@code upstream} is positioned on is past the limit: skip it. */
    boolean withholds(byte type, FrameReader upstream) {
        if (limit > 0 && (type == 'D' || type == 'd' && copyRows.isRow(upstream)) && ++rowsInResult > limit) {
            withheld = true;
            return true;
        }
        return false;
    }

    /** RowDescription or NoData: a new result begins. */
    void resultStarts() {
        rowsInResult = 0;
        withheld = false;
    }

    /** EmptyQueryResponse: the count restarts (a withheld result before it is still reported at its tag). */
    void emptyQuery() {
        rowsInResult = 0;
    }

    /** At CommandComplete: true when rows were withheld; then {@link #notice} and {@link #retag} say so. */
    boolean endOfResult() {
        boolean was = withheld;
        delivered = Math.min(rowsInResult, limit);
        rowsInResult = 0;
        withheld = false;
        return was;
    }

    byte[] notice() {
        return ResultMasking.bodyOf(ErrorCodes.notice("phigate returned only the first " + limit
                + " rows of this result: role \"" + roleName + "\" has row_limit " + limit));
    }

    /** The CommandComplete body with the row count the client received in place of the server's. */
    byte[] retag(byte[] commandComplete) throws java.io.IOException {
        String tag = ((CommandComplete) MessageCodec.decodeBackend((byte) 'C', commandComplete)).tag();
        int space = tag.lastIndexOf(' ');
        return ResultMasking.bodyOf(new CommandComplete(space < 0 ? tag : tag.substring(0, space + 1) + delivered));
    }
}
