package io.phigate.mask;

/**
 * Masks one column value on the wire. Values arrive and leave in the column's transfer format (text, or the
 * type's binary form), so a client reading binary gets a valid binary value of the type it was told.
 * Implementations are immutable and thread-safe; the hot path should not allocate beyond the result.
 */
public interface MaskOperator {

    /**
     * The masked value, in the same format as {@code value}, or null for SQL NULL. Never returns the input
     * unchanged unless the operator is {@code none}. A value the operator cannot read (an unexpected text
     * shape, an unknown binary type) must come out masked more, never less: redacted or NULL.
     *
     * @param value   the value's bytes as the server sent them (never null: NULL stays NULL without a call)
     * @param type    the column's type as the server described it, and the format of this value
     * @param context per-row facts some operators need (the patient key for a consistent date shift)
     */
    byte[] apply(byte[] value, ValueType type, RowContext context);

    /**
     * The type OID the client is told for a column this operator masks: the declared type when the operator
     * keeps it valid, or {@code 25} (text) when the masked value is no longer of that type (a redacted date).
     */
    int describedType(int typeOid);

    /** The operator as the policy and the audit record name it. */
    OperatorSpec spec();

    /**
     * True when every value of a column of {@code typeOid} comes out SQL NULL (redact over a type that cannot hold
     * the tag, nullify): the gateway then tells the client why, since a NULL alone does not say it was masked.
     */
    default boolean nullsEvery(int typeOid) {
        return false;
    }

    /** A column's type and the transfer format of its values. */
    record ValueType(int oid, int modifier, boolean binary) {
    }

    /** Per-row context: the value of the row's patient key column, when the result carries one. */
    record RowContext(byte[] subjectKey) {
        public static final RowContext NONE = new RowContext(null);
    }
}
