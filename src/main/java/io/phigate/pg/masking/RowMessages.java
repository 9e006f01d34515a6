package io.phigate.pg.masking;

import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.MaskPlan;
import io.phigate.mask.ResultColumn;
import io.phigate.mask.Scrubber;
import io.phigate.pg.message.BackendMessage.RowDescription.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A masking plan meeting PostgreSQL's result messages: a RowDescription's fields become the protocol-neutral
 * columns a plan is made for, a DataRow body is masked value by value, and the fields are re-described where a
 * masked value no longer has its declared type. The plan itself never sees a message.
 */
public final class RowMessages {
    private RowMessages() {
    }

    /**
     * The columns of a result described by {@code fields}; {@code formats} are the transfer formats the client
     * asked for (Bind's result-format codes: none for all text, one for all, or one per column), or null to take
     * each field's own format code.
     */
    public static List<ResultColumn> columns(List<Field> fields, short[] formats) {
        List<ResultColumn> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            boolean binary = formats == null ? f.format() == 1 : format(formats, i) == 1;
            out.add(new ResultColumn(f.name(), f.tableOid(), f.columnNumber(),
                    new ValueType(f.typeOid(), f.typeModifier(), binary)));
        }
        return out;
    }

    /**
     * Masks one DataRow body (int16 count, then per value an int32 length, -1 for NULL, and its bytes) and returns
     * the new body. A row whose column count differs from the plan's is masked entirely (every value NULL).
     */
    public static byte[] maskDataRow(MaskPlan plan, byte[] body, Scrubber scrubber) {
        int n = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
        byte[][] values = new byte[n][];
        if (n == plan.columns()) {
            int pos = 2;
            for (int i = 0; i < n; i++) {
                int len = ((body[pos] & 0xff) << 24) | ((body[pos + 1] & 0xff) << 16)
                        | ((body[pos + 2] & 0xff) << 8) | (body[pos + 3] & 0xff);
                pos += 4;
                if (len >= 0) {
                    values[i] = Arrays.copyOfRange(body, pos, pos + len);
                    pos += len;
                }
            }
        } // else: the plan makes every value NULL, and the row's values need not be read
        plan.maskRow(values, scrubber);
        int size = 2;
        for (byte[] v : values) {
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
     * The fields as the client is told them (see {@link MaskPlan#describedType}); {@code fields} itself when
     * nothing changes, so the caller can forward the server's RowDescription as it came.
     */
    public static List<Field> describedFields(MaskPlan plan, List<Field> fields) {
        if (plan.passThrough() || fields.size() != plan.columns()) {
            return fields;
        }
        List<Field> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            int type = plan.describedType(i, f.typeOid());
            out.add(type == f.typeOid() ? f
                    : new Field(f.name(), f.tableOid(), f.columnNumber(), type, (short) -1, -1, f.format()));
        }
        return out;
    }

    private static short format(short[] formats, int i) {
        if (formats.length == 0) {
            return 0;
        }
        return formats.length == 1 ? formats[0] : i < formats.length ? formats[i] : 0;
    }
}
