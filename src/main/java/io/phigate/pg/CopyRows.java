package io.phigate.pg;

import io.phigate.pg.message.FrameReader;

/**
 * Which CopyData frames of a {@code COPY ... TO STDOUT} are rows, so that a role's {@code row_limit} counts them as
 * it counts DataRows (issue 19). The server sends one CopyData per row; besides rows it sends a text or CSV
 * {@code HEADER} line as a frame of its own, and binary format's trailer (the int16 -1) as a frame of its own
 * (binary's file header rides with the first row). Those two are not rows, and they are never withheld, so a
 * limited COPY still ends as its format says. Without the statement's shape (a session whose results phigate
 * does not mask) a header is not known and counts as a row: the limit then errs by one row fewer, never more.
 *
 * <p>Run by the response pump only.
 */
final class CopyRows {
    private boolean binary;
    private boolean headerPending;

    /** At CopyOutResponse: its body (format first) and the shape of the statement it answers, if known. */
    void start(byte[] copyOutResponse, ResultShape shape) {
        binary = copyOutResponse.length > 0 && copyOutResponse[0] == 1;
        headerPending = !binary && shape != null && shape.copyHeader();
    }

    /** True when the CopyData frame {@code upstream} is positioned on is a row. */
    boolean isRow(FrameReader upstream) {
        if (headerPending) {
            headerPending = false;
            return false;
        }
        return !(binary && upstream.bodyLength() == 2);
    }
}
