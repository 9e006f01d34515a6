package io.phigate.mask;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import java.util.Arrays;

/**
 * How one result's rows are masked: per column, the operator to apply (null: passed as is), whether content
 * detection runs over it, and the column identifying the patient (for per-patient date shifts). Immutable; built
 * once per result description and applied to every row of that result. It works on values, never on a
 * protocol's messages: {@code io.phigate.pg.masking} reads and writes PostgreSQL's rows around it.
 */
public final class MaskPlan {
    /** Nothing to mask: rows are streamed through untouched. */
    public static final MaskPlan PASS = new MaskPlan(new MaskOperator[0], new boolean[0], new ValueType[0], -1, "", false);
    /** Lineage unknown over PHI and no columns to go by: every value becomes NULL. */
    public static final MaskPlan NULL_ALL = new MaskPlan(new MaskOperator[0], new boolean[0], new ValueType[0], -1,
            "all columns(unknown lineage)=null", true);

    private final MaskOperator[] operators;
    private final boolean[] scrub;
    private final ValueType[] types;
    private final int subjectIndex;
    private final String summary;
    private final boolean passThrough;

    private final boolean nullAll;
    /** Per column, why every value of it comes out NULL (names and the rule, never a value); null for the others. */
    private String[] nulledBecause = new String[0];

    /**
     * {@code operators}, {@code scrub} and {@code types} are per column and owned by the plan from here on; an
     * operator null and scrub false passes the value as is. {@code subjectIndex} is the patient key column, -1
     * when no operator needs one.
     */
    public MaskPlan(MaskOperator[] operators, boolean[] scrub, ValueType[] types, int subjectIndex, String summary) {
        this(operators, scrub, types, subjectIndex, summary, false);
    }

    private MaskPlan(MaskOperator[] operators, boolean[] scrub, ValueType[] types, int subjectIndex, String summary,
                     boolean nullAll) {
        this.nullAll = nullAll;
        this.operators = operators;
        this.scrub = scrub;
        this.types = types;
        this.subjectIndex = subjectIndex;
        this.summary = summary;
        boolean pass = true;
        for (int i = 0; i < operators.length; i++) {
            pass &= operators[i] == null && !scrub[i];
        }
        this.passThrough = pass && !nullAll;
    }

    /**
     * This plan, saying for each column whose values the gateway replaces with NULL why (the column's sources, its
     * PHI type and the rule); the array is owned by the plan from here on.
     */
    public MaskPlan nulledBecause(String[] reasons) {
        MaskPlan p = new MaskPlan(operators, scrub, types, subjectIndex, summary, nullAll);
        p.nulledBecause = reasons;
        return p;
    }

    /** Why column {@code column}'s values all come out NULL, or null when they do not. */
    public String nulledBecause(int column) {
        return column < nulledBecause.length ? nulledBecause[column] : null;
    }

    /** How many columns have a {@link #nulledBecause} reason. */
    public boolean nullsAnyColumn() {
        for (String r : nulledBecause) {
            if (r != null) {
                return true;
            }
        }
        return false;
    }

    /** True when no column is masked or scanned, so rows can be streamed without being read. */
    public boolean passThrough() {
        return passThrough;
    }

    /**
     * What the audit record keeps: each PHI output column with its PHI type and operator, {@code none} for one
     * delivered as is because the role sees its type. Read back by {@code io.phigate.audit.MaskingSummary}.
     */
    public String summary() {
        return summary;
    }

    /** How many values a row of this plan has; a row with another count is masked entirely. */
    public int columns() {
        return operators.length;
    }

    /**
     * The type a column is described to the client as: a column whose operator cannot keep the declared type (a
     * redacted date becomes text) is re-described, so the client never reads a value of one type as another.
     */
    public int describedType(int column, int declaredType) {
        if (passThrough || column >= operators.length || operators[column] == null) {
            return declaredType;
        }
        return operators[column].describedType(declaredType);
    }

    /**
     * Masks one row's values in place (null: SQL NULL), each in the transfer format its column's {@link ValueType}
     * says; a row whose value count differs from the plan's goes all NULL, since the plan no longer says which
     * value is which. The row's patient key is read whatever its format, so a text row, a binary row and a COPY
     * row of the same patient get the same date shift.
     */
    public void maskRow(byte[][] values, Scrubber scrubber) {
        if (nullAll || values.length != operators.length) {
            Arrays.fill(values, null);
            return;
        }
        RowContext context = context(values);
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                if (operators[i] != null) {
                    values[i] = operators[i].apply(values[i], types[i], context);
                } else if (scrub[i]) {
                    values[i] = scrubber.scrubUtf8(values[i]);
                }
            }
        }
    }

    /**
     * The row's patient key in its text form whatever the transfer format, so that a date shift keyed on it is
     * the same for a text row, a binary row and a COPY row of the same patient.
     */
    private RowContext context(byte[][] values) {
        if (subjectIndex < 0 || values[subjectIndex] == null) {
            return RowContext.NONE;
        }
        byte[] key = values[subjectIndex];
        ValueType type = types[subjectIndex];
        if (type.binary()) {
            try {
                key = switch (WireValues.kind(type.oid())) {
                    case INTEGER -> WireValues.decimal(WireValues.readInteger(key, type));
                    case UUID -> {
                        byte[] raw = new byte[16];
                        WireValues.readUuid(key, type, raw);
                        yield WireValues.uuidText(raw);
                    }
                    default -> key; // text types: the binary form is the text
                };
            } catch (WireValues.Unreadable e) {
                return RowContext.NONE; // keyed on the day instead: consistent per date, never the value
            }
        }
        return new RowContext(key);
    }
}
