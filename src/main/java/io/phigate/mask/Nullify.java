package io.phigate.mask;

/** {@code null}: every value becomes SQL NULL, valid for any type. */
final class Nullify implements MaskOperator {
    static final Nullify INSTANCE = new Nullify();

    private Nullify() {
    }

    @Override
    public byte[] apply(byte[] value, ValueType type, RowContext context) {
        return null;
    }

    @Override
    public boolean nullsEvery(int typeOid) {
        return true;
    }

    @Override
    public int describedType(int typeOid) {
        return typeOid;
    }

    @Override
    public OperatorSpec spec() {
        return OperatorSpec.NULL;
    }
}
