package io.phigate.mask;

import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.pg.message.BackendMessage.RowDescription.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How one result's rows are masked: per column, the operator to apply (null: passed as is), whether content
 * detection runs over it, and the column identifying the patient (for per-patient date shifts). Immutable; built
 * once per RowDescription and applied to every DataRow of that result.
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

    MaskPlan(MaskOperator[] operators, boolean[] scrub, ValueType[] types, int subjectIndex, String summary,
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

    /**
     * Masks one DataRow body (int16 count, then per value an int32 length, -1 for NULL, and its bytes). Returns
     * a new body; a row whose column count differs from the plan's is masked entirely (every value NULL), since
     * the plan no longer says which value is which.
     */
    public byte[] maskDataRow(byte[] body, Scrubber scrubber) {
        int n = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
        if (nullAll || n != operators.length) {
            return allNull(n);
        }
        byte[][] values = new byte[n][];
        int pos = 2;
        for (int i = 0; i < n; i++) {
            int len = ((body[pos] & 0xff) << 24) | ((body[pos + 1] & 0xff) << 16) | ((body[pos + 2] & 0xff) << 8)
                    | (body[pos + 3] & 0xff);
            pos += 4;
            if (len >= 0) {
                values[i] = Arrays.copyOfRange(body, pos, pos + len);
                pos += len;
            }
        }
        RowContext context = context(values);
        int size = 2;
        for (int i = 0; i < n; i++) {
            byte[] v = values[i];
            if (v != null) {
                if (operators[i] != null) {
                    v = operators[i].apply(v, types[i], context);
                } else if (scrub[i]) {
                    v = scrubber.scrubUtf8(v);
                }
                values[i] = v;
            }
            size += 4 + (v == null ? 0 : v.length);
        }
        byte[] out = new byte[size];
        out[0] = (byte) (n >>> 8);
        out[1] = (byte) n;
        int p = 2;
        for (byte[] v : values) {
            int len = v == null ? -1 : v.length;
            out[p] = (byte) (len >>> 24);
            out[p + 1] = (byte) (len >>> 16);
            out[p + 2] = (byte) (len >>> 8);
            out[p + 3] = (byte) len;
            p += 4;
            if (v != null) {
                System.arraycopy(v, 0, out, p, v.length);
                p += v.length;
            }
        }
        return out;
    }

    /**
     * The fields as the client is told them: a column whose operator cannot keep the declared type (a redacted
     * date becomes text) is re-described, so the client never reads a value of one type as another.
     */
    public List<Field> describedFields(List<Field> fields) {
        if (passThrough || fields.size() != operators.length) {
            return fields;
        }
        List<Field> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            int type = operators[i] == null ? f.typeOid() : operators[i].describedType(f.typeOid());
            out.add(type == f.typeOid() ? f
                    : new Field(f.name(), f.tableOid(), f.columnNumber(), type, (short) -1, -1, f.format()));
        }
        return out;
    }

    /**
     * Masks the text values of one COPY row in place (null: SQL NULL), as {@link #maskDataRow} masks a text
     * DataRow, the row's patient key included; a row whose field count differs from the plan's goes all NULL.
     */
    public void maskTextRow(byte[][] values, Scrubber scrubber) {
        if (nullAll || values.length != operators.length) {
            java.util.Arrays.fill(values, null);
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

    private static byte[] allNull(int n) {
        byte[] out = new byte[2 + 4 * n];
        out[0] = (byte) (n >>> 8);
        out[1] = (byte) n;
        Arrays.fill(out, 2, out.length, (byte) 0xff);
        return out;
    }
}
