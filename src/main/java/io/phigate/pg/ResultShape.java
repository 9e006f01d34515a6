package io.phigate.pg;

import io.phigate.mask.CopyFormat;

import io.phigate.pg.masking.CopyMasker;
import io.phigate.mask.MaskPlan;
import io.phigate.pg.message.BackendMessage.RowDescription.Field;
import io.phigate.session.StatementRules;
import io.phigate.sql.StatementAnalysis;
import java.util.List;

/**
 * What the response pump needs to mask the results of one forwarded message: the analysed statement(s) that
 * produce them, the formats the client asked for, and, once the server has described the result, the plan.
 * Created by the client reader before forwarding, published to the pump through {@link Exchange}'s op queue,
 * and from then on touched by the pump only.
 */
final class ResultShape {

    /** A prepared statement (extended protocol): its analysis, and its result columns once described. */
    static final class Prepared {
        final StatementAnalysis analysis;
        /** The parameter types its Parse declared (0: the server infers it); empty when not known (PREPARE). */
        final int[] parameterTypes;
        /** Set by the pump when a Describe of the statement is answered. */
        volatile List<Field> fields;

        Prepared(StatementAnalysis analysis) {
            this(analysis, new int[0]);
        }

        Prepared(StatementAnalysis analysis, int[] parameterTypes) {
            this.analysis = analysis;
            this.parameterTypes = parameterTypes;
        }
    }

    /** The statements of a simple Query (several, in order), or the one statement behind a portal. */
    final List<StatementAnalysis> statements;
    /** For a portal: the statement it was bound from; null for a simple Query. */
    final Prepared prepared;
    /** For a portal: the result formats its Bind asked for; null for a simple Query. */
    final short[] formats;
    /** For a portal's COPY TO: the format it will produce, checked before forwarding, and whether a header leads. */
    private final CopyFormat portalCopyFormat;
    private final boolean portalCopyHeader;
    /** Which statement of a simple Query answers next. */
    int index;
    MaskPlan plan;
    CopyMasker copy;

    private ResultShape(List<StatementAnalysis> statements, Prepared prepared, short[] formats,
                        CopyFormat copyFormat, boolean copyHeader) {
        this.statements = statements;
        this.prepared = prepared;
        this.formats = formats;
        this.portalCopyFormat = copyFormat;
        this.portalCopyHeader = copyHeader;
    }

    static ResultShape query(List<StatementAnalysis> statements) {
        return new ResultShape(statements, null, null, null, false);
    }

    static ResultShape portal(Prepared prepared, short[] formats, CopyFormat copyFormat, boolean copyHeader) {
        return new ResultShape(List.of(), prepared, formats, copyFormat, copyHeader);
    }

    /** The statement whose results come next, or null when unknown. */
    StatementAnalysis current() {
        if (prepared != null) {
            return prepared.analysis;
        }
        return index < statements.size() ? statements.get(index) : null;
    }

    /**
     * The format of the COPY answering now, as its own statement's options give it; null when the masker cannot read
     * it. A simple Query may hold several COPYs with different options, and each is read by its own (decision 0079:
     * reading all by the last let a later HEADER pass an earlier COPY's first row through as the header line).
     */
    CopyFormat copyFormat() {
        if (prepared != null) {
            return portalCopyFormat;
        }
        StatementAnalysis a = current();
        return a == null ? null : StatementRules.copyFormat(a.facts().options());
    }

    /** Whether the COPY answering now starts with a header line, as its own statement's options say. */
    boolean copyHeader() {
        if (prepared != null) {
            return portalCopyHeader;
        }
        StatementAnalysis a = current();
        return a != null && StatementRules.copyHeader(a.facts().options());
    }

    /** A simple Query moved on to its next statement. */
    void nextStatement() {
        index++;
        plan = null;
        copy = null;
    }
}
